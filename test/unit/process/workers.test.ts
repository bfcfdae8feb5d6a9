// The worker pool's pure parts: the restart back-off and the IPC message shapes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isReadyMessage, isReloadRequest, restartDelayMs } from '../../../src/process/workers.js';

describe('restartDelayMs', () => {
  test('the first death in the window is replaced at once, then the delay doubles from the base', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => restartDelayMs(n, 500)),
      [0, 500, 1000, 2000, 4000],
    );
  });
  test('the delay stops growing at 30 s', () => {
    assert.equal(restartDelayMs(8, 500), 30_000);
    assert.equal(restartDelayMs(100, 500), 30_000);
  });
});

describe('IPC messages', () => {
  test('ready and reload requests are told apart by their wsproxy field', () => {
    assert.equal(isReadyMessage({ wsproxy: 'ready', lines: [] }), true);
    assert.equal(isReadyMessage({ wsproxy: 'reload', seq: 1 }), false);
    assert.equal(isReloadRequest({ wsproxy: 'reload', seq: 1 }), true);
    for (const other of [null, undefined, 'ready', 1, {}]) {
      assert.equal(isReadyMessage(other), false);
      assert.equal(isReloadRequest(other), false);
    }
  });
});
