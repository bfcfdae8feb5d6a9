/**
 * wsproxy bench: throughput, latency, connection rate, idle memory and the slow-reader bound, for wsproxy and two
 * reference relays (socat with a 256 KiB buffer = the raw TCP limit; a minimal Node pipe relay) in front of the same
 * target, plus a "direct" row (no relay) that shows whether the load generator is the bottleneck. Everything in one
 * run, repetitions in rotating order; prints medians with min–max and ratios to socat, and writes JSON. Bulk, round
 * trips and connection rate are driven by a small C client (bench/loadgen.c, built on first use) so the client's
 * own cost does not eat the CPU the relays need; idle connections and the slow reader use Node's ws client.
 *
 *   npm run bench -- [--reps 5] [--bytes 1073741824] [--idle 1000,5000,9000] [--slow-seconds 10]
 *                    [--conns 600] [--only bulk,rtt,rate,idle,slow,workers] [--json FILE]
 *
 * Figures are for comparing within one run on one machine; they never go into tests.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { makeSelfSignedPem } from '../src/certs/self-signed.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');

// ---------- options ----------
function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const REPS = Number(option('reps', '5'));
const BYTES = Number(option('bytes', String(1024 * 1024 * 1024)));
const IDLE = option('idle', '1000,5000,9000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const ONLY = new Set(option('only', 'bulk,rtt,rate,idle,slow,workers').split(','));
const JSON_OUT = option('json', join(tmpdir(), `wsproxy-bench-${Date.now()}.json`));
const MSG = 64 * 1024;
const SLOW_SECONDS = Number(option('slow-seconds', '10'));
const CONNS = Number(option('conns', '600'));

// ---------- processes under test ----------
interface Relay {
  readonly name: string;
  readonly tls: boolean;
  /** 'ws' clients speak WebSocket to it; 'raw' clients plain TCP (or TLS). */
  readonly protocol: 'ws' | 'raw';
  readonly port: number;
  readonly pid: number | undefined;
  stop(): void;
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  return port;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`port ${port} never opened`);
}

async function forkWithPort(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = (await once(child, 'message')) as [{ port?: number; error?: string }];
  if (!msg.port) throw new Error(`${script}: ${msg.error ?? 'no port'}`);
  return { child, port: msg.port };
}

/** The target (loadgen.c's epoll server): C, in its own process, so it never limits a relay. */
async function startTarget(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(LOADGEN, ['target'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout.setEncoding('utf8'), 'data')) as [string];
  const port = (JSON.parse(line) as { port: number }).port;
  return { child, port };
}

async function startSocat(targetPort: number, certFile: string | undefined): Promise<Relay> {
  const port = await freePort();
  const listen = certFile
    ? `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${certFile},verify=0`
    : `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`;
  const child = spawn('socat', ['-b', '262144', listen, `TCP:127.0.0.1:${targetPort},nodelay`], { stdio: 'ignore' });
  await waitPort(port);
  return {
    name: certFile ? 'socat (TLS)' : 'socat',
    tls: !!certFile,
    protocol: 'raw',
    port,
    pid: child.pid,
    stop: () => child.kill(),
  };
}

async function startNodeRelay(targetPort: number, certFile: string | undefined, ws = false): Promise<Relay> {
  const { child, port } = await forkWithPort(join(DIST, 'bench', 'node-relay.js'), [
    String(targetPort),
    ...(certFile ? [certFile] : []),
    ...(ws ? ['--ws'] : []),
  ]);
  const name = `${ws ? 'ws minimal' : 'node pipe'}${certFile ? ' (TLS)' : ''}`;
  return { name, tls: !!certFile, protocol: ws ? 'ws' : 'raw', port, pid: child.pid, stop: () => child.kill() };
}

async function startWsproxy(
  targetPort: number,
  certFile: string,
  workers = 0,
  highWaterMark?: string,
): Promise<{ plain: Relay; tls: Relay }> {
  const extra = [
    ...(workers > 0 ? ['--workers', String(workers)] : []),
    ...(highWaterMark ? ['--high-water-mark', highWaterMark] : []),
  ];
  const suffix = highWaterMark ? ` (${highWaterMark})` : '';
  const child = spawn(
    process.execPath,
    [
      join(DIST, 'src', 'main.js'),
      ...extra,
      '--log-format',
      'text',
      '--cert',
      certFile,
      '--max-connections-per-ip',
      '100000',
      '--max-connections',
      '100000',
      '127.0.0.1:0',
      `127.0.0.1:${targetPort}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (s: string) => {
      log += s;
      const m = /listening address=\S*:(\d+)/.exec(log);
      if (m?.[1]) resolve(Number(m[1]));
      if (log.length > 100_000) log = log.slice(-10_000);
    });
    child.once('exit', (code) => reject(new Error(`wsproxy exited ${code}: ${log}`)));
  });
  // SIGTERM lets a --workers primary take its workers down with it; a plain wsproxy stops at once (no sessions).
  const stop = (): void => void child.kill(workers > 0 ? 'SIGTERM' : 'SIGKILL');
  return {
    plain: {
      name: workers > 0 ? `wsproxy ws:// ×${workers}` : `wsproxy ws://${suffix}`,
      tls: false,
      protocol: 'ws',
      port,
      pid: child.pid,
      stop,
    },
    tls: { name: `wsproxy wss://${suffix}`, tls: true, protocol: 'ws', port, pid: child.pid, stop: () => {} },
  };
}

// ---------- a client connection, raw or WebSocket ----------
interface Conn {
  send(buf: Buffer): Promise<void>;
  /** Called with every chunk/message received. */
  onData(cb: (b: Buffer) => void): void;
  pause(): void;
  resume(): void;
  close(): void;
  closed: Promise<void>;
}

let CA = '';

async function open(relay: Relay): Promise<Conn> {
  if (relay.protocol === 'ws') {
    const ws = new WebSocket(`${relay.tls ? 'wss' : 'ws'}://127.0.0.1:${relay.port}/`, {
      ca: CA,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    ws.on('error', () => {});
    return {
      send: (buf) =>
        new Promise<void>((resolve) => {
          // Keep the client's own queue short so the relay, not the client buffer, is measured.
          ws.send(buf, { binary: true }, () => resolve());
        }),
      onData: (cb) => ws.on('message', (d: Buffer) => cb(d)),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      close: () => ws.terminate(),
      closed,
    };
  }
  const socket: Socket = relay.tls
    ? tlsConnect({ host: '127.0.0.1', port: relay.port, ca: CA, servername: 'localhost' })
    : netConnect({ host: '127.0.0.1', port: relay.port, noDelay: true });
  await once(socket, relay.tls ? 'secureConnect' : 'connect');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    // Resolves when the bytes are handed to the kernel (the write callback), like the ws client's send callback.
    send: (buf) => new Promise<void>((resolve) => void socket.write(buf, () => resolve())),
    onData: (cb) => socket.on('data', cb),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.destroy(),
    closed,
  };
}

// ---------- measurements through the C load generator (bulk, round trips, connection rate) ----------
let LOADGEN = '';
let CA_FILE = '';

/** Compiles bench/loadgen.c once (again when the source is newer). Needs a C compiler and OpenSSL headers. */
function buildLoadgen(): string {
  const source = join(ROOT, 'bench', 'loadgen.c');
  const binary = join(DIST, 'bench', 'loadgen');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  const cc = process.env['CC'] ?? 'cc';
  const r = spawnSync(cc, ['-O2', '-o', binary, source, '-lssl', '-lcrypto', '-lpthread'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `cannot build the load generator with ${cc} (apt-get install gcc libssl-dev): ${r.error?.message ?? r.stderr}`,
    );
  }
  return binary;
}

function loadgenArgs(relay: Relay): string[] {
  return [
    '--port',
    String(relay.port),
    ...(relay.protocol === 'ws' ? ['--ws'] : []),
    ...(relay.tls ? ['--tls', '--ca', CA_FILE] : []),
  ];
}

/** Runs the load generator and returns the JSON line it prints. */
async function loadgen<T>(mode: string, relay: Relay, extra: string[]): Promise<T> {
  const child = spawn(LOADGEN, [mode, ...loadgenArgs(relay), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`loadgen ${mode} against ${relay.name} failed (${code}): ${err.trim()}`);
  return JSON.parse(out) as T;
}

async function bulkUp(relay: Relay, streams = 1): Promise<number> {
  return (
    await loadgen<{ mbps: number }>('up', relay, [
      '--bytes',
      String(BYTES),
      '--msg',
      String(MSG),
      '--streams',
      String(streams),
    ])
  ).mbps;
}

async function bulkDown(relay: Relay, streams = 1): Promise<number> {
  return (await loadgen<{ mbps: number }>('down', relay, ['--bytes', String(BYTES), '--streams', String(streams)]))
    .mbps;
}

async function roundTrips(relay: Relay): Promise<{ p50: number; p99: number }> {
  return loadgen('rtt', relay, ['--count', '2000']);
}

async function connectionRate(relay: Relay, total = CONNS, concurrency = 8): Promise<number> {
  return (
    await loadgen<{ rate: number }>('rate', relay, ['--count', String(total), '--concurrency', String(concurrency)])
  ).rate;
}

function memoryOf(pid: number): { rss: number; pss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss') };
}

async function idleMemory(
  relay: Relay,
  count: number,
): Promise<{ rssPerConn: number; pssPerConn: number; held: number }> {
  if (relay.pid === undefined) throw new Error('no pid');
  await new Promise((r) => setTimeout(r, 300));
  const before = memoryOf(relay.pid);
  const conns: Conn[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(relay)));
    for (const c of batch) void c.send(Buffer.from('E'));
    conns.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const after = memoryOf(relay.pid);
  for (const c of conns) c.close();
  await Promise.all(conns.map((c) => c.closed));
  await new Promise((r) => setTimeout(r, 500));
  return {
    rssPerConn: (after.rss - before.rss) / count,
    pssPerConn: (after.pss - before.pss) / count,
    held: conns.length,
  };
}

/** Bytes the target flooded since the last query (the target's 'Q' control connection; asking resets the count). */
async function floodedSinceLastAsk(targetPort: number): Promise<number> {
  const s = netConnect({ host: '127.0.0.1', port: targetPort });
  const chunks: Buffer[] = [];
  s.on('data', (b: Buffer) => chunks.push(b));
  s.write('Q');
  await once(s, 'close');
  return Number(Buffer.concat(chunks).readBigUInt64BE(0));
}

async function slowReader(
  relay: Relay,
  targetPort: number,
  seconds = SLOW_SECONDS,
): Promise<{ growthBytes: number; targetWrote: number; clientRead: number }> {
  if (relay.pid === undefined) throw new Error('no pid');
  await floodedSinceLastAsk(targetPort);
  await new Promise((r) => setTimeout(r, 300));
  const before = memoryOf(relay.pid);
  const c = await open(relay);
  let read = 0;
  const rate = 256 * 1024;
  const t0 = performance.now();
  c.onData((b) => {
    read += b.length;
    const allowed = (rate * (performance.now() - t0)) / 1000;
    if (read > allowed) {
      c.pause();
      setTimeout(() => c.resume(), Math.ceil(((read - allowed) / rate) * 1000));
    }
  });
  await c.send(Buffer.from('F'));
  let peak = before.rss;
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    peak = Math.max(peak, memoryOf(relay.pid).rss);
  }
  const floodWritten = await floodedSinceLastAsk(targetPort);
  c.close();
  await new Promise((r) => setTimeout(r, 300));
  return { growthBytes: peak - before.rss, targetWrote: floodWritten, clientRead: read };
}

// ---------- statistics and output ----------
interface Stat {
  median: number;
  min: number;
  max: number;
}
function stat(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)] ?? NaN, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function table(
  title: string,
  unit: string,
  rows: { name: string; s: Stat }[],
  reference: string | undefined,
  higherIsBetter: boolean,
  digits = 0,
): void {
  const ref = rows.find((r) => r.name === reference)?.s.median;
  console.log(`\n${title} (${unit}, median of ${REPS}, min–max${ref !== undefined ? `, ratio to ${reference}` : ''})`);
  for (const r of rows) {
    const ratio = ref ? (higherIsBetter ? r.s.median / ref : r.s.median / ref) : NaN;
    console.log(
      `  ${r.name.padEnd(22)} ${fmt(r.s.median, digits).padStart(10)}   ${`${fmt(r.s.min, digits)}–${fmt(r.s.max, digits)}`.padEnd(22)} ${ref ? `${fmt(ratio, 2)}×` : ''}`,
    );
  }
}

function rotate<T>(list: T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

// ---------- main ----------
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-bench-'));
  CA = await makeSelfSignedPem({ dns: ['localhost'], ips: ['127.0.0.1'] }, 2);
  const certFile = join(dir, 'self.pem');
  writeFileSync(certFile, CA, { mode: 0o600 });
  CA_FILE = join(dir, 'ca.pem');
  writeFileSync(CA_FILE, /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/.exec(CA)?.[0] ?? '');
  LOADGEN = buildLoadgen();

  const { child: target, port: targetPort } = await startTarget();
  const direct: Relay = {
    name: 'direct',
    tls: false,
    protocol: 'raw',
    port: targetPort,
    pid: undefined,
    stop: () => {},
  };
  const socat = await startSocat(targetPort, undefined);
  const socatTls = await startSocat(targetPort, certFile);
  const node = await startNodeRelay(targetPort, undefined);
  const nodeTls = await startNodeRelay(targetPort, certFile);
  // The floor of any proxy built on the ws library: its server relaying messages, with none of wsproxy's work.
  const wsMin = await startNodeRelay(targetPort, undefined, true);
  const wsMinTls = await startNodeRelay(targetPort, certFile, true);
  const wsp = await startWsproxy(targetPort, certFile);
  // The same daemon tuned for bulk transfer: a 1 MiB high-water mark also reads plain targets 1 MiB at a time.
  const wspBulk = ONLY.has('bulk') ? await startWsproxy(targetPort, certFile, 0, '1MiB') : undefined;
  const plainSet = [direct, socat, node, wsMin, wsp.plain];
  const tlsSet = [socatTls, nodeTls, wsMinTls, wsp.tls];
  const results: Record<string, unknown> = {};

  console.log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, node ${process.version}`,
  );
  console.log(`reps ${REPS}, bulk ${BYTES / 2 ** 20} MiB per run in ${MSG / 1024} KiB messages`);

  const series = async (
    name: string,
    set: Relay[],
    fn: (r: Relay) => Promise<number>,
  ): Promise<{ name: string; s: Stat }[]> => {
    const values = new Map<string, number[]>(set.map((r) => [r.name, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const r of rotate(set, rep)) values.get(r.name)?.push(await fn(r));
    }
    const rows = set.map((r) => ({ name: r.name, s: stat(values.get(r.name) ?? []) }));
    results[name] = Object.fromEntries(rows.map((r) => [r.name, r.s]));
    return rows;
  };

  if (ONLY.has('bulk')) {
    const plainBulk = wspBulk ? [...plainSet, wspBulk.plain] : plainSet;
    const tlsBulk = wspBulk ? [...tlsSet, wspBulk.tls] : tlsSet;
    table('bulk client→target, plain', 'MB/s', await series('bulk_up_plain', plainBulk, bulkUp), 'socat', true);
    table('bulk target→client, plain', 'MB/s', await series('bulk_down_plain', plainBulk, bulkDown), 'socat', true);
    table('bulk client→target, TLS', 'MB/s', await series('bulk_up_tls', tlsBulk, bulkUp), 'socat (TLS)', true);
    table('bulk target→client, TLS', 'MB/s', await series('bulk_down_tls', tlsBulk, bulkDown), 'socat (TLS)', true);
    wspBulk?.plain.stop();
  }
  if (ONLY.has('rtt')) {
    for (const [label, set, ref] of [
      ['plain', plainSet, 'socat'],
      ['TLS', tlsSet, 'socat (TLS)'],
    ] as const) {
      const p50: Map<string, number[]> = new Map();
      const p99: Map<string, number[]> = new Map();
      for (let rep = 0; rep < REPS; rep++) {
        for (const r of rotate([...set], rep)) {
          const { p50: a, p99: b } = await roundTrips(r);
          p50.set(r.name, [...(p50.get(r.name) ?? []), a]);
          p99.set(r.name, [...(p99.get(r.name) ?? []), b]);
        }
      }
      const rows50 = set.map((r) => ({ name: r.name, s: stat(p50.get(r.name) ?? []) }));
      const rows99 = set.map((r) => ({ name: r.name, s: stat(p99.get(r.name) ?? []) }));
      results[`rtt_p50_${label}`] = Object.fromEntries(rows50.map((r) => [r.name, r.s]));
      results[`rtt_p99_${label}`] = Object.fromEntries(rows99.map((r) => [r.name, r.s]));
      table(`round trip p50, 32 bytes, ${label}`, 'µs', rows50, ref, false);
      table(`round trip p99, 32 bytes, ${label}`, 'µs', rows99, ref, false);
    }
  }
  if (ONLY.has('rate')) {
    table(
      'connections per second (handshake + round trip + close), plain',
      'conn/s',
      await series('rate_plain', plainSet, (r) => connectionRate(r)),
      'node pipe',
      true,
    );
    table(
      'connections per second, TLS',
      'conn/s',
      await series('rate_tls', tlsSet, (r) => connectionRate(r)),
      'node pipe (TLS)',
      true,
    );
  }
  if (ONLY.has('idle')) {
    // Fresh processes for each count: a heap grown by the rows above would hide (or fake) per-connection cost.
    console.log('\nidle connections held (growth of a fresh relay process per held connection, RSS / PSS)');
    for (const n of IDLE) {
      const freshNode = await startNodeRelay(targetPort, undefined);
      const freshWsp = await startWsproxy(targetPort, certFile);
      for (const r of [freshNode, freshWsp.plain]) {
        const m = await idleMemory(r, n);
        results[`idle_${n}_${r.name}`] = m;
        console.log(
          `  ${r.name.padEnd(22)} ${String(m.held).padStart(6)} held   ${fmt(m.rssPerConn / 1024, 1)} KiB RSS   ${fmt(m.pssPerConn / 1024, 1)} KiB PSS per connection`,
        );
      }
      freshNode.stop();
      freshWsp.plain.stop();
    }
  }
  if (ONLY.has('slow')) {
    console.log(`\nslow reader: target floods, client reads 256 KiB/s for ${SLOW_SECONDS} s`);
    for (const r of [node, wsp.plain, wsp.tls]) {
      const m = await slowReader(r, targetPort);
      results[`slow_${r.name}`] = m;
      console.log(
        `  ${r.name.padEnd(22)} relay grew ${fmt(m.growthBytes / 2 ** 20, 1)} MiB   target wrote ${fmt(m.targetWrote / 2 ** 20, 1)} MiB   client read ${fmt(m.clientRead / 2 ** 20, 1)} MiB`,
      );
    }
  }

  if (ONLY.has('workers')) {
    // --workers: 4 parallel bulk streams through fresh proxies with one and with two worker processes.
    const one = await startWsproxy(targetPort, certFile, 1);
    const two = await startWsproxy(targetPort, certFile, 2);
    const set = [socat, one.plain, two.plain];
    const up = await series('parallel4_up_plain', set, (r) => bulkUp(r, 4));
    table('4 parallel streams client→target, plain (aggregate)', 'MB/s', up, 'socat', true);
    const down = await series('parallel4_down_plain', set, (r) => bulkDown(r, 4));
    table('4 parallel streams target→client, plain (aggregate)', 'MB/s', down, 'socat', true);
    for (const [label, rows] of [
      ['client→target', up],
      ['target→client', down],
    ] as const) {
      const a = rows.find((r) => r.name === one.plain.name)?.s.median ?? NaN;
      const b = rows.find((r) => r.name === two.plain.name)?.s.median ?? NaN;
      console.log(`  --workers 2 / --workers 1, ${label}: ${fmt(b / a, 2)}×`);
      results[`workers_ratio_${label}`] = b / a;
    }
    one.plain.stop();
    two.plain.stop();
  }

  writeFileSync(
    JSON_OUT,
    JSON.stringify({ node: process.version, cpus: cpus().length, reps: REPS, bytes: BYTES, results }, null, 2),
  );
  console.log(`\nJSON: ${JSON_OUT}`);
  for (const r of [socat, socatTls, node, nodeTls, wsMin, wsMinTls, wsp.plain]) r.stop();
  target.kill();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
