/*
 * wsproxy bench load generator: a small C client so the bench measures the relay, not the client. Node's `ws`
 * client spends a core masking and framing at a few hundred MB/s; on a 2-core machine that CPU is taken from the
 * relay under test. This client speaks raw TCP, TLS (OpenSSL), WebSocket (RFC 6455, masked client frames) or
 * WebSocket over TLS with blocking sockets, one thread per stream, and prints one JSON line with its figures.
 *
 *   loadgen target [--port P]      (the bench target, see below)
 *   loadgen up|down|rtt|rate --port P [--ws] [--tls --ca FILE] [--bytes N] [--msg N] [--streams K]
 *                              [--count N] [--concurrency C]
 *
 *   up     'S' + u64 n, then n bytes in --msg messages; done when the target's 8-byte count arrives.  → {"mbps"}
 *   down   'R' + u64 n; done when n bytes have arrived.                                               → {"mbps"}
 *   rtt    'E', then --count 32-byte round trips after 200 warm-up.                                  → {"p50","p99"} µs
 *   rate   --count connections, --concurrency at a time: connect, handshake(s), 'E' + 32 bytes, read 32, close.
 *                                                                                                    → {"rate"} /s
 * up/down with --streams K run K connections at once, each moving n/K bytes; the figure is the aggregate.
 *
 * Build: cc -O2 -o loadgen bench/loadgen.c -lssl -lcrypto -lpthread   (bench.ts does this on first use)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int opt_port, opt_ws, opt_tls, opt_streams = 1, opt_count = 2000, opt_concurrency = 8;
static const char *opt_ca;
static uint64_t opt_bytes = 256ull << 20;
static size_t opt_msg = 64 * 1024;
static SSL_CTX *ssl_ctx;

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, errno ? strerror(errno) : "failed");
  ERR_print_errors_fp(stderr);
  exit(1);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* ---------- one connection: TCP, optionally TLS, optionally WebSocket ---------- */
typedef struct {
  int fd;
  SSL *ssl;
  uint32_t rng;
  /* receive buffer and WebSocket frame parser state */
  unsigned char *in;
  size_t in_len, in_pos;
  uint64_t frame_left; /* payload bytes of the current frame not yet consumed */
  int frame_opcode;
  /* send buffer: header + masked payload in one write */
  unsigned char *out;
  size_t out_cap;
} conn_t;

#define IN_CAP (256 * 1024)

static ssize_t raw_write(conn_t *c, const void *buf, size_t len) {
  if (c->ssl) {
    int n = SSL_write(c->ssl, buf, (int)len);
    return n > 0 ? n : -1;
  }
  return write(c->fd, buf, len);
}

static ssize_t raw_read(conn_t *c, void *buf, size_t len) {
  if (c->ssl) {
    int n = SSL_read(c->ssl, buf, (int)len);
    return n > 0 ? n : (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
  }
  return read(c->fd, buf, len);
}

static void write_all(conn_t *c, const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = raw_write(c, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    buf += n;
    len -= (size_t)n;
  }
}

/* Refills the input buffer; returns 0 at EOF. */
static int fill(conn_t *c) {
  if (c->in_pos == c->in_len) c->in_pos = c->in_len = 0;
  if (c->in_len == IN_CAP) { /* compact */
    memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
    c->in_len -= c->in_pos;
    c->in_pos = 0;
  }
  for (;;) {
    ssize_t n = raw_read(c, c->in + c->in_len, IN_CAP - c->in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    c->in_len += (size_t)n;
    return n > 0;
  }
}

static uint32_t xorshift(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x ? x : 0x9e3779b9u;
}

/* Sends one message: as it is (raw) or as one masked binary WebSocket frame (opcode 2, or `opcode`). */
static void send_msg_op(conn_t *c, const unsigned char *data, size_t len, int opcode) {
  if (!opt_ws) {
    write_all(c, data, len);
    return;
  }
  size_t need = len + 14;
  if (need > c->out_cap) {
    c->out = realloc(c->out, need);
    c->out_cap = need;
    if (!c->out) die("realloc");
  }
  unsigned char *h = c->out;
  size_t hl = 2;
  h[0] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    h[1] = (unsigned char)(0x80 | len);
  } else if (len < 65536) {
    h[1] = 0x80 | 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    hl = 4;
  } else {
    h[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    hl = 10;
  }
  uint32_t key = xorshift(&c->rng);
  unsigned char k[4];
  memcpy(k, &key, 4);
  memcpy(h + hl, k, 4);
  hl += 4;
  unsigned char *p = h + hl;
  /* Mask 8 bytes at a time (the compiler vectorises this loop), then the tail. */
  uint64_t k8;
  memcpy(&k8, k, 4);
  memcpy((unsigned char *)&k8 + 4, k, 4);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, data + i, 8);
    w ^= k8;
    memcpy(p + i, &w, 8);
  }
  for (; i < len; i++) p[i] = data[i] ^ k[i & 3];
  write_all(c, h, hl + len);
}

static void send_msg(conn_t *c, const unsigned char *data, size_t len) { send_msg_op(c, data, len, 2); }

/*
 * Receives payload bytes: up to `max` are consumed (and copied to `dst` when given). Control frames are handled
 * here (ping → pong). Returns the number consumed, 0 at EOF or close frame.
 */
static size_t recv_payload(conn_t *c, unsigned char *dst, size_t max) {
  for (;;) {
    if (!opt_ws) {
      if (c->in_pos == c->in_len && !fill(c)) return 0;
      size_t n = c->in_len - c->in_pos;
      if (n > max) n = max;
      if (dst) memcpy(dst, c->in + c->in_pos, n);
      c->in_pos += n;
      return n;
    }
    if (c->frame_left > 0) {
      if (c->in_pos == c->in_len && !fill(c)) return 0;
      size_t n = c->in_len - c->in_pos;
      if (n > c->frame_left) n = (size_t)c->frame_left;
      if (c->frame_opcode == 9 || c->frame_opcode == 8) {
        /* control frame payloads are small (≤ 125): gather them whole */
        while (c->in_len - c->in_pos < c->frame_left) {
          if (!fill(c)) return 0;
        }
        if (c->frame_opcode == 9) send_msg_op(c, c->in + c->in_pos, (size_t)c->frame_left, 10);
        c->in_pos += (size_t)c->frame_left;
        c->frame_left = 0;
        if (c->frame_opcode == 8) return 0;
        continue;
      }
      if (c->frame_opcode == 10) { /* pong: skip */
        c->in_pos += n;
        c->frame_left -= n;
        continue;
      }
      if (n > max) n = max;
      if (dst) memcpy(dst, c->in + c->in_pos, n);
      c->in_pos += n;
      c->frame_left -= n;
      return n;
    }
    /* next frame header: server frames are unmasked */
    while (c->in_len - c->in_pos < 2) {
      if (!fill(c)) return 0;
    }
    unsigned char *h = c->in + c->in_pos;
    size_t need = 2;
    uint64_t len = h[1] & 0x7f;
    if (len == 126) need = 4;
    if (len == 127) need = 10;
    while (c->in_len - c->in_pos < need) {
      if (!fill(c)) return 0;
      h = c->in + c->in_pos;
    }
    if (len == 126) len = ((uint64_t)h[2] << 8) | h[3];
    if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
    }
    c->frame_opcode = h[0] & 0x0f;
    c->in_pos += need;
    c->frame_left = len;
    if (len == 0 && c->frame_opcode == 8) return 0;
  }
}

static void recv_exact(conn_t *c, unsigned char *dst, size_t n) {
  while (n > 0) {
    size_t got = recv_payload(c, dst, n);
    if (got == 0) die("connection closed early");
    if (dst) dst += got;
    n -= got;
  }
}

static void conn_open(conn_t *c) {
  memset(c, 0, sizeof *c);
  c->rng = (uint32_t)(now_us()) ^ (uint32_t)(uintptr_t)c;
  c->in = malloc(IN_CAP);
  if (!c->in) die("malloc");
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  if (opt_tls) {
    c->ssl = SSL_new(ssl_ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) die("TLS handshake");
  }
  if (opt_ws) {
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     opt_port);
    write_all(c, (unsigned char *)req, (size_t)n);
    /* read the response head; bytes after it stay in the buffer for the frame parser */
    for (;;) {
      if (!fill(c)) die("handshake: connection closed");
      unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
      if (end) {
        if (c->in_len < 12 || memcmp(c->in + 9, "101", 3) != 0) {
          errno = 0;
          die("handshake: no 101 Switching Protocols");
        }
        c->in_pos = (size_t)(end + 4 - c->in);
        break;
      }
    }
  }
}

static void conn_close(conn_t *c) {
  if (c->ssl) SSL_free(c->ssl);
  close(c->fd);
  free(c->in);
  free(c->out);
}

/* ---------- measurements ---------- */
static unsigned char *payload;

/* Opens a connection and asks the target for a mode with its 9-byte header: mode + u64 n. */
static void open_mode(conn_t *c, char mode, uint64_t n) {
  unsigned char h[9];
  h[0] = (unsigned char)mode;
  for (int i = 0; i < 8; i++) h[1 + i] = (unsigned char)(n >> (56 - 8 * i));
  conn_open(c);
  send_msg(c, h, 9);
}

static void *bulk_up(void *arg) {
  uint64_t bytes = *(uint64_t *)arg;
  conn_t c;
  open_mode(&c, 'S', bytes);
  for (uint64_t sent = 0; sent < bytes;) {
    size_t n = bytes - sent < opt_msg ? (size_t)(bytes - sent) : opt_msg;
    send_msg(&c, payload, n);
    sent += n;
  }
  unsigned char ack[8];
  recv_exact(&c, ack, 8);
  conn_close(&c);
  return NULL;
}

static void *bulk_down(void *arg) {
  uint64_t bytes = *(uint64_t *)arg;
  conn_t c;
  open_mode(&c, 'R', bytes);
  for (uint64_t got = 0; got < bytes;) {
    size_t n = recv_payload(&c, NULL, bytes - got < IN_CAP ? (size_t)(bytes - got) : IN_CAP);
    if (n == 0) die("connection closed early");
    got += n;
  }
  conn_close(&c);
  return NULL;
}

static double run_streams(void *(*fn)(void *)) {
  uint64_t each = opt_bytes / (uint64_t)opt_streams;
  pthread_t t[64];
  double t0 = now_us();
  for (int i = 0; i < opt_streams; i++) pthread_create(&t[i], NULL, fn, &each);
  for (int i = 0; i < opt_streams; i++) pthread_join(t[i], NULL);
  return (double)(each * (uint64_t)opt_streams) / (now_us() - t0); /* bytes/µs = MB/s */
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void rtt(void) {
  conn_t c;
  conn_open(&c);
  send_msg(&c, (const unsigned char *)"E", 1);
  unsigned char msg[32], back[32];
  memset(msg, 1, sizeof msg);
  const int warm = 200;
  double *times = calloc((size_t)opt_count, sizeof *times);
  for (int i = 0; i < warm + opt_count; i++) {
    double t0 = now_us();
    send_msg(&c, msg, sizeof msg);
    recv_exact(&c, back, sizeof back);
    if (i >= warm) times[i - warm] = now_us() - t0;
  }
  conn_close(&c);
  qsort(times, (size_t)opt_count, sizeof *times, cmp_double);
  printf("{\"p50\":%.1f,\"p99\":%.1f}\n", times[opt_count / 2], times[opt_count * 99 / 100]);
}

static int rate_left;
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

static void *rate_worker(void *arg) {
  (void)arg;
  unsigned char msg[33], back[32];
  msg[0] = 'E';
  memset(msg + 1, 2, 32);
  for (;;) {
    pthread_mutex_lock(&rate_lock);
    int mine = rate_left-- > 0;
    pthread_mutex_unlock(&rate_lock);
    if (!mine) return NULL;
    conn_t c;
    conn_open(&c);
    send_msg(&c, msg, sizeof msg);
    recv_exact(&c, back, sizeof back);
    conn_close(&c);
  }
}

static void rate(void) {
  rate_left = opt_count;
  pthread_t t[256];
  int n = opt_concurrency > 256 ? 256 : opt_concurrency;
  double t0 = now_us();
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, rate_worker, NULL);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  printf("{\"rate\":%.1f}\n", opt_count / ((now_us() - t0) / 1e6));
}


/* ---------- the target: one epoll loop, modes picked by the first byte ---------- */
/*
 *   'S' + u64 n  sink: read n bytes, then answer the u64 count (client→target throughput)
 *   'R' + u64 n  source: write n bytes, then shut down its side (target→client throughput)
 *   'E'          echo (round trips, connection rate, idle connections)
 *   'F'          flood: write as fast as the peer takes it (slow-reader test); counted
 *   'Q'          control: answers the u64 bytes flooded since the last query, and resets the count
 * Prints {"port":P} once listening. It runs in its own process, in C, so the target is never what limits a relay.
 */
#include <fcntl.h>
#include <sys/epoll.h>

typedef struct {
  int fd;
  char mode;           /* 0 until the first byte */
  unsigned char hdr[9];
  int hdr_len;
  uint64_t n, done;    /* sink/source: bytes wanted / moved */
  unsigned char *pend; /* echo: bytes read but not yet written back */
  size_t pend_len, pend_off;
} tconn_t;

static uint64_t flooded;
static unsigned char tbuf[256 * 1024];

static void tclose(int ep, tconn_t *t) {
  epoll_ctl(ep, EPOLL_CTL_DEL, t->fd, NULL);
  close(t->fd);
  free(t->pend);
  free(t);
}

static void want(int ep, tconn_t *t, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = t};
  epoll_ctl(ep, EPOLL_CTL_MOD, t->fd, &ev);
}

/* Writes what the socket takes: returns 1 when everything asked went out, 0 when it would block, -1 on error. */
static int push(tconn_t *t, const unsigned char *buf, size_t len, size_t *wrote) {
  *wrote = 0;
  while (*wrote < len) {
    ssize_t n = send(t->fd, buf + *wrote, len - *wrote, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n < 0) return -1;
    *wrote += (size_t)n;
  }
  return 1;
}

/* Source and flood: write until the socket is full (then wait for EPOLLOUT) or the source is done. */
static int pump_out(int ep, tconn_t *t) {
  for (;;) {
    size_t len = sizeof tbuf, wrote;
    if (t->mode == 'R') {
      if (t->done >= t->n) {
        shutdown(t->fd, SHUT_WR);
        want(ep, t, EPOLLIN);
        return 0;
      }
      if (t->n - t->done < len) len = (size_t)(t->n - t->done);
    }
    int r = push(t, tbuf, len, &wrote);
    t->done += wrote;
    if (t->mode == 'F') flooded += wrote;
    if (r < 0) return -1;
    if (r == 0) {
      want(ep, t, EPOLLIN | EPOLLOUT);
      return 0;
    }
  }
}

/* Echo: write back what is pending; stop reading while the peer does not take it (backpressure). */
static int echo_flush(int ep, tconn_t *t) {
  size_t wrote;
  int r = push(t, t->pend + t->pend_off, t->pend_len - t->pend_off, &wrote);
  t->pend_off += wrote;
  if (r < 0) return -1;
  if (r == 0) {
    want(ep, t, EPOLLOUT);
    return 0;
  }
  t->pend_len = t->pend_off = 0;
  want(ep, t, EPOLLIN);
  return 0;
}

static int echo_data(int ep, tconn_t *t, const unsigned char *data, size_t len) {
  if (len == 0) return 0;
  t->pend = realloc(t->pend, len);
  memcpy(t->pend, data, len);
  t->pend_len = len;
  t->pend_off = 0;
  return echo_flush(ep, t);
}

/* Bytes arrived on a connection; returns -1 to close it. */
static int tdata(int ep, tconn_t *t, unsigned char *data, size_t len) {
  if (t->mode == 0) {
    t->mode = (char)data[0];
    if (t->mode == 'Q') {
      unsigned char out[8];
      for (int i = 0; i < 8; i++) out[i] = (unsigned char)(flooded >> (56 - 8 * i));
      flooded = 0;
      size_t wrote;
      push(t, out, 8, &wrote);
      return -1;
    }
    if (t->mode == 'E') return echo_data(ep, t, data + 1, len - 1);
    if (t->mode == 'F') return pump_out(ep, t);
  }
  if (t->mode == 'E') return echo_data(ep, t, data, len);
  if (t->mode == 'F') return 0; /* discard what the client sends */
  /* 'S' and 'R' need their 9-byte header first */
  size_t used = 0;
  while (t->hdr_len < 9 && used < len) t->hdr[t->hdr_len++] = data[used++];
  if (t->hdr_len < 9) return 0;
  if (t->n == 0 && t->done == 0) {
    for (int i = 1; i < 9; i++) t->n = (t->n << 8) | t->hdr[i];
    if (t->mode == 'R') return pump_out(ep, t);
    if (t->mode != 'S') return -1;
    if (used == len && t->n > 0) return 0;
  }
  if (t->mode == 'S') {
    uint64_t before = t->done;
    t->done += len - used;
    if (before < t->n && t->done >= t->n) {
      unsigned char out[8];
      for (int i = 0; i < 8; i++) out[i] = (unsigned char)(t->done >> (56 - 8 * i));
      size_t wrote;
      if (push(t, out, 8, &wrote) != 1) return -1;
    }
  }
  return 0;
}

static void target(void) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) die("listen");
  getsockname(lfd, (struct sockaddr *)&a, &al);
  printf("{\"port\":%d}\n", ntohs(a.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      tconn_t *t = evs[i].data.ptr;
      if (!t) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          tconn_t *c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      int rc = 0;
      if (evs[i].events & EPOLLOUT) rc = t->mode == 'E' ? echo_flush(ep, t) : pump_out(ep, t);
      if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !(t->mode == 'E' && t->pend_len)) {
        ssize_t r = recv(t->fd, tbuf, sizeof tbuf, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        rc = r <= 0 ? -1 : tdata(ep, t, tbuf, (size_t)r);
      }
      if (rc < 0) tclose(ep, t);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: loadgen up|down|rtt|rate --port P [--ws] [--tls --ca FILE] [--bytes N] [--msg N] "
                    "[--streams K] [--count N] [--concurrency C]\n");
    return 2;
  }
  const char *mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--ws")) opt_ws = 1;
    else if (!strcmp(a, "--tls")) opt_tls = 1;
    else if (!strcmp(a, "--port")) opt_port = atoi(v), i++;
    else if (!strcmp(a, "--ca")) opt_ca = v, i++;
    else if (!strcmp(a, "--bytes")) opt_bytes = strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--msg")) opt_msg = strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--streams")) opt_streams = atoi(v), i++;
    else if (!strcmp(a, "--count")) opt_count = atoi(v), i++;
    else if (!strcmp(a, "--concurrency")) opt_concurrency = atoi(v), i++;
    else {
      fprintf(stderr, "loadgen: unknown option %s\n", a);
      return 2;
    }
  }
  if (!strcmp(mode, "target")) {
    signal(SIGPIPE, SIG_IGN);
    target();
    return 0;
  }
  if (opt_port <= 0 || opt_streams < 1 || opt_streams > 64 || opt_msg < 1 || opt_count < 1) {
    fprintf(stderr, "loadgen: --port is required; --streams 1..64; --msg, --count ≥ 1\n");
    return 2;
  }
  if (opt_tls) {
    ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!ssl_ctx) die("SSL_CTX_new");
    /* The certificate is checked against the bench's own CA, like any real client would. */
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
    if (!opt_ca || SSL_CTX_load_verify_locations(ssl_ctx, opt_ca, NULL) != 1) die("--ca");
  }
  payload = malloc(opt_msg);
  if (!payload) die("malloc");
  memset(payload, 0xa5, opt_msg);
  if (!strcmp(mode, "up")) printf("{\"mbps\":%.1f}\n", run_streams(bulk_up));
  else if (!strcmp(mode, "down")) printf("{\"mbps\":%.1f}\n", run_streams(bulk_down));
  else if (!strcmp(mode, "rtt")) rtt();
  else if (!strcmp(mode, "rate")) rate();
  else {
    fprintf(stderr, "loadgen: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
