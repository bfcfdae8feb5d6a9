// How the relay names a session's end from ws error codes and the client's close code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientCloseReason, wsErrorReason } from '../../../src/relay/close-reasons.js';

describe('wsErrorReason', () => {
  test('the client-fault codes have their own reasons', () => {
    assert.equal(wsErrorReason('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'), 'MESSAGE_TOO_BIG');
    assert.equal(wsErrorReason('WSPROXY_MESSAGE_BUFFER_FULL'), 'MESSAGE_BUFFER_FULL');
  });
  test('other ws codes are protocol errors; socket errors and no code mean the client is gone', () => {
    assert.equal(wsErrorReason('WS_ERR_INVALID_OPCODE'), 'PROTOCOL_ERROR');
    assert.equal(wsErrorReason('ECONNRESET'), 'CLIENT_GONE');
    assert.equal(wsErrorReason(''), 'CLIENT_GONE');
  });
});

describe('clientCloseReason', () => {
  test('1006 is a dropped connection, any other code a close', () => {
    assert.equal(clientCloseReason(1006), 'CLIENT_GONE');
    assert.equal(clientCloseReason(1000), 'CLIENT_CLOSED');
    assert.equal(clientCloseReason(4000), 'CLIENT_CLOSED');
  });
});
