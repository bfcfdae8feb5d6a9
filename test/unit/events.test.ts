// Typed events (src/events.ts): a subscriber sees only its own server's events, and a socket no server claimed
// publishes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimSocket, newServerId, publish, publishRefusedOn, subscribe, type RefusedEvent } from '../../src/events.js';

describe('events', () => {
  test('subscribers see only the events of their server, until they unsubscribe', () => {
    const [one, two] = [newServerId(), newServerId()];
    assert.notEqual(one, two);
    const seen: RefusedEvent[] = [];
    const off = subscribe('refused', one, (e) => seen.push(e));
    publish('refused', { server: two, reason: 'NOT_FOUND', status: 404 });
    publish('refused', { server: one, reason: 'PLAIN_REFUSED' });
    off();
    publish('refused', { server: one, reason: 'PLAIN_REFUSED' });
    assert.deepEqual(seen, [{ server: one, reason: 'PLAIN_REFUSED' }]);
  });

  test('a refusal on a socket is published for the server that claimed it', () => {
    const server = newServerId();
    const seen: RefusedEvent[] = [];
    const off = subscribe('refused', server, (e) => seen.push(e));
    const [mine, stray] = [{}, {}];
    claimSocket(mine, server);
    publishRefusedOn(stray, 'NOT_FOUND', 404);
    publishRefusedOn(undefined, 'NOT_FOUND', 404);
    publishRefusedOn(mine, 'HEADERS_TOO_LARGE', 431);
    off();
    assert.deepEqual(seen, [{ server, reason: 'HEADERS_TOO_LARGE', status: 431 }]);
  });

  test('a throwing subscriber is reported to its onError, never to the publisher or the process', () => {
    const server = newServerId();
    const errors: unknown[] = [];
    const off = subscribe(
      'configReloaded',
      server,
      () => {
        throw new Error('subscriber failed');
      },
      (err) => errors.push(err),
    );
    publish('configReloaded', { server, result: 'ok' });
    off();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /subscriber failed/);
  });
});
