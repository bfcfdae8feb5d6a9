// PROXY protocol v1/v2 on bytes (src/net/proxy-protocol.ts): the spec's examples, every truncation, garbage, and our
// own headers round-tripped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  parseProxyHeader,
  proxyHeaderV1,
  proxyHeaderV2,
  V2_SIGNATURE,
  type ProxyEndpoint,
} from '../../../src/net/proxy-protocol.js';

const v2 = (verCmd: number, famProto: number, body: number[]): Buffer =>
  Buffer.concat([
    V2_SIGNATURE,
    Buffer.from([verCmd, famProto, body.length >> 8, body.length & 0xff]),
    Buffer.from(body),
  ]);

describe('parseProxyHeader v1', () => {
  test("the spec's TCP4 and TCP6 examples, with the client's bytes after the header", () => {
    const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
    const r = parseProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n'));
    assert.deepEqual(r, {
      kind: 'header',
      version: 1,
      length: line.length,
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
    });
    const six = 'PROXY TCP6 2001:db8::1 2001:db8::2 4711 6080\r\n';
    const r6 = parseProxyHeader(Buffer.from(six));
    assert.equal(r6.kind, 'header');
    assert.deepEqual(r6.kind === 'header' ? r6.source : undefined, { address: '2001:db8::1', port: 4711 });
  });

  test('UNKNOWN (with or without the rest of the line) means the socket address', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', version: 1, length: 15 });
    const long = 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n';
    assert.deepEqual(parseProxyHeader(Buffer.from(long)), { kind: 'header', version: 1, length: long.length });
  });

  test('every truncation of a valid line is incomplete, never a header or an error', () => {
    const line = Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
    for (let n = 0; n < line.length; n++)
      assert.deepEqual(parseProxyHeader(line.subarray(0, n)), { kind: 'incomplete' }, `first ${n} bytes`);
  });

  test('malformed lines are invalid', () => {
    const bad = [
      'PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n', // a field missing
      'PROXY TCP4 2001:db8::1 192.168.0.11 1 2\r\n', // family mismatch
      'PROXY TCP4 192.168.0.256 192.168.0.11 1 2\r\n', // not an address
      'PROXY TCP4 192.168.0.1 192.168.0.11 65536 2\r\n', // port out of range
      'PROXY TCP4 192.168.0.1 192.168.0.11 0080 2\r\n', // leading zero
      'PROXY UDP4 192.168.0.1 192.168.0.11 1 2\r\n', // not TCP
      'PROXY TCP4  192.168.0.1 192.168.0.11 1 2\r\n', // double space
    ];
    for (const b of bad) assert.equal(parseProxyHeader(Buffer.from(b)).kind, 'invalid', JSON.stringify(b));
    // No CRLF within 107 bytes.
    assert.equal(parseProxyHeader(Buffer.from('PROXY ' + 'x'.repeat(120))).kind, 'invalid');
  });

  test('garbage and plain clients are invalid at once (no waiting for more)', () => {
    for (const g of ['GET / HTTP/1.1\r\n', 'proxy TCP4', 'PROXX', '\x16\x03\x01'])
      assert.equal(parseProxyHeader(Buffer.from(g, 'latin1')).kind, 'invalid', g);
    assert.equal(parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01])).kind, 'invalid', 'signature diverges');
  });
});

describe('parseProxyHeader v2', () => {
  test('PROXY TCP4 with a TLV after the addresses', () => {
    const h = v2(
      0x21,
      0x11,
      [127, 0, 0, 1, 10, 0, 0, 2, 0x12, 0x34, 0x17, 0x70, /* TLV: NOOP */ 0x04, 0x00, 0x01, 0x00],
    );
    const r = parseProxyHeader(Buffer.concat([h, Buffer.from('GET')]));
    assert.deepEqual(r, {
      kind: 'header',
      version: 2,
      length: h.length,
      source: { address: '127.0.0.1', port: 0x1234 },
      destination: { address: '10.0.0.2', port: 6000 },
    });
  });

  test('PROXY TCP6 gives canonical IPv6 text', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1];
    const dst = [...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 7];
    const r = parseProxyHeader(v2(0x21, 0x21, [...src, ...dst, 0, 80, 0x1f, 0x90]));
    assert.equal(r.kind, 'header');
    if (r.kind !== 'header') return;
    assert.deepEqual(r.source, { address: '2001:db8::1', port: 80 });
    assert.equal(r.destination?.port, 8080);
    assert.match(r.destination?.address ?? '', /^::ffff:/);
  });

  test('LOCAL, UNSPEC, UNIX and datagrams fall back to the socket address', () => {
    for (const [cmd, fam, body] of [
      [0x20, 0x00, []],
      [0x20, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]], // LOCAL ignores the addresses
      [0x21, 0x00, []],
      [0x21, 0x31, Array<number>(216).fill(0)],
      [0x21, 0x12, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]],
    ] as [number, number, number[]][]) {
      const h = v2(cmd, fam, body);
      assert.deepEqual(parseProxyHeader(h), { kind: 'header', version: 2, length: h.length }, `cmd ${cmd} fam ${fam}`);
    }
  });

  test('every truncation is incomplete; bad version, command, family and short blocks are invalid', () => {
    const h = v2(0x21, 0x11, [127, 0, 0, 1, 10, 0, 0, 2, 0x12, 0x34, 0x17, 0x70]);
    for (let n = 0; n < h.length; n++)
      assert.deepEqual(parseProxyHeader(h.subarray(0, n)), { kind: 'incomplete' }, `first ${n} bytes`);
    assert.equal(parseProxyHeader(v2(0x11, 0x11, [])).kind, 'invalid', 'version 1 nibble');
    assert.equal(parseProxyHeader(v2(0x22, 0x11, [])).kind, 'invalid', 'command 2');
    assert.equal(parseProxyHeader(v2(0x21, 0x11, [1, 2, 3])).kind, 'invalid', 'short TCP4 block');
    assert.equal(parseProxyHeader(v2(0x21, 0x21, Array<number>(12).fill(0))).kind, 'invalid', 'short TCP6 block');
    assert.equal(parseProxyHeader(v2(0x21, 0x41, [])).kind, 'invalid', 'family 4');
  });
});

describe('headers we send (--proxy-protocol-out)', () => {
  test('v1 bytes are exact and parse back', () => {
    const h = proxyHeaderV1({ address: '192.0.2.1', port: 50000 }, { address: '198.51.100.2', port: 6080 });
    assert.equal(h.toString('latin1'), 'PROXY TCP4 192.0.2.1 198.51.100.2 50000 6080\r\n');
    assert.equal(proxyHeaderV1(undefined, undefined).toString('latin1'), 'PROXY UNKNOWN\r\n');
    const mixed = proxyHeaderV1({ address: '192.0.2.1', port: 1 }, { address: '2001:db8::2', port: 2 }).toString(
      'latin1',
    );
    assert.match(mixed, /^PROXY TCP6 ::ffff:c000:201 2001:db8::2 1 2\r\n$/);
    assert.equal(parseProxyHeader(Buffer.from(mixed)).kind, 'header');
  });

  test('v2 bytes are exact and parse back', () => {
    const h = proxyHeaderV2({ address: '192.0.2.1', port: 50000 }, { address: '::ffff:198.51.100.2', port: 6080 });
    assert.deepEqual(
      h,
      Buffer.concat([
        V2_SIGNATURE,
        Buffer.from([0x21, 0x11, 0, 12, 192, 0, 2, 1, 198, 51, 100, 2, 0xc3, 0x50, 0x17, 0xc0]),
      ]),
    );
    const six = proxyHeaderV2({ address: '2001:db8::1', port: 1 }, { address: '::1', port: 2 });
    assert.equal(six.length, 16 + 36);
    const back = parseProxyHeader(six);
    assert.deepEqual(back.kind === 'header' ? [back.source, back.destination] : undefined, [
      { address: '2001:db8::1', port: 1 },
      { address: '::1', port: 2 },
    ]);
    assert.deepEqual(proxyHeaderV2(undefined, undefined), Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0, 0, 0])]));
  });
});

describe('our headers, read back by our parser (one module, both directions)', () => {
  const port = fc.integer({ min: 0, max: 65535 });
  const v4 = fc.ipV4();
  const v6 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((g) => g.map((x) => x.toString(16)).join(':'));
  const endpoint = (address: fc.Arbitrary<string>): fc.Arbitrary<ProxyEndpoint> => fc.record({ address, port });
  const canonical = (a: string): string => (a.includes(':') ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);
  const mapped = (a: string): boolean => /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(canonical(a));

  test('v1 and v2 round-trip any IPv4 or IPv6 pair (IPv6 in canonical text)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(endpoint(v4), endpoint(v4)), fc.tuple(endpoint(v6), endpoint(v6))),
        ([src, dst]) => {
          fc.pre(!mapped(src.address) && !mapped(dst.address));
          for (const h of [proxyHeaderV1(src, dst), proxyHeaderV2(src, dst)]) {
            const r = parseProxyHeader(h);
            assert.equal(r.kind, 'header');
            if (r.kind !== 'header') return;
            assert.equal(r.length, h.length);
            assert.deepEqual(
              [r.source, r.destination],
              [
                { address: canonical(src.address), port: src.port },
                { address: canonical(dst.address), port: dst.port },
              ],
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a mixed pair is written as IPv6 with the IPv4 end mapped; a mapped pair (any spelling) as IPv4', () => {
    const mixed = parseProxyHeader(
      proxyHeaderV2({ address: '192.0.2.1', port: 1 }, { address: '2001:db8::2', port: 2 }),
    );
    assert.deepEqual(mixed.kind === 'header' ? mixed.source : undefined, { address: '::ffff:c000:201', port: 1 });
    const h = proxyHeaderV1({ address: '::ffff:c000:201', port: 1 }, { address: '::FFFF:198.51.100.2', port: 2 });
    assert.equal(h.toString('latin1'), 'PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n');
  });

  test('an IPv6 zone is dropped, not thrown on; a non-IP end gives UNKNOWN / LOCAL', () => {
    assert.equal(
      proxyHeaderV1({ address: 'fe80::1%eth0', port: 1 }, { address: 'fe80::2', port: 2 }).toString('latin1'),
      'PROXY TCP6 fe80::1 fe80::2 1 2\r\n',
    );
    assert.equal(
      proxyHeaderV1({ address: 'unix', port: 0 }, { address: '::1', port: 2 }).toString('latin1'),
      'PROXY UNKNOWN\r\n',
    );
    assert.deepEqual(
      proxyHeaderV2({ address: '127.1', port: 0 }, { address: '127.0.0.1', port: 2 }),
      Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0, 0, 0])]),
    );
  });

  test('v2 TCP6 address text is what the URL parser (RFC 5952) writes, for any 16 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (addrs) => {
        const r = parseProxyHeader(
          Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x21, 0, 36]), addrs, Buffer.alloc(4)]),
        );
        assert.equal(r.kind, 'header');
        const hex = [...Buffer.from(addrs.subarray(0, 16)).toString('hex').matchAll(/.{4}/g)]
          .map((m) => m[0])
          .join(':');
        assert.equal(r.kind === 'header' ? r.source?.address : '', canonical(hex));
      }),
      { numRuns: 300 },
    );
  });
});
