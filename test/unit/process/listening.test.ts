// What the process says about where it listens (src/process/listening.ts): the start-up lines and the listen hints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listenHint, listenWhere, startupLines, type ListeningFacts } from '../../../src/process/listening.js';

const cert = { fingerprint256: 'AA:BB', names: ['localhost', '127.0.0.1'], validTo: 'Dec  4 16:29:24 2027 GMT' };

function facts(over: Partial<ListeningFacts>): ListeningFacts {
  return { certificate: undefined, addresses: [], listening: 'unix:/run/ws.sock', demo: false, ...over };
}

test('listenWhere: tcp (any host as *), unix and inetd, as the operator wrote them', () => {
  assert.equal(listenWhere({ kind: 'tcp', host: '127.0.0.1', port: 6080 }), '127.0.0.1:6080');
  assert.equal(listenWhere({ kind: 'tcp', host: undefined, port: 6080 }), '*:6080');
  assert.equal(listenWhere({ kind: 'unix', path: '/run/ws.sock', mode: 0o600 }), 'unix:/run/ws.sock');
  assert.equal(listenWhere({ kind: 'inetd' }), 'inetd socket (fd 0)');
});

test('listenHint names the address and the fix for each errno', () => {
  const err = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code });
  assert.equal(
    listenHint(err('EADDRINUSE'), '*:6080'),
    'cannot listen on *:6080: the address is in use; stop the other program or choose another port',
  );
  assert.equal(
    listenHint(err('EACCES'), '*:80'),
    'cannot listen on *:80: permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE',
  );
  assert.equal(
    listenHint(err('EADDRNOTAVAIL'), '192.0.2.9:6080'),
    'cannot listen on 192.0.2.9:6080: no interface has that address; check the listen address',
  );
  for (const code of ['ENOTFOUND', 'EAI_AGAIN'])
    assert.equal(listenHint(err(code), 'nohost:6080'), 'cannot listen on nohost:6080: the host name does not resolve');
  assert.equal(listenHint(new Error('odd'), 'unix:/x'), 'cannot listen on unix:/x: odd');
});

test('startupLines: the certificate, then one line per address; the any-address shows as localhost', () => {
  const lines = startupLines(
    facts({
      certificate: cert,
      addresses: [
        { address: '::', port: 6080 },
        { address: '127.0.0.1', port: 6081 },
      ],
    }),
  );
  assert.deepEqual(lines, [
    {
      msg: 'certificate',
      fields: { sha256: 'AA:BB', names: 'localhost,127.0.0.1', valid_to: 'Dec  4 16:29:24 2027 GMT' },
    },
    {
      msg: 'listening',
      fields: {
        address: '[::]:6080',
        ws: 'ws://localhost:6080/websockify',
        wss: 'wss://localhost:6080/websockify',
        page: 'http://localhost:6080/',
        target: undefined,
      },
    },
    {
      msg: 'listening',
      fields: {
        address: '127.0.0.1:6081',
        ws: 'ws://127.0.0.1:6081/websockify',
        wss: 'wss://127.0.0.1:6081/websockify',
        page: 'http://127.0.0.1:6081/',
        target: undefined,
      },
    },
  ]);
});

test('startupLines: no certificate turns wss off; --demo names the echo target; an IPv6 host is bracketed', () => {
  const [line] = startupLines(facts({ addresses: [{ address: '::1', port: 6080 }], demo: true }));
  assert.deepEqual(line, {
    msg: 'listening',
    fields: {
      address: '[::1]:6080',
      ws: 'ws://[::1]:6080/websockify',
      wss: 'off (no certificate)',
      page: 'http://[::1]:6080/',
      target: 'built-in echo (--demo)',
    },
  });
});

test('startupLines: a unix socket or inetd has no TCP address: one line with where it listens', () => {
  assert.deepEqual(startupLines(facts({})), [{ msg: 'listening', fields: { address: 'unix:/run/ws.sock' } }]);
});
