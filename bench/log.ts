/**
 * Logger micro-benchmark: the per-connection logging work of the hot path, in a loop, with no I/O (the sink only
 * counts bytes). One "connection" is what server/accept.ts and websocket/upgrade.ts do: child({conn, peer}), then
 * child({scheme}), then child({target, address, token_hash}), three lines at `info` (the last one the close line with
 * its five counters) and one `debug` line that the level drops.
 *
 *   npm run build && node dist/bench/log.js [--format json|text|both] [--conns 100000] [--rounds 7] [--compare PATH]
 *
 * `--compare PATH` also loads another build of log.js with the same createLogger() (e.g. an older commit's, compiled
 * on its own) and alternates rounds between the two, so that load from other processes hits both alike. Prints the
 * median ns per connection (min–max) and lines per second. Figures are for comparing on one machine; never in tests.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger, LoggerOptions } from '../src/log.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

type LogModule = { createLogger(options: LoggerOptions): Logger };

const CONNS = Number(option('conns', '100000'));
const ROUNDS = Number(option('rounds', '7'));
const FORMATS: readonly LoggerOptions['format'][] =
  option('format', 'both') === 'both' ? ['json', 'text'] : [option('format', 'json') === 'text' ? 'text' : 'json'];
const compare = option('compare', '');
const builds: { name: string; mod: LogModule }[] = [{ name: 'this build', mod: await import('../src/log.js') }];
if (compare) builds.push({ name: compare, mod: (await import(pathToFileURL(resolve(compare)).href)) as LogModule });

function connection(root: Logger, i: number): void {
  const conn = root.child({ conn: i, peer: `198.51.100.${i & 255}:${40000 + (i & 8191)}` });
  const ws = conn.child({ scheme: 'wss' });
  const session = ws.child({ target: '10.0.0.5:5900', address: '10.0.0.5:5900', token_hash: '3f2a9c1b7d4e' });
  session.debug('session open', { protocol: 'binary' });
  ws.info('tls handshake done', { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
  session.info('client certificate', { client_cn: 'alice', client_verified: true });
  session.info('session closed', {
    reason: 'CLIENT_CLOSED',
    close_code: 1000,
    bytes_from_client: 123456,
    bytes_to_client: 9876543,
    duration_ms: 61234,
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

for (const format of FORMATS) {
  const runs = builds.map((b) => {
    let bytes = 0;
    const root = b.mod.createLogger({
      level: 'info',
      format,
      sink: { write: (line: string) => (bytes += line.length) },
    });
    for (let i = 0; i < 20_000; i++) connection(root, i); // warm-up
    return { ...b, root, perConn: [] as number[], bytes: () => bytes };
  });
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which build goes first.
    for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < CONNS; i++) connection(run.root, i);
      run.perConn.push(Number(process.hrtime.bigint() - start) / CONNS);
    }
  }
  for (const run of runs) {
    const m = median(run.perConn);
    console.log(
      `${format} ${run.name}: ${m.toFixed(0)} ns per connection (min–max ${Math.min(...run.perConn).toFixed(0)}–${Math.max(...run.perConn).toFixed(0)}), ` +
        `${((3 * 1e9) / m / 1e6).toFixed(2)} M lines/s, ${(run.bytes() / ((ROUNDS * CONNS + 20_000) * 3)).toFixed(0)} bytes/line`,
    );
  }
  if (runs.length === 2)
    console.log(
      `${format}: this build / ${compare} = ${(median(runs[0]!.perConn) / median(runs[1]!.perConn)).toFixed(2)}`,
    );
}
