#!/usr/bin/env node
// Generates the tables of docs/options.md (from the yargs OPTIONS in src/cli.ts) and docs/errors.md (from REASONS and
// RELOAD_REASONS in src/errors.ts), reading the compiled modules in dist/src (run `npm run build` first). Only the
// parts between `<!-- generated:NAME -->` and `<!-- /generated -->` are rewritten; the prose around them is
// hand-written. `npm run docs` writes the files; `--check` only compares and exits 1 naming each stale file, so a
// test keeps the committed docs current. `--docs DIR` reads and writes DIR instead of docs/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const load = (file) => import(pathToFileURL(join(root, 'dist', 'src', file)).href);

/** Markdown table cell: `|` escaped, no line breaks. */
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;

/**
 * What the OPTIONS table has no field for yet, kept from the README's hand-written flag table: the argument's
 * placeholder, the default when OPTIONS has none (it is computed in config.ts), the longer explanation, and how the
 * option differs from websockify. The option-table redesign (issue #13, item 1) moves these into OPTIONS itself.
 */
const NOTES = {
  cert: {
    arg: 'FILE',
    def: '`self.pem`',
    detail: 'TLS certificate chain in PEM; may also hold the key',
    websockify: 'same',
  },
  key: {
    arg: 'FILE',
    def: 'none',
    detail: 'private key, if not inside `--cert`',
    websockify: 'same',
  },
  'key-password': {
    arg: 'PASS',
    def: 'none',
    detail: 'passphrase of an encrypted key; never logged',
    websockify: 'same',
  },
  'ssl-only': {
    def: 'off',
    detail: 'refuse plain `ws://` and `http://` clients (closed without an answer)',
    websockify: 'same',
  },
  'state-dir': {
    arg: 'DIR',
    def: '`$XDG_STATE_HOME/wsproxy`',
    detail: 'where the generated certificate is kept (no `--cert` and no `self.pem`)',
    websockify: 'new',
  },
  'verify-client': {
    arg: '[MODE]',
    def: '`off`',
    detail:
      'client certificates: `off`, `optional` (handshake without one; the upgrade needs a verified one → 403), `required` (refused at the handshake; plain `http://` requests get 403 too); a bare flag means `required`',
    websockify: 'websockify has only required; plain `ws://` is refused too (see next rows)',
  },
  cafile: {
    arg: 'FILE',
    def: 'system CAs',
    detail: 'PEM CA certificate(s) client certificates must chain to',
    websockify: 'same; reloaded on change',
  },
  crl: {
    arg: 'FILE',
    def: 'none',
    detail: 'PEM revocation list for client certificates; reloaded on change',
    websockify: 'new',
  },
  'verify-depth': {
    arg: 'N',
    def: 'unlimited',
    detail: 'most intermediate CAs between a client certificate and the trusted CA',
    websockify: 'new',
  },
  'allow-plain-with-verify-client': {
    def: 'off',
    detail:
      'let plain `ws://` upgrades (and, with `required`, plain `http://` requests) through although `--verify-client` is on',
    websockify: 'websockify always lets them through',
  },
  'client-cert-allow': {
    arg: "'PATTERN …'",
    def: 'any verified',
    detail:
      'only certificates whose CN or a SAN matches one of the space/comma-separated patterns (`*.example.com` = one label) may upgrade; others 403',
    websockify: 'new',
  },
  'tls-profile': {
    arg: 'NAME',
    def: '`intermediate`',
    detail: 'Mozilla profile: `intermediate` (TLS 1.2 ECDHE+AEAD, TLS 1.3) or `modern` (TLS 1.3 only)',
    websockify: 'new',
  },
  'ssl-version': {
    arg: 'VER',
    def: '`default`',
    detail: "lowest TLS version: `default` (the profile's), `tlsv1_1` (warns), `tlsv1_2`, `tlsv1_3`",
    websockify: 'same names; default is TLS 1.2',
  },
  'ssl-ciphers': {
    arg: 'LIST',
    def: 'profile',
    detail: 'OpenSSL cipher list for TLS 1.2',
    websockify: 'same; TLS 1.3 suites go in `--tls13-ciphers`',
  },
  'tls13-ciphers': {
    arg: 'LIST',
    def: "OpenSSL's 3 AEADs",
    detail: 'TLS 1.3 suites (`TLS_AES_128_GCM_SHA256:…`)',
    websockify: 'new',
  },
  'ecdh-curve': {
    arg: 'LIST',
    def: '`X25519MLKEM768:X25519:P-256:P-384`',
    detail: 'key-exchange groups, filtered to what the linked OpenSSL supports',
    websockify: 'new',
  },
  dhparam: {
    arg: 'FILE',
    def: 'none',
    detail: 'PEM DH parameters; enables DHE suites (none without it)',
    websockify: 'new',
  },
  chain: {
    arg: 'FILE',
    def: 'none',
    detail: 'PEM intermediate certificates sent after `--cert` (or put them into the `--cert` file)',
    websockify: 'new',
  },
  hsts: {
    arg: 'SEC',
    def: '`0` (off)',
    detail: '`Strict-Transport-Security: max-age=SEC` on https responses; only with a CA-trusted certificate',
    websockify: 'new',
  },
  'session-tickets': {
    def: 'on',
    detail: 'TLS session tickets, keys rotated every `--session-ticket-rotate` and on every reload',
    websockify: "new (websockify: OpenSSL's default, never rotated)",
  },
  'session-ticket-rotate': {
    arg: 'SEC',
    def: '`86400`',
    detail: 'seconds between ticket key rotations',
    websockify: 'new',
  },
  'watch-certs': {
    def: 'on',
    detail: 'reload certificate, key, chain, CA, CRL and DH files when they change; SIGHUP always reloads',
    websockify: 'websockify reads the files per connection',
  },
  web: {
    arg: 'DIR',
    def: 'none',
    detail:
      'serve files from DIR (GET/HEAD), `index.html` for directories; no Content-Security-Policy unless `--web-csp`',
    websockify:
      'no listings, no dotfiles, no redirects, symlinks cannot leave DIR; secrets in DIR are never served (see [With noVNC](web.md#with-novnc))',
  },
  'web-csp': {
    arg: 'POLICY',
    def: 'none',
    detail:
      '`Content-Security-Policy` header for `--web` files (`"default-src \'self\'"`); the built-in pages always have their own strict one',
    websockify: 'new',
  },
  'file-only': {
    def: 'off',
    detail: 'accepted for compatibility',
    websockify: 'listings are always off',
  },
  'allow-origin': {
    arg: 'ORIGINS',
    def: 'none',
    detail:
      "extra page origins allowed to open a WebSocket (`scheme://host[:port]`, `null`, or `*`), several space-separated in one value (`'https://a.example https://b.example'`)",
    websockify: 'websockify checks Origin only with the `ExpectOrigin` plugin',
  },
  'max-message-size': {
    arg: 'SIZE',
    def: '`16MiB`',
    detail:
      'largest client message; a larger one closes the session with 1009, checked on the frame header; must be above 0 (there must be a bound)',
    websockify: 'websockify has no limit',
  },
  'max-buffered-total': {
    arg: 'SIZE',
    def: '`64MiB`, at least `--max-message-size`',
    detail:
      "bytes of unfinished client messages (a frame still arriving, fragments without their FIN frame) all sessions may hold together; the session whose data would pass it is closed with 1009 (`MESSAGE_BUFFER_FULL`), the others go on. 64 MiB holds four largest messages at the default `--max-message-size`, while noVNC's own messages are a few bytes; a given value below `--max-message-size` is refused; 0 = no limit",
    websockify: 'websockify has no bound: each session may hold one message of any size',
  },
  'high-water-mark': {
    arg: 'SIZE',
    def: '`64KiB`',
    detail:
      'bytes buffered towards one side before the other side is paused; above 64 KiB it is also the largest read from a plain target (fewer, larger messages: less CPU per byte for bulk transfers, up to about three marks held by a paused session)',
    websockify: 'websockify has no backpressure',
  },
  'connect-timeout': {
    arg: 'SEC',
    def: '`10`',
    detail:
      'time to connect the target (all resolved addresses) before answering 504; above 0 (a silent target would hold the handshake forever)',
    websockify: 'websockify uses the OS default and only the first address',
  },
  'handshake-timeout': {
    arg: 'SEC',
    def: '`10`',
    detail:
      'one deadline for first byte + TLS handshake + request headers; also the headers of each later request on a kept-alive connection (a whole request, body included, has 300 s or this, whichever is longer); above 0 (an idle client would hold its slot forever)',
    websockify: 'websockify: 3 s for the first byte only',
  },
  'max-connections': {
    arg: 'N',
    def: '`10000`',
    detail: 'open client connections; extra ones are closed and counted (`0` = no limit)',
    websockify: 'new',
  },
  'max-connections-per-ip': {
    arg: 'N',
    def: '`256`',
    detail:
      'open connections per client address: IPv6 per /64, IPv4-mapped IPv6 as IPv4, behind `--trust-forwarded` the forwarded client (`0` = no limit)',
    websockify: 'new',
  },
  'shutdown-timeout': {
    arg: 'SEC',
    def: '`10`',
    detail:
      'once sessions are sent 1001 (SIGINT at once, SIGTERM after `--drain-timeout`), how long their close may take before they are cut (`0` = cut at once)',
    websockify: 'new',
  },
  'token-plugin': {
    arg: 'NAME',
    def: 'none',
    detail:
      "choose the target per connection by token: `TokenFile`, `ReadOnlyTokenFile`, `TokenFileName`, `UnixDomainSocketDirectory`, `BaseTokenAPI`, `JSONTokenApi`, `JWTTokenApi`, `TokenRedis` (websockify's names, also as `websockify.token_plugins.X`)",
    websockify: 'contained, time-limited, cached; see [tokens](tokens.md)',
  },
  'token-source': {
    arg: 'ARG',
    def: 'none',
    detail:
      "the plugin's source: a file or directory of `token: host:port` lines; for `TokenFileName` a directory of files named by token",
    websockify: 'same format',
  },
  'token-jwt-audience': {
    arg: 'AUD',
    def: 'none',
    detail: 'JWTTokenApi: the `aud` claim must include AUD',
    websockify: 'new',
  },
  'token-jwt-issuer': {
    arg: 'ISS',
    def: 'none',
    detail: 'JWTTokenApi: the `iss` claim must be ISS',
    websockify: 'new',
  },
  'token-jwt-allow-no-exp': {
    def: 'off',
    detail:
      'JWTTokenApi: accept tokens without an `exp` claim (they never expire); without it such tokens are refused like invalid ones',
    websockify: 'websockify accepts them',
  },
  'token-hash-key-file': {
    arg: 'FILE',
    def: 'made in the state dir',
    detail:
      'FILE holds the secret that keys `token_hash` (at least 16 characters, e.g. `openssl rand -hex 32`); give every node of a fleet the same file so hashes match; without it `<state dir>/token-hash.key` is made (0600) on first use and kept',
    websockify: 'new',
  },
  'target-config': {
    arg: 'FILE',
    def: 'none',
    detail: 'deprecated: `--token-plugin TokenFile --token-source FILE`',
    websockify: 'same',
  },
  'host-token': {
    def: 'off',
    detail: 'the token is the `Host` header without its port',
    websockify: 'works with `[v6]:port` hosts',
  },
  'token-from-path': {
    def: 'off',
    detail: 'the token is the last path segment (`/vnc/TOKEN`)',
    websockify: 'new',
  },
  'auth-plugin': {
    arg: 'NAME',
    def: 'none',
    detail:
      'authorise each WebSocket: `BasicHTTPAuth` (`--auth-source user:password`), `ExpectOrigin` (`--auth-source "https://a.example https://b.example"`), `ClientCertCNAuth` (`--auth-source "alice bob"`, the verified client certificate\'s CN), or the path of your own ES module (`./auth.mjs`)',
    websockify: 'constant-time compare; a malformed header gets 403 instead of a silent close',
  },
  'auth-source': {
    arg: 'ARG',
    def: 'none',
    detail: "the auth plugin's argument (never logged)",
    websockify: 'same',
  },
  'web-auth': {
    def: 'off',
    detail: 'require the auth plugin for pages and files too',
    websockify: 'also protects the built-in page (websockify needs `--web`)',
  },
  record: {
    arg: 'FILE',
    def: 'none',
    detail:
      "record each session to `FILE.<n>` in noVNC's playback format, and its facts (client, target, token hash, identity, client certificate) to `FILE.<n>.json`. If the disk falls more than 16 MiB behind a session (beyond room for one `--max-message-size` message), that session's recording is dropped: one warning (`RECORDING_DROPPED`), the file ends with `'EOF'];` where it got to, and the session goes on unrecorded",
    websockify: 'an existing file is never overwritten; websockify keeps no facts and blocks on a slow disk',
  },
  'run-once': {
    def: 'off',
    detail:
      'handle one WebSocket session, then exit: once it opens the port is closed and upgrades on connections already open get 503 `RUN_ONCE_BUSY`; a handshake refused before its session opened does not use it up',
    websockify: 'same (websockify handles one connection)',
  },
  timeout: {
    arg: 'SEC',
    def: '`0` (never)',
    detail: 'stop accepting SEC seconds after start; exit when the sessions have ended',
    websockify: 'same',
  },
  'idle-timeout': {
    arg: 'SEC',
    def: '`0` (never)',
    detail: 'exit after SEC seconds without any session',
    websockify: 'same',
  },
  'unix-listen': {
    arg: 'FILE',
    def: 'none',
    detail:
      'listen on a unix socket instead of TCP (no source_port then); a stale socket file is replaced, any other file is refused',
    websockify: 'websockify unlinks whatever is there',
  },
  'unix-listen-mode': {
    arg: 'MODE',
    def: '`600`',
    detail: 'octal mode of that socket',
    websockify: 'same',
  },
  'unix-target': {
    arg: 'FILE',
    def: 'none',
    detail: 'relay to a unix socket (same as the target `unix:/path`)',
    websockify: 'same',
  },
  inetd: {
    def: 'off',
    detail: 'the listening socket is file descriptor 0 (no source_port then)',
    websockify: 'IPv6 sockets work too',
  },
  'prefer-ipv6': {
    def: 'off',
    detail: 'when the listen host name resolves to both families, use its IPv6 address',
    websockify: 'a bare port is already dual-stack',
  },
  workers: {
    arg: 'N|auto',
    def: '`1`',
    detail:
      'serve the port with N processes (`node:cluster`); `auto` = one per core; a worker that dies is replaced; SIGTERM/SIGHUP reach every worker (a reload is logged once, by the primary)',
    websockify:
      'websockify forks a process per connection; limits (`--max-connections*`) count per worker; not with `--inetd`, `--unix-listen`, `--run-once`, `--timeout`, `--idle-timeout`, `--admin-listen` (metrics are per process; scale with more instances instead)',
  },
  'text-frames': {
    arg: 'reject|binary',
    def: '`reject`',
    detail: 'text frames close with 1003, or (`binary`) their UTF-8 bytes are relayed',
    websockify: 'websockify can only reject (#365)',
  },
  traffic: {
    def: 'off',
    detail: 'a character per frame on stdout: `{` target read, `<` client write, `}` client read, `>` target write',
    websockify: 'same legend',
  },
  'log-file': {
    arg: 'FILE',
    def: 'none',
    detail: 'also append log lines to FILE (created 0600)',
    websockify: 'same',
  },
  libserver: {
    def: 'off',
    detail: 'accepted and ignored, with a notice',
    websockify: 'websockify drops tokens and auth with it',
  },
  heartbeat: {
    arg: 'SEC',
    def: '`0` (off)',
    detail: 'ping each client every SEC seconds; a client that has not answered by the next ping is cut',
    websockify: 'websockify ignores the pongs',
  },
  'http-upstream': {
    arg: 'URL',
    def: 'none',
    detail:
      'reverse-proxy ordinary HTTP requests wsproxy does not answer itself to an `http://` or `https://` URL (optional path prefix); see [One port for an app and its tunnel](web.md#one-port-for-an-app-and-its-tunnel)',
    websockify: 'new',
  },
  'upstream-underscore-headers': {
    def: 'off',
    detail:
      'pass request headers whose names contain `_` on to `--http-upstream` (dropped by default, as nginx does); forged forwarding and client-certificate headers are dropped either way',
    websockify: 'new',
  },
  demo: {
    def: 'off',
    detail: 'relay to a built-in echo service; make a self-signed certificate if none exists',
    websockify: 'new',
  },
  verbose: {
    def: 'off',
    detail: 'debug logging: every handshake failure with its reason code',
    websockify: 'same flag',
  },
  'log-format': {
    arg: 'auto|text|json',
    def: '`auto`',
    detail: 'log line format; `auto` is text when stderr is a terminal, JSON otherwise (journald, Docker, Kubernetes)',
    websockify: 'new',
  },
  'log-level': {
    arg: 'LEVEL',
    def: '`info` (`debug` with `-v`)',
    detail: '`debug`, `info`, `warn` or `error`',
    websockify: 'new',
  },
  'admin-listen': {
    arg: 'ADDR',
    def: 'none',
    detail:
      'admin listener apart from the public port: `host:port`, `[v6]:port`, a port alone (loopback) or `unix:/path` (mode 0600); serves `/metrics`, `/healthz`, `/readyz`, `/sessions` — see [operations](operations.md#admin-listener)',
    websockify: 'new',
  },
  'admin-token-file': {
    arg: 'FILE',
    def: 'none',
    detail:
      'FILE holds a bearer token that every admin route but `/healthz` and `/readyz` requires (never a command-line value, never logged); required when `--admin-listen` is not loopback or a unix socket',
    websockify: 'new',
  },
  'drain-timeout': {
    arg: 'SEC',
    def: '`30`',
    detail:
      'SIGTERM: stop accepting, `/readyz` answers 503, live sessions may go on for SEC seconds, then they are closed with 1001 (then `--shutdown-timeout` applies; `0` = close at once)',
    websockify: 'websockify closes at once',
  },
  config: {
    arg: 'FILE',
    def: 'none',
    detail:
      'read options from a YAML or JSON file whose keys are the flag names (`listen:` and `target:` for the positionals); also `WSPROXY_CONFIG`; read again on SIGHUP',
    websockify: 'new; precedence flags > `WSPROXY_*` > file > defaults',
  },
  'proxy-protocol-in': {
    def: 'off',
    detail:
      'every connection starts with a PROXY protocol v1 or v2 header from a `--trusted-proxy` balancer; others are closed',
    websockify: 'websockify has none (#334)',
  },
  'trusted-proxy': {
    arg: 'CIDRS',
    def: 'none',
    detail:
      "balancers and reverse proxies allowed to state the client address, space-separated (`'10.0.0.0/8 fd00::/8'`)",
    websockify: 'new',
  },
  'trust-forwarded': {
    def: 'off',
    detail:
      'take the client address from `Forwarded` / `X-Forwarded-For` sent by a trusted proxy (rightmost untrusted)',
    websockify: 'websockify ignores them (#334)',
  },
  'proxy-protocol-out': {
    arg: 'v1|v2',
    def: 'none',
    detail:
      'send the real client address to the target before any relayed byte (`JSONTokenApi` may override per token)',
    websockify: 'websockify cannot (#630)',
  },
  'max-sessions-per-token': {
    arg: 'N',
    def: '`0` (no limit)',
    detail: 'live sessions per token, in this process (across the fleet with TokenRedis); more get 429',
    websockify: 'new (OSSN-0008)',
  },
  'rate-limit': {
    arg: 'RATE',
    def: 'none',
    detail:
      'WebSocket handshakes per client address (`10/s`, `600/min`; N at once, then the rate); more get 429 + `Retry-After` (`0` = no limit)',
    websockify: 'new',
  },
  'auth-failure-limit': {
    arg: 'RATE',
    def: '`10/min`',
    detail:
      'unknown tokens and failed logins per client address (IPv6 per /64); beyond it token and auth checks get 429 `AUTH_RATE_LIMITED` + `Retry-After` until the bucket refills (`0` = no limit)',
    websockify: 'new (brute-force guard)',
  },
  'allow-target': {
    arg: 'RANGES',
    def: 'none',
    detail:
      "only these target ranges, checked after DNS: `CIDR[:ports]`, space-separated (`'10.0.0.0/8:5900-5999 192.0.2.7:22'`); link-local/metadata refused unless listed",
    websockify: 'websockify connects anywhere',
  },
  'allowed-host': {
    arg: 'NAMES',
    def: 'automatic',
    detail:
      "only these `Host` names on pages and upgrades; others get 421 (DNS rebinding). Without it: IP literals, `localhost`, the listen host, this machine's names and the certificate's DNS names; `any` turns the check off",
    websockify: 'new',
  },
  'revalidate-interval': {
    arg: 'SEC',
    def: '`0` (off)',
    detail: "re-resolve every live session's token every SEC seconds; a revoked one closes with 1008",
    websockify: 'websockify keeps revoked sessions (#229)',
  },
  'wrap-mode': {
    arg: 'exit|ignore|respawn',
    def: '`exit`',
    detail:
      'what to do when the program after `--` exits: exit (with its status), keep running, or start it again (at most 3 starts per 10 s on average)',
    websockify: 'same modes and throttle',
  },
  'wrap-target': {
    arg: 'HOST:PORT',
    def: 'none',
    detail: 'where the program after `--` listens; every session is relayed there (required with `--`)',
    websockify: "websockify moves the program's port with an `LD_PRELOAD` library instead",
  },
  daemon: {
    def: 'off',
    detail: 'detach into the background once listening; output to /dev/null, or to `--log-file`',
    websockify: 'the command returns only when the daemon listens, and fails with its error otherwise',
  },
  'pid-file': {
    arg: 'FILE',
    def: 'none',
    detail:
      'write the process id to FILE (atomically), remove it on exit; refuse to start if it names a running process',
    websockify: 'new (websockify has no pid file)',
  },
  syslog: {
    arg: 'HOST:PORT|PATH',
    def: 'none',
    detail:
      'also send every log line to syslog: UDP to HOST:PORT, or a unix socket such as `/dev/log` (RFC 5424; facility user, daemon with `-D`)',
    websockify: 'never fatal: an unusable destination is one warning',
  },
  'legacy-syslog': {
    def: 'off',
    detail: 'BSD syslog format (RFC 3164) for `--syslog`',
    websockify: 'same',
  },
  help: {
    def: '',
    detail: 'show the help',
    websockify: '',
  },
  version: {
    def: '',
    detail: 'print the version',
    websockify: '',
  },
  'generate-certs': {
    def: 'off',
    detail: 'same as `wsproxy cert init`',
    websockify: "butterfly's flag; websockify has none",
  },
  'generate-user-pkcs': {
    arg: 'NAME',
    def: 'none',
    detail: 'same as `wsproxy cert user NAME`',
    websockify: "butterfly's flag; a password is required",
  },
  host: {
    arg: 'NAME…',
    def: "this machine's names",
    detail: "`cert init`: host names and IP addresses for the server certificate's SAN",
    websockify: 'new',
  },
  days: {
    arg: 'N',
    def: '`365`',
    detail: "`cert init`/`cert user`: validity (server at most 825, Apple's limit)",
    websockify: 'new',
  },
  'cert-dir': {
    arg: 'DIR',
    def: '`<state dir>/ca`',
    detail: '`cert …`: the CA directory (refused inside `--web`)',
    websockify: 'new',
  },
  'p12-password-file': {
    arg: 'FILE',
    def: 'none',
    detail: '`cert user`: the `.p12` password is the first line of FILE (else `$WSPROXY_P12_PASSWORD`, else a prompt)',
    websockify: 'new',
  },
  'p12-compat': {
    def: 'off',
    detail: '`cert user`: 3DES/SHA-1 `.p12` for macOS Keychain instead of AES-256/SHA-256 (never RC2)',
    websockify: 'new',
  },
  'ssl-target': {
    def: 'off',
    detail:
      'connect to the target with TLS; its certificate and host name are verified (system CAs unless `--target-ca`)',
    websockify: 'websockify verifies against system CAs only, with no way to trust a private CA (#506)',
  },
  'target-ca': {
    arg: 'FILE',
    def: 'system CAs',
    detail: 'PEM CA certificate(s) to trust for the target instead of the system store',
    websockify: 'new',
  },
  'target-servername': {
    arg: 'NAME',
    def: 'the target host',
    detail: "SNI and the name the target's certificate must carry",
    websockify: 'new',
  },
  'target-verify': {
    arg: 'required|none',
    def: '`required`',
    detail: '`none` skips verification of the target (warned at start)',
    websockify: 'new',
  },
  'target-cert': {
    arg: 'FILE',
    def: 'none',
    detail: 'PEM client certificate (and key) wsproxy presents to the target',
    websockify: 'new',
  },
  'target-key': {
    arg: 'FILE',
    def: 'none',
    detail: 'key of `--target-cert`, if not inside it',
    websockify: 'new',
  },
};

/** Hand-written remarks on reason codes that the catalogue text (sent to clients) leaves out. */
const REASON_NOTES = {
  TARGET_TLS_UNKNOWN_CA: 'with `--ssl-target`; give `--target-ca`',
  TARGET_TLS_NAME_MISMATCH: 'give `--target-servername`',
  TARGET_TLS_FAILED: 'e.g. the target wants a client certificate: `--target-cert`',
  INTERNAL_ERROR: 'after the upgrade the session is closed with 1011',
  OPEN_RELAY: 'start-up warning, also given by `wsproxy check`',
  WEB_SECRET_HIDDEN: 'start-up warning',
};
const RELOAD_NOTES = {
  TOKEN_SOURCE_UNUSABLE: 'a new Redis gets `--connect-timeout`, at most 5 s, to connect',
  RELOAD_UNAVAILABLE: 'each worker has 30 s to answer',
};

function formatDefault(name, spec) {
  const value = spec.default;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return NOTES[name]?.def ?? 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return `\`${String(value)}\``;
}

function formatFlag(name, spec, envName) {
  const arg = NOTES[name]?.arg;
  const forms = [`\`--${name}${arg ? ` ${arg}` : ''}\``];
  if (spec.type === 'boolean' && spec.default === true) forms.push(`\`--no-${name}\``);
  if ('alias' in spec) forms.push(spec.alias.length === 1 ? `\`-${spec.alias}\`` : `\`--${spec.alias}\``);
  const env = name === 'help' || name === 'version' ? '' : `<br>\`${envName(name)}\``;
  return forms.join(', ') + env;
}

/** The words of a text, for telling whether the detail says more than the help line. */
const words = (text) =>
  String(text)
    .toLowerCase()
    .match(/[a-z0-9]{4,}/g) ?? [];

/** The README's longer text, unless every word of it is already in the help line. */
function detailOf(name, spec) {
  const detail = NOTES[name]?.detail ?? '';
  const help = new Set(words(spec.describe));
  return words(detail).every((w) => help.has(w)) ? '' : detail;
}

async function optionTables() {
  const { OPTIONS } = await load('cli.js');
  const { envName } = await load('cli-sources.js');
  const groups = new Map();
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const group = spec.group.replace(/:$/, '');
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push([name, spec]);
  }
  const out = [];
  for (const [group, options] of groups) {
    out.push(
      `### ${group}`,
      '',
      row(['Option', 'Default', 'Meaning (`--help`)', 'In detail', 'Differs from websockify']),
    );
    out.push('|---|---|---|---|---|');
    for (const [name, spec] of options) {
      const note = NOTES[name] ?? {};
      out.push(
        row([
          formatFlag(name, spec, envName),
          formatDefault(name, spec),
          spec.describe,
          detailOf(name, spec),
          note.websockify ?? '',
        ]),
      );
    }
    out.push('');
  }
  return out.join('\n');
}

async function reasonTable() {
  const { REASONS } = await load('errors.js');
  const out = [
    row(['Code', 'HTTP status', 'Close code', 'Text (sent to the client, logged)', 'Note']),
    '|---|---|---|---|---|',
  ];
  for (const [code, entry] of Object.entries(REASONS)) {
    out.push(row([`\`${code}\``, entry.status ?? '—', entry.closeCode ?? '—', entry.text, REASON_NOTES[code] ?? '']));
  }
  return out.join('\n') + '\n';
}

async function reloadTable() {
  const { RELOAD_REASONS } = await load('errors.js');
  const out = [row(['Code', 'Meaning', 'Note']), '|---|---|---|'];
  for (const [code, text] of Object.entries(RELOAD_REASONS))
    out.push(row([`\`${code}\``, text, RELOAD_NOTES[code] ?? '']));
  return out.join('\n') + '\n';
}

/** Replaces the body of each `<!-- generated:NAME -->` block of `text` with `parts[NAME]`. */
export function fill(text, parts, file) {
  return text.replace(/(<!-- generated:([a-z-]+) -->\n)[\s\S]*?(<!-- \/generated -->)/g, (_, open, name, close) => {
    if (!(name in parts)) throw new Error(`${file}: unknown generated block '${name}'`);
    return `${open}${parts[name]}${close}`;
  });
}

/** The generated docs: file name → [committed text, text it should have]. */
export async function renderDocs(dir) {
  const blocks = {
    'options.md': { options: await optionTables() },
    'errors.md': { reasons: await reasonTable(), 'reload-reasons': await reloadTable() },
  };
  const result = new Map();
  for (const [file, parts] of Object.entries(blocks)) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    for (const name of Object.keys(parts)) {
      if (!text.includes(`<!-- generated:${name} -->`))
        throw new Error(`${path}: the <!-- generated:${name} --> block is missing`);
    }
    result.set(path, [text, fill(text, parts, path)]);
  }
  return result;
}

async function main(argv) {
  const at = argv.indexOf('--docs');
  const dir = at >= 0 ? argv[at + 1] : join(root, 'docs');
  const stale = [];
  for (const [path, [now, want]] of await renderDocs(dir)) {
    if (now === want) continue;
    if (argv.includes('--check')) stale.push(path);
    else writeFileSync(path, want);
  }
  if (stale.length > 0) {
    console.error(
      `gen-docs: ${stale.join(', ')} not current; run 'npm run build && npm run docs' and commit the result`,
    );
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`gen-docs: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
}
