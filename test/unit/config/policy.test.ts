// The operations flags through the real parser and resolveConfig: values, lists, and one-line errors naming the flag.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommandLine } from '../../../src/cli.js';
import { resolveConfig } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';
import { inRange } from '../../../src/policy/cidr.js';

function config(argv: string[]): Config {
  const cl = parseCommandLine(argv);
  if (cl.kind !== 'run') throw new Error('not a run');
  return resolveConfig(cl.args, '/tmp');
}

function fails(argv: string[], flag: string, message: RegExp): void {
  assert.throws(
    () => config(argv),
    (err: unknown) =>
      err instanceof ConfigError && err.flag === flag && message.test(err.message) && !err.message.includes('\n'),
  );
}

describe('operations flags', () => {
  test('defaults: everything off, metadata still refused by the target policy', () => {
    const c = config(['6080', 'localhost:5900']);
    assert.deepEqual(c.clientAddress, {
      proxyProtocolIn: false,
      trustedProxies: [],
      trustForwarded: false,
      proxyProtocolOut: undefined,
    });
    assert.deepEqual(c.policy, {
      maxSessionsPerToken: 0,
      rateLimit: undefined,
      authFailureLimit: { perSecond: 10 / 60, burst: 10 },
      allowTargets: [],
      allowedHosts: [],
      revalidateIntervalMs: 0,
    });
  });

  test('values and lists; list flags do not swallow the positionals after them', () => {
    const c = config([
      '--proxy-protocol-in',
      '--trusted-proxy',
      '10.0.0.0/8 fd00::/8',
      '--trust-forwarded',
      '--proxy-protocol-out',
      'v2',
      '--max-sessions-per-token',
      '2',
      '--rate-limit',
      '30/min',
      '--allow-target',
      '10.0.0.0/8:5900-5999 192.0.2.7:22,23',
      '--allowed-host',
      'VNC.example.com,[::1]',
      '--revalidate-interval',
      '2.5',
      '6080',
      'localhost:5900',
    ]);
    assert.equal(c.targets.kind === 'fixed' && c.targets.target.kind === 'tcp' ? c.targets.target.port : 0, 5900);
    assert.equal(c.clientAddress?.proxyProtocolIn, true);
    assert.equal(c.clientAddress?.trustedProxies.length, 2);
    assert.equal(c.clientAddress?.proxyProtocolOut, 'v2');
    assert.equal(c.policy?.maxSessionsPerToken, 2);
    assert.deepEqual(c.policy?.rateLimit, { perSecond: 0.5, burst: 30 });
    const [a, b] = c.policy?.allowTargets ?? [];
    assert.ok(a && inRange(a, '10.1.1.1', 5950) && !inRange(a, '10.1.1.1', 22));
    assert.ok(b && inRange(b, '192.0.2.7', 23));
    assert.deepEqual(c.policy?.allowedHosts, ['vnc.example.com', '::1']);
    assert.equal(c.policy?.revalidateIntervalMs, 2500);
  });

  test('mistakes name the flag and the fix', () => {
    fails(['--proxy-protocol-in', '6080', 'h:1'], '--proxy-protocol-in', /needs --trusted-proxy/);
    fails(['--trust-forwarded', '6080', 'h:1'], '--trust-forwarded', /needs --trusted-proxy/);
    fails(['--trusted-proxy', 'example.com', '6080', 'h:1'], '--trusted-proxy', /not an IP address or CIDR/);
    fails(['--trusted-proxy', '10.0.0.0/8:22', '6080', 'h:1'], '--trusted-proxy', /has a port/);
    fails(['--proxy-protocol-out', 'v3', '6080', 'h:1'], '--proxy-protocol-out', /not one of v1, v2/);
    fails(['--max-sessions-per-token', 'many', '6080', 'h:1'], '--max-sessions-per-token', /not a whole number/);
    fails(['--rate-limit', 'fast', '6080', 'h:1'], '--rate-limit', /write e\.g\. 10\/s/);
    fails(['--allow-target', '10.0.0.0/8:99999', '6080', 'h:1'], '--allow-target', /bad ports/);
    fails(['--allowed-host', 'https://x.example/', '6080', 'h:1'], '--allowed-host', /not a host name/);
    fails(['--revalidate-interval', 'soon', '6080', 'h:1'], '--revalidate-interval', /not a number of seconds/);
  });

  test('PROXY protocol in on a unix listener needs no --trusted-proxy (the socket mode decides who connects)', () => {
    const c = config(['--unix-listen', '/tmp/x.sock', '--proxy-protocol-in', 'localhost:5900']);
    assert.equal(c.clientAddress?.proxyProtocolIn, true);
  });
});
