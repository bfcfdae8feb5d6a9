// Hostile and broken input: none of it may crash the daemon or leak a connection, and each gets its answer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  exchange,
  openWs,
  startEchoTarget,
  startProxy,
  statusOf,
  upgradeRequest,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

/** Completes a WebSocket handshake on a raw socket; resolves the socket with any bytes after the 101 head. */
async function rawUpgrade(port: number): Promise<{ socket: Socket; rest: Buffer[] }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(upgradeRequest());
  let buf = Buffer.alloc(0);
  const rest: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!buf.subarray(0, 12).toString().includes('101')) reject(new Error(buf.toString()));
      rest.push(buf.subarray(end + 4));
      socket.on('data', (d: Buffer) => rest.push(d));
      resolve();
    };
    socket.on('data', onData);
  });
  return { socket, rest };
}

/** Reads the close code of the first close frame (opcode 8) the server sent. */
async function closeCodeFrom(socket: Socket, rest: Buffer[]): Promise<number> {
  if (!socket.destroyed) await new Promise((r) => socket.once('close', r));
  const all = Buffer.concat(rest);
  let i = 0;
  while (i + 2 <= all.length) {
    const opcode = all[i]! & 0x0f;
    let len = all[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = all.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(all.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === 8) return all.readUInt16BE(off);
    i = off + len;
  }
  return -1;
}

function maskedFrame(opcode: number, payload: Buffer, opts: { rsv?: number; mask?: boolean } = {}): Buffer {
  const mask = opts.mask ?? true;
  const head = Buffer.from([0x80 | ((opts.rsv ?? 0) << 4) | opcode, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, body]);
}

describe('hostile input', () => {
  let target: TestTarget;
  let proxy: TestProxy;
  before(async () => {
    target = await startEchoTarget();
    proxy = await startProxy(target.port, { limits: { handshakeTimeoutMs: 500, maxMessageBytes: 1024 * 1024 } });
  });
  after(async () => {
    await proxy.close();
    await target.close();
  });

  test('every possible first byte, then a close: each gets its answer, the daemon serves on, no connection is left', async () => {
    const answers = new Map<number, string>();
    for (let start = 0; start < 256; start += 64) {
      const batch: Promise<unknown>[] = [];
      for (let b = start; b < start + 64; b++) {
        const s = connect(proxy.port, '127.0.0.1');
        s.on('error', () => {});
        let got = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => (got += d)); // read the answer or EOF, so 'close' can come
        batch.push(
          once(s, 'connect').then(() => {
            s.end(Buffer.from([b]));
            return new Promise((r) => s.once('close', r)).then(() => answers.set(b, got));
          }),
        );
      }
      await Promise.all(batch);
    }
    for (let b = 0; b < 256; b++) {
      const got = answers.get(b) ?? '';
      const name = `byte 0x${b.toString(16)}`;
      if (b === 0x16 || b === 0x80) assert.doesNotMatch(got, /^HTTP\//, `${name} goes to TLS: no HTTP answer`);
      else if (b === 0x0a || b === 0x0d)
        assert.equal(got, '', `${name}: a blank line before a request is skipped; EOF then closes`);
      else {
        assert.equal(statusOf(got), 400, `${name}: ${got.slice(0, 40)}`);
        assert.match(got, /\r\nX-Wsproxy-Reason: BAD_REQUEST\r\n/, name);
      }
    }
    const count = (re: RegExp): number => proxy.logs.filter((l) => re.test(l)).length;
    await waitFor(() => count(/reason=TLS_HANDSHAKE_FAILED/) === 2, 5_000, 'a TLS failure line for 0x16 and 0x80');
    assert.equal(count(/reason=BAD_REQUEST/), 252, 'one BAD_REQUEST line per plain byte answered 400');
    await waitFor(() => proxy.server.stats().openConnections === 0, 5_000, 'connections released');
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
    ws.terminate();
  });

  test('an unmasked client frame closes with 1002', async () => {
    const { socket, rest } = await rawUpgrade(proxy.port);
    socket.write(maskedFrame(2, Buffer.from('x'), { mask: false }));
    assert.equal(await closeCodeFrom(socket, rest), 1002);
  });

  test('RSV bits without an extension close with 1002', async () => {
    const { socket, rest } = await rawUpgrade(proxy.port);
    socket.write(maskedFrame(2, Buffer.from('x'), { rsv: 4 }));
    assert.equal(await closeCodeFrom(socket, rest), 1002);
  });

  test('a frame header claiming 2^53-1 bytes closes with 1009 at once, nothing buffered', async () => {
    const { socket, rest } = await rawUpgrade(proxy.port);
    const head = Buffer.alloc(14);
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(2n ** 53n - 1n, 2);
    socket.write(head); // mask key and payload never follow
    assert.equal(await closeCodeFrom(socket, rest), 1009);
  });

  test('a 150-byte ping (control frames max 125) closes with 1002', async () => {
    const { socket, rest } = await rawUpgrade(proxy.port);
    const head = Buffer.from([0x89, 0x80 | 126, 0, 150, 0, 0, 0, 0]);
    socket.write(Buffer.concat([head, Buffer.alloc(150)]));
    assert.equal(await closeCodeFrom(socket, rest), 1002);
  });

  test('a ping is answered with a pong carrying the same payload', async () => {
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
    ws.ping(Buffer.from('are you there'));
    const [data] = (await once(ws, 'pong')) as [Buffer];
    assert.equal(data.toString(), 'are you there');
    ws.terminate();
  });

  test('a Sec-WebSocket-Protocol with thousands of items is refused fast with 400', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => `p${i}`).join(', ');
    const res = await exchange(proxy.port, upgradeRequest('/', { 'Sec-WebSocket-Protocol': items }));
    assert.equal(statusOf(res), 431); // over the 16 KiB header limit: refused by the parser
    assert.match(res, /\r\nX-Wsproxy-Reason: HEADERS_TOO_LARGE\r\n/);
    const fewer = Array.from({ length: 1000 }, (_, i) => `p${i}`).join(',');
    const res2 = await exchange(proxy.port, upgradeRequest('/', { 'Sec-WebSocket-Protocol': fewer }));
    assert.equal(statusOf(res2), 400);
    assert.match(res2, /\r\nX-Wsproxy-Reason: SUBPROTOCOL_UNSUPPORTED\r\n/);
  });

  test('2,100 header lines are answered, not crashed on (ws CVE-2024-37890 shape)', async () => {
    const lines = Array.from({ length: 2100 }, (_, i) => `X-${i}: 1`).join('\r\n');
    const res = await exchange(
      proxy.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines}\r\n\r\n`,
    );
    // Node keeps at most 2,000 headers and drops the rest (ws's crash was on that count); 2,100 short lines fit in
    // the 16 KiB header limit, so this is the ordinary page.
    assert.equal(statusOf(res), 200, res.slice(0, 40));
    assert.match(res, /\r\nContent-Type: text\/html/);
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
    ws.terminate();
  });
});

describe('encrypted keys', () => {
  test('--key with --key-password serves TLS; a wrong password is one clear error without the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-enc-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-aes-256-cbc',
      '-pass',
      'pass:correct horse',
      '-out',
      key,
    ]);
    execFileSync('openssl', [
      'req',
      '-new',
      '-x509',
      '-key',
      key,
      '-passin',
      'pass:correct horse',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '2',
      '-out',
      cert,
    ]);
    const target = await startEchoTarget();
    const { loadCertificate } = await import('../../../src/tls/context.js');
    await assert.rejects(
      loadCertificate({ certFile: cert, keyFile: key, keyPassword: 'wrong-battery' }),
      (err: Error) => {
        assert.match(err.message, /check --key-password/);
        assert.doesNotMatch(err.message, /wrong-battery/);
        return true;
      },
    );
    const proxy = await startProxy(target.port, {
      tls: { certFile: cert, keyFile: key, keyPassword: 'correct horse' },
    });
    try {
      const { readFileSync } = await import('node:fs');
      const ws = await openWs(`wss://127.0.0.1:${proxy.port}/`, { ca: readFileSync(cert, 'utf8') });
      ws.send(Buffer.from('sealed'));
      const [d] = (await once(ws, 'message')) as [Buffer];
      assert.equal(d.toString(), 'sealed');
      ws.terminate();
      assert.ok(!proxy.logs.join('').includes('correct horse'));
      writeFileSync(join(dir, 'done'), '');
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
