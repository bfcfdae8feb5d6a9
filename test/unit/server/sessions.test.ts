// The session registry on its own: tracking, what a session lets go of when it ends, closing one by id, the rows of
// /sessions, and shutdown (1001, then cut what does not end in time). Sessions are stand-ins with a recording relay.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CloseInfo } from '../../../src/relay/relay.js';
import { SessionRegistry } from '../../../src/server/sessions.js';
import type { SessionInfo } from '../../../src/websocket/handshake.js';
import { captureLogger } from '../../helpers/proxy.js';

/** A session whose relay records what is done to it; `end()` settles its `done` (and so does a close, if `polite`). */
function fakeSession(id: number, remoteAddress = '127.0.0.1', tokenHash?: string, polite = false) {
  const calls: string[] = [];
  let end: (info: CloseInfo) => void = () => {};
  const done = new Promise<CloseInfo>((resolve) => (end = resolve));
  const { logger, logs } = captureLogger();
  const relay = {
    done,
    close: (reason: string, code: number) => {
      calls.push(`close ${reason} ${code}`);
      if (polite) end({} as CloseInfo);
    },
    terminate: () => calls.push('terminate'),
    stats: () => ({ bytesFromClient: 3, bytesToClient: 5 }),
  };
  const session = {
    id,
    conn: { id, remoteAddress, remotePort: 40000 + id, tls: false, log: logger, handshakeDone: () => {} },
    scheme: 'ws',
    target: '127.0.0.1:5900',
    relay,
    startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    tokenHash,
  } as unknown as SessionInfo;
  return { session, calls, logs, end: () => end({} as CloseInfo) };
}

describe('session registry', () => {
  test('tracks sessions and lets go of what one held when it ends, once', () => {
    const registry = new SessionRegistry();
    const a = fakeSession(1);
    const b = fakeSession(2);
    let released = 0;
    registry.add(a.session, () => released++);
    registry.add(b.session);
    assert.equal(registry.size, 2);
    registry.end(a.session);
    registry.end(a.session);
    assert.equal(released, 1);
    assert.deepEqual(
      [...registry.values()].map((s) => s.id),
      [2],
    );
  });

  test('closes one session by id with 1008 ADMIN_CLOSED and one line; an unknown id is false', () => {
    const registry = new SessionRegistry();
    const a = fakeSession(7);
    registry.add(a.session);
    assert.equal(registry.close(8), false);
    assert.equal(registry.close(7), true);
    assert.deepEqual(a.calls, ['close ADMIN_CLOSED 1008']);
    assert.equal(a.logs.filter((l) => l.includes('reason=ADMIN_CLOSED')).length, 1);
  });

  test('rows and snapshots show the client, the token only as its hash, and the byte counts', () => {
    const registry = new SessionRegistry();
    registry.add(fakeSession(1, '2001:db8::1', 'abc123').session);
    registry.add(fakeSession(2).session);
    assert.deepEqual(registry.rows(), [
      {
        id: 1,
        client: '[2001:db8::1]:40001',
        scheme: 'ws',
        token_hash: 'abc123',
        target: '127.0.0.1:5900',
        started: '2026-01-02T03:04:05.000Z',
        bytes_from_client: 3,
        bytes_to_client: 5,
      },
      {
        id: 2,
        client: '127.0.0.1:40002',
        scheme: 'ws',
        token_hash: null,
        target: '127.0.0.1:5900',
        started: '2026-01-02T03:04:05.000Z',
        bytes_from_client: 3,
        bytes_to_client: 5,
      },
    ]);
    assert.deepEqual(registry.snapshots()[0], {
      id: 1,
      remoteAddress: '2001:db8::1',
      scheme: 'ws',
      target: '127.0.0.1:5900',
      startedAt: '2026-01-02T03:04:05.000Z',
      bytesFromClient: 3,
      bytesToClient: 5,
    });
  });

  test('shutdown sends 1001 to every session and cuts those still there when the timeout passes', async () => {
    const registry = new SessionRegistry();
    const polite = fakeSession(1, '127.0.0.1', undefined, true);
    const stuck = fakeSession(2);
    registry.add(polite.session);
    registry.add(stuck.session);
    void polite.session.relay.done.then(() => registry.end(polite.session)); // as the relay's onDone does
    await registry.shutDown(20);
    assert.deepEqual(polite.calls, ['close SERVER_SHUTDOWN 1001']);
    assert.deepEqual(stuck.calls, ['close SERVER_SHUTDOWN 1001', 'terminate']);
  });

  test('settle resolves as soon as the open sessions have ended', async () => {
    const registry = new SessionRegistry();
    const a = fakeSession(1);
    registry.add(a.session);
    const settled = registry.settle(60_000);
    a.end();
    await settled; // would hang for a minute if it waited for the timeout
  });
});
