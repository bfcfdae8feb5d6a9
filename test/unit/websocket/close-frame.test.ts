import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closePayloadError, isValidCloseCode } from '../../../src/websocket/close-frame.js';
import { closePayload } from '../../helpers/frames.js';

describe('close frames', () => {
  test('the codes a peer may send, as ws accepts them', () => {
    const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
    for (const c of valid) assert.equal(isValidCloseCode(c), true, String(c));
    for (const c of invalid) assert.equal(isValidCloseCode(c), false, String(c));
  });

  test('a payload is judged by its code, then its reason', () => {
    assert.equal(closePayloadError(closePayload(1000, 'fine')), undefined);
    assert.equal(closePayloadError(closePayload(1006, 'fine'))?.code, 'WS_ERR_INVALID_CLOSE_CODE');
    const badReason = Buffer.concat([closePayload(1000), Buffer.from([0xe2, 0x82])]);
    assert.equal(closePayloadError(badReason)?.closeCode, 1007);
  });
});
