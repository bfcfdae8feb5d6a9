// reject() on a real ServerResponse and on a real raw socket (an upgrade), read back by a raw client on 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { HttpReasonCode } from '../../../src/errors.js';
import { reject, type RejectOptions } from '../../../src/http/reject.js';
import { captureLogger, exchange, upgradeRequest } from '../../helpers/proxy.js';

type Options = Omit<RejectOptions, 'log'>;

/** What the next request or upgrade is refused with. */
let next: { code: HttpReasonCode; options: Options } = { code: 'NOT_FOUND', options: {} };
const { logger, logs } = captureLogger();
const server = createServer((_req: IncomingMessage, res: ServerResponse) =>
  reject(res, next.code, { ...next.options, log: logger }),
);
server.on('upgrade', (_req: IncomingMessage, socket: Socket) =>
  reject(socket, next.code, { ...next.options, log: logger }),
);
let port = 0;
before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
});

/** Refuses one request with `code` and returns the raw answer, its head lines, its body and the new log lines. */
async function answer(request: string, code: HttpReasonCode, options: Options = {}) {
  next = { code, options };
  const before = logs.length;
  const raw = await exchange(port, request);
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return { raw, lines: head.split('\r\n'), body, logged: logs.slice(before) };
}

const GET = 'GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const KINDS = [
  ['a ServerResponse', GET],
  ['a raw socket (upgrade)', upgradeRequest()],
] as const;

for (const [kind, request] of KINDS) {
  describe(`reject() on ${kind}`, () => {
    test('status line, reason header, Connection: close, text body with the catalogue text, one info line', async () => {
      const { lines, body, logged } = await answer(request, 'ORIGIN_FORBIDDEN');
      assert.equal(lines[0], 'HTTP/1.1 403 Forbidden');
      assert.ok(lines.includes('X-Wsproxy-Reason: ORIGIN_FORBIDDEN'), lines.join('\n'));
      assert.ok(
        lines.some((l) => /^Connection: close$/i.test(l)),
        lines.join('\n'),
      );
      assert.ok(lines.includes('Content-Type: text/plain; charset=utf-8'));
      assert.ok(lines.includes('Cache-Control: no-store'));
      assert.ok(lines.includes('X-Content-Type-Options: nosniff'), 'the security headers');
      assert.equal(body, '403 Forbidden\nThe Origin of the page is not allowed to connect.\n');
      assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body)}`));
      assert.equal(logged.length, 1, logged.join(''));
      assert.match(
        logged[0] ?? '',
        / INFO {2}refused: The Origin of the page is not allowed to connect\. reason=ORIGIN_FORBIDDEN status=403\n$/,
      );
    });

    test('a custom message, extra headers and log fields', async () => {
      const { lines, body, logged } = await answer(request, 'METHOD_NOT_ALLOWED', {
        message: 'Use GET.',
        headers: { Allow: 'GET' },
        fields: { path: '/x' },
      });
      assert.equal(lines[0], 'HTTP/1.1 405 Method Not Allowed');
      assert.ok(lines.includes('Allow: GET'));
      assert.equal(body, '405 Method Not Allowed\nUse GET.\n');
      assert.equal(logged.length, 1);
      assert.match(logged[0] ?? '', /refused: Use GET\. reason=METHOD_NOT_ALLOWED status=405 path=\/x\n$/);
    });

    test('5xx refusals log a warning; quiet ones log at debug', async () => {
      const loud = await answer(request, 'TARGET_REFUSED');
      assert.equal(loud.lines[0], 'HTTP/1.1 502 Bad Gateway');
      assert.equal(loud.logged.length, 1);
      assert.match(loud.logged[0] ?? '', / WARN {2}refused: .* reason=TARGET_REFUSED status=502\n$/);
      const quiet = await answer(request, 'BAD_REQUEST', { quiet: true });
      assert.equal(quiet.lines[0], 'HTTP/1.1 400 Bad Request');
      assert.equal(quiet.logged.length, 1);
      assert.match(quiet.logged[0] ?? '', / DEBUG refused: .* reason=BAD_REQUEST status=400\n$/);
    });
  });
}

test('reject() on a ServerResponse to HEAD sends the head without a body', async () => {
  const { raw, lines, body } = await answer('HEAD /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'NOT_FOUND');
  assert.equal(lines[0], 'HTTP/1.1 404 Not Found');
  assert.ok(lines.includes('X-Wsproxy-Reason: NOT_FOUND'));
  assert.equal(body, '', raw);
});
