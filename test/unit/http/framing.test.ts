// Which request framing goes upstream, and which is refused as ambiguous.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { framingProblem } from '../../../src/http/framing.js';

describe('request framing', () => {
  const facts = (rawHeaders: string[], minor = 1) => ({ httpVersionMajor: 1, httpVersionMinor: minor, rawHeaders });
  test('unambiguous framing passes', () => {
    for (const raw of [
      [],
      ['Transfer-Encoding', 'chunked'],
      ['transfer-encoding', 'CHUNKED'],
      ['Content-Length', '0'],
      ['Content-Length', '0012'],
    ]) {
      assert.equal(framingProblem(facts(raw)), undefined, raw.join(': '));
    }
    assert.equal(framingProblem(facts(['Content-Length', '3'], 0)), undefined);
  });
  test('ambiguous framing is named', () => {
    const cases: [string[], string, number?][] = [
      [['Transfer-Encoding', 'chunked', 'Content-Length', '3'], 'te-with-cl'],
      [['Transfer-Encoding', 'chunked'], 'te-in-http10', 0],
      [['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], 'te-repeated'],
      [['Transfer-Encoding', 'gzip, chunked'], 'te-not-chunked'],
      [['Transfer-Encoding', ',chunked'], 'te-not-chunked'],
      [['Content-Length', '3', 'content-length', '3'], 'cl-repeated'],
      [['Content-Length', '+3'], 'cl-invalid'],
      [['Content-Length', '9007199254740992'], 'cl-invalid'],
    ];
    for (const [raw, problem, minor] of cases) assert.equal(framingProblem(facts(raw, minor)), problem, raw.join(': '));
  });
});
