// The automatic Host allowlist's parts: Host parsing, certificate wildcards, machine names from /etc/hostname and
// /etc/hosts (files given here), and which mode a configuration gets.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hostModeOf, isHostAllowedBy, machineHostNames, type HostMode } from '../../../src/policy/host-allowlist.js';

const auto = (certNames: string[], listenHost?: string): HostMode => ({
  kind: 'auto',
  sources: { listenHost, machineNames: ['box', 'box.lan.example'], certNames: () => certNames },
});

describe('automatic Host allowlist', () => {
  test('IP literals, localhost, listen host, machine names and certificate names pass; others do not', () => {
    const mode = auto(['vnc.test', '*.desk.test'], 'proxy.internal');
    for (const ok of [
      '127.0.0.1:6080',
      '[::1]:6080',
      '[2001:db8::1]',
      '192.0.2.1',
      'LOCALHOST',
      'a.localhost:1',
      'proxy.internal:6080',
      'box',
      'box.lan.example.',
      'vnc.test',
      'x.desk.test:443',
    ]) {
      assert.ok(isHostAllowedBy(ok, mode), ok);
    }
    for (const bad of [
      undefined,
      '',
      'rebind.attacker.example',
      'vnc.test.attacker.example',
      'desk.test',
      'a.b.desk.test',
      'localhost.attacker.example',
      '[::1',
      'box.attacker.example',
    ]) {
      assert.ok(!isHostAllowedBy(bad, mode), String(bad));
    }
    assert.ok(isHostAllowedBy('[fd00::5]:6080', auto([], 'fd00::5')), 'an IPv6 listen host');
    assert.ok(isHostAllowedBy('anything.example', { kind: 'any' }));
  });

  test('machine names: os.hostname(), /etc/hostname and every name on /etc/hosts lines that carry one of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-hostnames-'));
    writeFileSync(join(dir, 'hostname'), 'node7\n');
    writeFileSync(
      join(dir, 'hosts'),
      '127.0.0.1 localhost\n127.0.1.1 node7.cluster.example node7 # this machine\n10.0.0.9 other.example other\n',
    );
    const names = machineHostNames({ hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts') });
    for (const n of [hostname().toLowerCase(), 'node7', 'node7.cluster.example']) assert.ok(names.includes(n), n);
    assert.ok(!names.includes('other.example') && !names.includes('localhost'));
    assert.ok(
      machineHostNames({ hostname: join(dir, 'missing'), hosts: join(dir, 'missing') }).includes(
        hostname().toLowerCase(),
      ),
    );
  });

  test('mode: names → list, any → off, none → automatic; --host-token without names → off', () => {
    const base = { listen: { kind: 'tcp', host: '0.0.0.0' }, targets: { kind: 'fixed' } };
    const policy = (allowedHosts: string[]) => ({ allowedHosts });
    assert.equal(hostModeOf({ ...base, policy: policy(['any']) }, () => [], []).kind, 'any');
    assert.deepEqual(
      hostModeOf({ ...base, policy: policy(['a.example']) }, () => [], []),
      { kind: 'list', names: ['a.example'] },
    );
    assert.equal(hostModeOf(base, () => [], []).kind, 'auto');
    assert.equal(hostModeOf({ ...base, targets: { kind: 'token', from: 'host' } }, () => [], []).kind, 'any');
    assert.equal(
      hostModeOf({ ...base, targets: { kind: 'token', from: 'host' }, policy: policy(['t.example']) }, () => [], [])
        .kind,
      'list',
    );
  });
});
