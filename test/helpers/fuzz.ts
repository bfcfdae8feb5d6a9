/**
 * Shared pieces of the bounded fuzz suite (issue #12): seed, fast-check parameters, a real daemon (the CLI as a child
 * process, so a crash is seen as an exit and its RSS is its own), a raw-socket "is it still serving" check, checks
 * after a property (RSS bound, no connection left open, no internal error logged), and what an answer may look like
 * (a catalogued HTTP status, a valid close code, or a TCP close).
 *
 * Replay: each fuzz file prints `fuzz seed=N` when its first property starts; every property of the file uses it.
 *   FUZZ_SEED=N node scripts/run-tests.mjs fuzz          # the same cases again (all fuzz files, or name one file)
 *   FUZZ_SEED=N FUZZ_SHRINK=1 node scripts/run-tests.mjs fuzz/http   # and shrink a failure to a smaller case
 *   FUZZ_SCALE=10 node scripts/run-tests.mjs fuzz        # ten times the runs and time budget, for a longer hunt
 * A property stops at its time budget (fast-check's interruptAfterTimeLimit), so a slow machine runs a prefix of the
 * same sequence of cases: a failing case is still found again with its seed. Shrinking is off by default, because
 * once the daemon has died every smaller case fails too and shrinking would only hide the case that killed it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { REASONS } from '../../src/errors.js';
import { freePort, spawnDaemon, testCertificate, upgradeRequest, type Daemon } from './proxy.js';

let seed: number | undefined;

/** The seed of this test process: FUZZ_SEED, or a fresh one. Printed when first asked for. */
export function fuzzSeed(): number {
  if (seed !== undefined) return seed;
  const given = process.env['FUZZ_SEED'];
  seed = given !== undefined && /^-?\d+$/.test(given) ? Number(given) : (Math.random() * 2 ** 31) | 0;
  console.log(`fuzz seed=${seed} (replay: FUZZ_SEED=${seed} node scripts/run-tests.mjs fuzz)`);
  return seed;
}

const SCALE = Math.max(1, Number(process.env['FUZZ_SCALE'] ?? 1) || 1);

/** fast-check parameters: the shared seed, `numRuns` cases at most, stopping quietly after `budgetMs`. */
export function fuzzParams<T>(numRuns: number, budgetMs: number, caseMs = 8_000): fc.Parameters<T> {
  return {
    seed: fuzzSeed(),
    numRuns: numRuns * SCALE,
    interruptAfterTimeLimit: budgetMs * SCALE,
    markInterruptAsFailure: false,
    timeout: caseMs,
    endOnFailure: process.env['FUZZ_SHRINK'] !== '1',
    includeErrorInReport: true,
  };
}

/** A daemon under fuzz: the child process, where it listens, and its admin port (metrics). */
export interface FuzzDaemon extends Daemon {
  readonly pid: number;
  readonly adminPort: number;
}

/**
 * Starts the real CLI with the test certificate, a 1 s handshake deadline (slow clients end quickly), and low
 * connection caps: a slot that leaks shows up within a few dozen cases as a refused health check.
 */
export async function startFuzzDaemon(args: readonly string[]): Promise<FuzzDaemon> {
  const cert = await testCertificate();
  const adminPort = await freePort();
  const d = await spawnDaemon([
    ...['--cert', cert.file, '--handshake-timeout', '1', '--max-connections', '64', '--max-connections-per-ip', '32'],
    ...['--admin-listen', `127.0.0.1:${adminPort}`, ...args],
  ]);
  const pid = d.proc.pid;
  if (pid === undefined) throw new Error('daemon has no pid');
  return Object.assign(d, { pid, adminPort });
}

/** Polls the daemon's metrics until no connection and no session is open (nothing leaked); fails after 5 s. */
export async function assertNothingOpen(d: FuzzDaemon): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${d.adminPort}/metrics`)).text();
    const open = [...text.matchAll(/^wsproxy_(?:connections_open|sessions_active)(?:\{[^}]*\})? (\d+)$/gm)].map((m) =>
      Number(m[1]),
    );
    assert.ok(open.length >= 2, 'metrics without wsproxy_connections_open / wsproxy_sessions_active');
    if (open.every((n) => n === 0)) return;
    assert.ok(
      Date.now() < end,
      `connections or sessions still open: ${text
        .split('\n')
        .filter((l) => /^wsproxy_(connections_open|sessions_active)/.test(l))
        .join('; ')}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The daemon's resident memory in MiB (VmRSS of /proc/PID/status). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Fails if the daemon's RSS is at or above `limitMiB`. */
export function assertRssBelow(d: FuzzDaemon, limitMiB = 300): void {
  const rss = rssMiB(d.pid);
  assert.ok(rss < limitMiB, `daemon RSS ${rss.toFixed(0)} MiB is over ${limitMiB} MiB`);
}

/** A masked client frame (RFC 6455 §5.2); `len` overrides the length written in the header. */
export function clientFrame(
  opcode: number,
  payload: Buffer,
  o: { fin?: boolean; rsv?: number; mask?: boolean; len?: bigint } = {},
): Buffer {
  const len = o.len ?? BigInt(payload.length);
  const b0 = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f);
  const m = (o.mask ?? true) ? 0x80 : 0;
  let head: Buffer;
  if (len < 126n) head = Buffer.from([b0, m | Number(len)]);
  else if (len < 65536n) head = Buffer.from([b0, m | 126, Number(len) >> 8, Number(len) & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = m | 127;
    head.writeBigUInt64BE(len, 2);
  }
  if (!m) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  return Buffer.concat([head, key, Buffer.from(payload.map((x, i) => x ^ key[i % 4]!))]);
}

/** A frame the server sent. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Parses server frames (never masked, RFC 6455 §5.1); throws on anything a server must not send. */
export function parseServerFrames(all: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let i = 0;
  for (;;) {
    if (all.length - i < 2) break;
    const b0 = all[i]!;
    const b1 = all[i + 1]!;
    assert.equal(b0 & 0x70, 0, 'server frame with RSV bits');
    assert.equal(b1 & 0x80, 0, 'masked server frame');
    let len = b1 & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (all.length - i < 4) break;
      len = all.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (all.length - i < 10) break;
      len = Number(all.readBigUInt64BE(off));
      off += 8;
    }
    if (all.length < off + len) break;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: all.subarray(off, off + len) });
    i = off + len;
  }
  return { frames, rest: all.subarray(i) };
}

/** Close codes a server may send (RFC 6455 §7.4.1 and the IANA registry: 1004-1006 and 1015 never go on the wire). */
export function isValidSentCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Reads the bytes of a socket until it closes; rejects if it has not closed after `ms` (a hang). */
export function untilClosed(socket: Socket, ms: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(Buffer.alloc(0));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `connection still open after ${ms} ms (got ${Buffer.concat(chunks).subarray(0, 60).toString('latin1')})`,
        ),
      );
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Like {@link untilClosed}, but a 101 answer ends the wait as soon as its head is complete (the client then leaves). */
export function untilAnswered(socket: Socket, ms: number): Promise<Buffer> {
  let got = Buffer.alloc(0);
  const onData = (c: Buffer): void => {
    got = Buffer.concat([got, c]);
    if (got.subarray(0, 13).toString('latin1') === 'HTTP/1.1 101 ' && got.includes('\r\n\r\n')) socket.destroy();
  };
  socket.on('data', onData);
  return untilClosed(socket, ms).then(() => got);
}

/** Writes `chunks` with a short pause between them (the server sees the chosen boundaries as separate reads). */
export async function writeChunks(socket: Socket, chunks: readonly Buffer[], gapMs = 2): Promise<void> {
  for (const [i, c] of chunks.entries()) {
    if (socket.destroyed) return;
    socket.write(c);
    if (i < chunks.length - 1) await new Promise((r) => setTimeout(r, gapMs));
  }
}

/** Cuts `data` at the given fractions (0..1) into consecutive pieces. */
export function cutAt(data: Buffer, fractions: readonly number[]): Buffer[] {
  const cuts = [...new Set(fractions.map((f) => Math.floor(f * data.length)))]
    .filter((c) => c > 0 && c < data.length)
    .sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, data.length]) {
    out.push(data.subarray(from, c));
    from = c;
  }
  return out.filter((b) => b.length > 0);
}

/** A connected raw socket, or TLS trusting `tlsCa` (errors swallowed: the test judges by what it reads). */
export async function rawConnect(port: number, tlsCa?: string): Promise<Socket> {
  const socket =
    tlsCa === undefined
      ? connect(port, '127.0.0.1')
      : tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: tlsCa });
  socket.on('error', () => {});
  await once(socket, tlsCa === undefined ? 'connect' : 'secureConnect');
  return socket;
}

/**
 * Upgrades a raw socket (TLS if `tlsCa` is given; after `prefix`, e.g. a PROXY header) on `path`, with `pipelined`
 * bytes (frames) in the same write; resolves the socket and the bytes after the 101 head, or rejects with the head the
 * server answered instead.
 */
export async function rawUpgrade(
  port: number,
  path = '/',
  prefix: Buffer = Buffer.alloc(0),
  pipelined: Buffer = Buffer.alloc(0),
  host?: string,
  tlsCa?: string,
): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = await rawConnect(port, tlsCa);
  socket.write(Buffer.concat([prefix, Buffer.from(upgradeRequest(path, {}, host), 'latin1'), pipelined]));
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('no answer to the upgrade in 5 s'), 5_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(why));
    };
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      clearTimeout(timer);
      if (!buf.subarray(0, 13).toString('latin1').startsWith('HTTP/1.1 101'))
        return fail(`upgrade refused: ${buf.subarray(0, end).toString('latin1')}`);
      socket.pause();
      resolve({ socket, rest: buf.subarray(end + 4) });
    };
    const onClose = (): void => fail(`closed during the upgrade: ${buf.toString('latin1').slice(0, 80)}`);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * The daemon is alive and serving: it has not exited, and a fresh session on `path` (after `prefix`, with `host`)
 * echoes a binary message through the echo target.
 */
export async function assertServing(d: FuzzDaemon, path = '/', prefix?: Buffer, host?: string): Promise<void> {
  assert.equal(d.proc.exitCode, null, `daemon exited with ${d.proc.exitCode}: ${d.stderr().slice(-2000)}`);
  assert.equal(d.proc.signalCode, null, `daemon killed by ${d.proc.signalCode}`);
  const { socket, rest } = await rawUpgrade(d.port, path, prefix, undefined, host);
  const message = Buffer.from(`alive ${Date.now()}`);
  socket.write(clientFrame(2, message));
  let got = rest;
  socket.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
  socket.resume();
  const end = Date.now() + 5_000;
  let echoed = Buffer.alloc(0);
  while (!echoed.equals(message)) {
    assert.ok(Date.now() < end, `no echo from a fresh session (got ${got.length} bytes)`);
    await new Promise((r) => setTimeout(r, 5));
    echoed = Buffer.concat(
      parseServerFrames(got)
        .frames.filter((f) => f.opcode === 2 || f.opcode === 0)
        .map((f) => f.payload),
    );
  }
  socket.destroy();
}

/** What a connection got back, judged. */
export type Answer =
  { kind: 'tcp-close' } | { kind: 'tls' } | { kind: 'http'; status: number; reason: string | undefined; head: string };

/**
 * Judges the first bytes a server sent on a connection: nothing (a TCP close), a TLS record, or an HTTP
 * response whose status line is well formed and whose refusal (4xx/5xx) names a catalogued reason with that status.
 */
export function judgeAnswer(bytes: Buffer): Answer {
  if (bytes.length === 0) return { kind: 'tcp-close' };
  // A TLS alert or handshake record (the client spoke TLS, or enough of it).
  if (bytes[0] === 0x15 || bytes[0] === 0x16) return { kind: 'tls' };
  // An interim 100 Continue (the client sent Expect: 100-continue) comes before the answer itself.
  const text = bytes.toString('latin1').replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
  if (text === '') return { kind: 'tcp-close' };
  const m = /^HTTP\/1\.1 ([1-5]\d\d) [^\r\n]*\r\n/.exec(text);
  assert.ok(m, `not an HTTP status line: ${JSON.stringify(text.slice(0, 80))}`);
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(m[1]);
  const reason = /^x-wsproxy-reason: *([A-Z_0-9]+)/im.exec(head)?.[1];
  // Every refusal is wsproxy's own, with its reason; the one exception is a static file's plain 404.
  if (status >= 400 && status !== 404)
    assert.ok(reason !== undefined, `refusal without X-Wsproxy-Reason: ${head.slice(0, 300)}`);
  if (reason !== undefined) {
    const entry = (REASONS as Record<string, { status?: number }>)[reason];
    assert.ok(entry, `reason ${reason} is not in the catalogue`);
    assert.equal(entry.status, status, `reason ${reason} answered with ${status}`);
  }
  return { kind: 'http', status, reason, head };
}

/** Fails on a status that says the daemon broke rather than refused: 500 (an uncaught throw) or one not expected. */
export function assertStatusIn(answer: Answer, allowed: ReadonlySet<number>, context: string): void {
  if (answer.kind !== 'http') return;
  assert.ok(
    allowed.has(answer.status),
    `${context}: status ${answer.status} not in [${[...allowed].join(',')}]: ${answer.head.slice(0, 200)}`,
  );
}

/** Lines of the daemon's log that say a handler failed or the process hit an internal error (should never appear). */
export function internalErrors(d: FuzzDaemon): string[] {
  return d
    .stderr()
    .split('\n')
    .filter((l) => /INTERNAL_ERROR|handler failed|internal error|uncaught/i.test(l));
}

/** After a property: no internal error was logged, nothing is left open, and RSS is under `limitMiB`. */
export async function assertHealthyAfter(d: FuzzDaemon, limitMiB = 300): Promise<void> {
  assert.deepEqual(internalErrors(d), []);
  await assertNothingOpen(d);
  assertRssBelow(d, limitMiB);
}

export { fc };
