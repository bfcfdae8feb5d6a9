// Addresses (src/net/address.ts): text in, facts out. Node's own URL parser and isIP are the oracles for spelling.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  bracketHost,
  cidrContains,
  cidrWithin,
  clientKey,
  foldMapped,
  hostPort,
  ipText,
  isIpLiteral,
  isLoopbackHost,
  parseCidr,
  parseIp,
  splitHostPort,
  type Cidr,
} from '../../../src/net/address.js';

const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const v4 = fc.ipV4();
const hexOf = (b: Uint8Array): string =>
  [...Buffer.from(b).toString('hex').matchAll(/.{4}/g)].map((m) => m[0]).join(':');
const canonical6 = (a: string): string => new URL(`http://[${a}]/`).hostname.slice(1, -1);
const isMapped = (b: Uint8Array): boolean =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
const cidr = (t: string): Cidr => {
  const c = parseCidr(t);
  assert.ok(!('problem' in c), t);
  return c;
};

describe('parseIp', () => {
  test("takes only Node's spellings: no inet_aton forms, no brackets, no names", () => {
    for (const t of [
      '127.1',
      '0x7f.0.0.1',
      '010.0.0.1',
      '1.2.3.04',
      '[::1]',
      'localhost',
      '',
      '1.2.3.4.5',
      '::ffff:010.0.0.1',
    ])
      assert.equal(parseIp(t), undefined, t);
  });

  test('folds IPv4-mapped IPv6 in every spelling, drops the zone', () => {
    for (const t of [
      '::ffff:192.0.2.7',
      '::FFFF:192.0.2.7',
      '::ffff:c000:207',
      '0:0:0:0:0:ffff:c000:207',
      '::ffff:192.0.2.7%eth0',
    ]) {
      const ip = parseIp(t);
      assert.equal(ip?.kind(), 'ipv4', t);
      assert.equal(ip && ipText(ip), '192.0.2.7', t);
    }
    const zoned = parseIp('fe80::1%eth0');
    assert.equal(zoned && ipText(zoned), 'fe80::1');
  });

  test('::a.b.c.d (IPv4-compatible) stays IPv6, unlike ipaddr.js alone: an IPv4 rule must not match it', () => {
    const ip = parseIp('::10.0.0.1');
    assert.equal(ip?.kind(), 'ipv6');
    assert.equal(ip && ipText(ip), '::a00:1');
    assert.equal(ip && cidrContains(cidr('10.0.0.0/8'), ip), false);
    assert.equal(ip && cidrContains(cidr('::/96'), ip), true);
  });

  test('any 16 bytes in hex: the same bytes back (mapped ones as their IPv4), RFC 5952 text as the URL parser writes it', () => {
    fc.assert(
      fc.property(bytes16, (b) => {
        const ip = parseIp(hexOf(b));
        assert.ok(ip);
        assert.deepEqual(ip.toByteArray(), isMapped(b) ? [...b.subarray(12)] : [...b]);
        if (!isMapped(b)) assert.equal(ipText(ip), canonical6(hexOf(b)));
      }),
      { numRuns: 500 },
    );
  });

  test('every IPv4 address equals its mapped forms (dotted and hex)', () => {
    fc.assert(
      fc.property(v4, (a) => {
        const hex = Buffer.from(a.split('.').map(Number)).toString('hex');
        for (const m of [`::ffff:${a}`, `::ffff:${hex.slice(0, 4)}:${hex.slice(4)}`]) {
          assert.equal(foldMapped(m), a, m);
          assert.equal(clientKey(m), a, m);
        }
      }),
    );
  });
});

describe('foldMapped', () => {
  test('anything not mapped comes back as it was', () => {
    for (const t of ['192.0.2.7', '2001:DB8::1', 'unix', '', '::1', '::10.0.0.1', 'fe80::1%eth0'])
      assert.equal(foldMapped(t), t, t);
  });
});

describe('clientKey', () => {
  test('IPv6 by /64 in full hex; IPv4 and non-IP as they are', () => {
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:0db8:0001:0002::/64');
    assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('unix'), 'unix');
  });

  test('two IPv6 addresses share a key exactly when their first 8 bytes agree', () => {
    fc.assert(
      fc.property(bytes16, bytes16, (a, b) => {
        fc.pre(!isMapped(a) && !isMapped(b));
        const same = Buffer.from(a.subarray(0, 8)).equals(Buffer.from(b.subarray(0, 8)));
        assert.equal(clientKey(hexOf(a)) === clientKey(hexOf(b)), same);
        const mixed = Buffer.concat([a.subarray(0, 8), b.subarray(8)]);
        assert.equal(clientKey(hexOf(mixed)), clientKey(hexOf(a)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostPort and bracketHost', () => {
  test('examples', () => {
    assert.equal(hostPort('192.0.2.1', 5900), '192.0.2.1:5900');
    assert.equal(hostPort('2001:db8::1', 5900), '[2001:db8::1]:5900');
    assert.equal(hostPort('[::1]', '80'), '[::1]:80', 'already bracketed stays');
    assert.equal(hostPort('vnc.example', 5900), 'vnc.example:5900');
    assert.equal(bracketHost('::1'), '[::1]');
    assert.equal(bracketHost('localhost'), 'localhost');
  });

  test('format∘parse: the URL parser reads back the same address and port', () => {
    const address = fc.oneof(v4, bytes16.filter((b) => !isMapped(b)).map(hexOf));
    fc.assert(
      fc.property(address, fc.integer({ min: 1, max: 65535 }), (a, port) => {
        fc.pre(port !== 80);
        const ip = parseIp(a);
        assert.ok(ip);
        const url = new URL(`http://${hostPort(ipText(ip), port)}/`);
        assert.equal(url.port, String(port));
        assert.equal(url.hostname, isIP(a) === 6 ? `[${canonical6(a)}]` : a);
        const back = parseIp(url.hostname.replace(/^\[|\]$/g, ''));
        assert.deepEqual(back?.toByteArray(), ip.toByteArray());
      }),
      { numRuns: 300 },
    );
  });

  test('splitHostPort∘hostPort is the identity on (address, port), bracketed or not', () => {
    const address = fc.oneof(v4, bytes16.map(hexOf), fc.constantFrom('localhost', 'vnc.example'));
    fc.assert(
      fc.property(address, fc.integer({ min: 0, max: 65535 }), (a, port) => {
        assert.deepEqual(splitHostPort(hostPort(a, port)), { host: a, port: String(port) });
        if (a.includes(':'))
          assert.deepEqual(
            splitHostPort(`${a}:${port}`),
            { host: a, port: String(port) },
            "websockify's unbracketed form",
          );
      }),
      { numRuns: 300 },
    );
  });

  test('splitHostPort edge cases', () => {
    assert.deepEqual(splitHostPort('6080'), { host: undefined, port: '6080' });
    assert.deepEqual(splitHostPort('[::1'), { host: '[::1', port: '' }, 'a bad bracket: the whole text as host');
    assert.deepEqual(splitHostPort('[::1]5900'), { host: '[::1]5900', port: '' });
    assert.deepEqual(splitHostPort(':6080'), { host: '', port: '6080' });
  });
});

describe('isLoopbackHost and isIpLiteral', () => {
  test('loopback in any spelling; nothing else', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
    ])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of [
      '0.0.0.0',
      '::',
      '::2',
      '10.0.0.1',
      '127.1',
      'localhost.example',
      'sub.localhost',
      '::ffff:10.0.0.1',
      '::127.0.0.1',
      '',
    ])
      assert.equal(isLoopbackHost(h), false, h);
  });

  test('IP literals only, unbracketed', () => {
    for (const t of ['1.2.3.4', '::1', 'fe80::1%eth0']) assert.equal(isIpLiteral(t), true, t);
    for (const t of ['[::1]', '127.1', 'example.com', '']) assert.equal(isIpLiteral(t), false, t);
  });
});

describe('parseCidr, cidrContains, cidrWithin', () => {
  test('problems: not an address (names, zones, inet_aton) or a prefix out of range', () => {
    for (const t of ['example.com/8', 'fe80::1%eth0/64', '10.1/8', ''])
      assert.deepEqual(parseCidr(t), { problem: 'address' }, t);
    assert.deepEqual(parseCidr('10.0.0.0/33'), { problem: 'prefix', max: 32 });
    assert.deepEqual(parseCidr('::/129'), { problem: 'prefix', max: 128 });
    assert.deepEqual(
      parseCidr('::ffff:10.0.0.0/95'),
      { problem: 'prefix', max: 32 },
      'a mapped range shorter than the mapping',
    );
    assert.deepEqual(parseCidr('10.0.0.0/x'), { problem: 'prefix', max: 32 });
  });

  test('host bits are cleared; a mapped range becomes the IPv4 range', () => {
    const c = cidr('10.1.2.3/8');
    assert.equal(ipText(c.ip), '10.0.0.0');
    const m = cidr('::ffff:10.0.0.0/104');
    assert.deepEqual([ipText(m.ip), m.prefix], ['10.0.0.0', 8]);
    assert.equal(cidrWithin(m, cidr('10.0.0.0/8')), true);
    assert.equal(cidrWithin(cidr('10.0.0.0/8'), cidr('10.0.0.0/16')), false);
  });

  test('an address is in its own /n for every n, and flipping a bit inside the prefix takes it out', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          bytes16.filter((b) => !isMapped(b)),
        ),
        fc.nat(),
        (b, n) => {
          const bits = b.length * 8;
          const prefix = n % (bits + 1);
          const text = b.length === 4 ? [...b].join('.') : hexOf(b);
          const ip = parseIp(text);
          assert.ok(ip);
          const c = cidr(`${text}/${prefix}`);
          assert.equal(cidrContains(c, ip), true);
          if (prefix > 0) {
            const flipped = Uint8Array.from(b);
            const bit = (n >> 3) % prefix;
            flipped[bit >> 3]! ^= 0x80 >> (bit & 7);
            fc.pre(b.length === 4 || !isMapped(flipped));
            const other = parseIp(b.length === 4 ? [...flipped].join('.') : hexOf(flipped));
            assert.ok(other);
            assert.equal(cidrContains(c, other), false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('families never cross', () => {
    const all4 = cidr('0.0.0.0/0');
    const all6 = cidr('::/0');
    assert.equal(cidrContains(all4, parseIp('2001:db8::1')!), false);
    assert.equal(cidrContains(all6, parseIp('192.0.2.1')!), false);
    assert.equal(cidrContains(all4, parseIp('::ffff:192.0.2.1')!), true, 'mapped is IPv4');
  });
});

describe('splitHostPort (the listen and target forms)', () => {
  test('a port alone has no host', () => {
    assert.deepEqual(splitHostPort('6080'), { host: undefined, port: '6080' });
  });
  test('host:port, [v6]:port and the unbracketed websockify form (last colon wins)', () => {
    assert.deepEqual(splitHostPort('127.0.0.1:6080'), { host: '127.0.0.1', port: '6080' });
    assert.deepEqual(splitHostPort('[::1]:6080'), { host: '::1', port: '6080' });
    assert.deepEqual(splitHostPort('::1:6080'), { host: '::1', port: '6080' });
    assert.deepEqual(splitHostPort('[2001:db8::1]:5900'), { host: '2001:db8::1', port: '5900' });
    assert.deepEqual(splitHostPort(':6080'), { host: '', port: '6080' });
  });
  test('an unterminated or port-less bracket is left whole, with no port', () => {
    assert.deepEqual(splitHostPort('[::1'), { host: '[::1', port: '' });
    assert.deepEqual(splitHostPort('[::1]'), { host: '[::1]', port: '' });
  });
});
