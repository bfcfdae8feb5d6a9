import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { AUTH_PLUGINS } from '../../src/config.js';
import { AUTH_PLUGIN_NAMES } from '../../src/auth/registry.js';
import { escapeFrame, frameLine } from '../../src/record/recorder.js';

// websockify: buf.decode('latin1').encode('unicode_escape').decode('ascii').replace("'", "\\'")
function pythonEscape(buf: Buffer): string {
  return execFileSync('python3', ['-c', "import sys; b=sys.stdin.buffer.read(); sys.stdout.write(b.decode('latin1').encode('unicode_escape').decode('ascii').replace(\"'\", \"\\\\'\"))"], {
    input: buf,
    encoding: 'utf8',
  });
}

test("escaping matches websockify's (Python's own codec) for all 256 byte values and random data", () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(escapeFrame(all), pythonEscape(all));
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
  assert.equal(escapeFrame(random), pythonEscape(random));
});

test('frame lines carry direction and whole milliseconds', () => {
  assert.equal(frameLine('to-client', 12.9, Buffer.from("RFB 003.008\n")), "'{12{RFB 003.008\\n',\n");
  assert.equal(frameLine('from-client', 0, Buffer.from([0x27, 0x5c, 0x00])), "'}0}\\'\\\\\\x00',\n");
});

test('config and registry know the same auth plugins', () => {
  assert.deepEqual([...AUTH_PLUGINS].sort(), [...AUTH_PLUGIN_NAMES].sort());
});
