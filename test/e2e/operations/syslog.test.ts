// --syslog with a real UDP listener: every log line arrives as one well-formed RFC 5424 (or, with --legacy-syslog,
// RFC 3164) datagram, secrets stay redacted, and an unusable destination is one warning, never a crash.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { formatRfc3164, formatRfc5424, syslogMessage, syslogPri } from '../../../src/process/syslog.js';
import {
  freePort,
  openWs,
  spawnDaemon,
  startEchoTarget,
  statusFor,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

async function udpListener(): Promise<{ socket: UdpSocket; port: number; messages: string[] }> {
  const socket = createSocket('udp4');
  const messages: string[] = [];
  socket.on('error', () => {});
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, messages };
}

const RFC5424 = /^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) wsproxy (\d+) - - (.+)$/s;
const RFC3164 = /^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) wsproxy\[(\d+)\]: (.+)$/s;

describe('--syslog over UDP', () => {
  test('RFC 5424: PRI (facility user), version, timestamp, hostname, app-name, procid, message; secrets redacted', async () => {
    const sink = await udpListener();
    const deadPort = await freePort();
    const d = await spawnDaemon(['--syslog', `127.0.0.1:${sink.port}`, '127.0.0.1:0', `127.0.0.1:${deadPort}`]);
    try {
      // A refused session logs its path: the password in the query must reach syslog as *** only.
      assert.equal(await statusFor(d.port, upgradeRequest('/websockify?token=tok-secret-1&password=hunter2')), 502);
      await waitFor(() => sink.messages.some((m) => m.includes('TARGET_REFUSED')), 5_000, 'the refusal over syslog');
      const listening = sink.messages.find((m) => m.includes('listening address='));
      assert.ok(listening, sink.messages.join('\n'));
      const m = RFC5424.exec(listening);
      assert.ok(m, listening);
      assert.equal(m[1], '14', 'user.info = 1*8+6');
      assert.ok(Math.abs(Date.parse(m[2] ?? '') - Date.now()) < 60_000);
      assert.equal(m[3], hostname());
      assert.equal(m[4], String(d.proc.pid));
      assert.match(
        m[5] ?? '',
        /^listening address=127\.0\.0\.1:\d+ /,
        'the message without the stderr timestamp and level',
      );
      const refusal = sink.messages.find((x) => x.includes('TARGET_REFUSED')) ?? '';
      assert.match(refusal, /^<12>1 /, 'a warning is user.warning = 1*8+4');
      assert.match(refusal, /password=\*\*\*/);
      for (const msg of sink.messages) {
        assert.doesNotMatch(msg, /hunter2|tok-secret-1/);
        assert.equal(msg.includes('\n'), false, 'one line per datagram');
      }
      assert.equal(await d.stop(), 0);
      await waitFor(() => sink.messages.some((x) => / stopped$/.test(x)), 5_000, 'the last line (stopped) before exit');
    } finally {
      await d.stop('SIGKILL');
      sink.socket.close();
    }
  });

  test('--legacy-syslog: RFC 3164 lines; facility daemon under -D is covered by config, user here', async () => {
    const sink = await udpListener();
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '--syslog',
      `127.0.0.1:${sink.port}`,
      '--legacy-syslog',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
      ws.close();
      await once(ws, 'close');
      await waitFor(() => sink.messages.some((m) => m.includes('listening address=')), 5_000, 'the listening line');
      const m = RFC3164.exec(sink.messages.find((x) => x.includes('listening address=')) ?? '');
      assert.ok(m, sink.messages.join('\n'));
      assert.equal(m[1], '14');
      assert.equal(m[3], hostname());
      assert.equal(m[4], String(d.proc.pid));
      assert.match(m[5] ?? '', /^listening address=/);
    } finally {
      assert.equal(await d.stop(), 0);
      sink.socket.close();
      await target.close();
    }
  });

  test('an unusable destination is one warning and the daemon keeps serving', async () => {
    const target = await startEchoTarget();
    for (const dest of ['no-such-host.invalid:514', '/nonexistent/dev/log']) {
      const d = await spawnDaemon(['--syslog', dest, '127.0.0.1:0', `127.0.0.1:${target.port}`]);
      try {
        await waitFor(() => /WARN {2}--syslog/.test(d.stderr()), 10_000, `the ${dest} warning`);
        const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
        ws.send(Buffer.from('still here'));
        const [data] = (await once(ws, 'message')) as [Buffer];
        assert.equal(data.toString(), 'still here');
        ws.close();
        await once(ws, 'close');
        assert.equal(d.stderr().match(/WARN {2}--syslog/g)?.length, 1, d.stderr());
      } finally {
        assert.equal(await d.stop(), 0, d.stderr());
      }
    }
    await target.close();
  });
});

// Node cannot open a unix datagram socket, so the stand-in syslog daemon on it is a few lines of python3 (installed by
// .ci/run): it prints every datagram it receives as one JSON string per line.
const DGRAM_LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode('utf-8', 'replace')), flush=True)
`;

describe('--syslog to a unix datagram socket (like /dev/log)', () => {
  test('lines arrive through logger as RFC 5424 with our app-name and pid; RFC 3164 with --legacy-syslog', async () => {
    const target = await startEchoTarget();
    for (const legacy of [false, true]) {
      const path = join(mkdtempSync(join(tmpdir(), 'wsproxy-syslog-')), 'log.sock');
      const listener = spawn('python3', ['-c', DGRAM_LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      listener.on('error', () => {});
      const received: string[] = [];
      let out = '';
      listener.stdout.setEncoding('utf8');
      listener.stdout.on('data', (chunk: string) => {
        out += chunk;
        for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
          const line = out.slice(0, nl);
          out = out.slice(nl + 1);
          received.push(line === 'ready' ? line : (JSON.parse(line) as string));
        }
      });
      await waitFor(() => received.includes('ready'), 10_000, 'the python3 datagram listener');
      const d = await spawnDaemon([
        '--syslog',
        path,
        ...(legacy ? ['--legacy-syslog'] : []),
        '127.0.0.1:0',
        `127.0.0.1:${target.port}`,
      ]);
      try {
        await waitFor(
          () => received.some((m) => m.includes('listening address=')),
          10_000,
          'the listening line over /dev/log-style syslog',
        );
        const line = received.find((m) => m.includes('listening address=')) ?? '';
        if (legacy)
          assert.match(
            line,
            new RegExp(
              `^<14>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\S+ wsproxy\\[${d.proc.pid}\\]: listening address=`,
            ),
          );
        else
          assert.match(
            line,
            new RegExp(`^<14>1 \\d{4}-\\d\\d-\\d\\dT\\S+ \\S+ wsproxy ${d.proc.pid} - - listening address=`),
          );
        assert.doesNotMatch(d.stderr(), /--syslog/, 'no warning when the socket works');
        assert.equal(await d.stop(), 0);
        await waitFor(() => received.some((m) => / stopped$/.test(m)), 5_000, 'the last line (stopped) through logger');
        assert.doesNotMatch(d.stderr(), /--syslog/, 'no warning at shutdown either');
      } finally {
        await d.stop('SIGKILL');
        listener.kill();
      }
    }
    await target.close();
  });
});

describe('syslog formats', () => {
  const fields = {
    pri: syslogPri('daemon', 'error'),
    time: new Date(2024, 0, 5, 3, 4, 5),
    hostname: 'host name\u00e9',
    pid: 42,
    msg: 'hello',
  };
  test('PRI per facility and level', () => {
    assert.equal(syslogPri('user', 'info'), 14);
    assert.equal(syslogPri('user', 'debug'), 15);
    assert.equal(syslogPri('daemon', 'error'), 27);
    assert.equal(syslogPri('daemon', 'warn'), 28);
  });
  test('RFC 5424 and RFC 3164 headers (hostname reduced to printable ASCII)', () => {
    assert.equal(formatRfc5424(fields), `<27>1 ${fields.time.toISOString()} hostname wsproxy 42 - - hello`);
    assert.equal(formatRfc3164(fields), '<27>Jan  5 03:04:05 hostname wsproxy[42]: hello');
  });
  test('the message drops the stderr timestamp/level and control characters', () => {
    assert.equal(syslogMessage('2024-01-05T03:04:05.000Z WARN  refused a=1\n'), 'refused a=1');
    assert.equal(syslogMessage('{"time":"x","level":"info","msg":"m"}\n'), '{"time":"x","level":"info","msg":"m"}');
    assert.equal(syslogMessage('a\rb\u0000c'), 'a b c');
  });
});
