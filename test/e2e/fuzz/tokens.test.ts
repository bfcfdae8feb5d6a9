// Fuzz (issue #12): token strings in ?token= (TokenFile) and in the last path segment (TokenFileName), raw and
// %-encoded, unicode and huge. Seed and replay: see test/helpers/fuzz.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEchoTarget, upgradeRequest, type TestTarget } from '../../helpers/proxy.js';
import {
  assertHealthyAfter,
  assertServing,
  assertStatusIn,
  cutAt,
  fc,
  fuzzParams,
  judgeAnswer,
  rawConnect,
  startFuzzDaemon,
  untilAnswered,
  writeChunks,
  type FuzzDaemon,
} from '../../helpers/fuzz.js';

const KNOWN = ['alpha', 'tøkén', 'a+b=c', '%41', '日本語', 'with space', 'x'.repeat(200)];
// What a token request may get besides 101: 400 (bad request line), 401 (no token), 404 (unknown), 431 (too long).
const REFUSALS = [400, 401, 404, 431];

/** Token strings: known ones, known ones slightly changed, any unicode (lone surrogates too), %-sequences, huge. */
const tokenString = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc
    .tuple(fc.constantFrom(...KNOWN), fc.constantFrom('', ' ', '\n', '\n\n', '%', '\0', '/', '.', 'é'), fc.boolean())
    .map(([k, extra, front]) => (front ? extra + k : k + extra)),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc
    .array(
      fc.constantFrom(
        '%',
        '%2',
        '%41',
        '%zz',
        '%00',
        '%2F',
        '%2e',
        '%C3%A9',
        '%ED%A0%80',
        '%FF',
        '+',
        '&token=',
        '#',
        '?',
        '..',
        'a',
      ),
      { maxLength: 10 },
    )
    .map((a) => a.join('')),
  fc.tuple(fc.constantFrom('a', 'é', '%41', '日'), fc.integer({ min: 100, max: 12_000 })).map(([c, n]) => c.repeat(n)),
);

/** The token as written into the URL: %-encoded (undefined when the string has a lone surrogate), or raw UTF-8. */
function encoded(s: string): string | undefined {
  try {
    return encodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Sends an upgrade on `path` with `host` (latin1: each char one byte, so raw UTF-8 goes out as its bytes) and judges
 * the answer.
 */
async function upgradeAndJudge(
  port: number,
  path: string,
  cuts: number[],
  host = '127.0.0.1',
): Promise<ReturnType<typeof judgeAnswer>> {
  const socket = await rawConnect(port);
  const done = untilAnswered(socket, 6_000);
  await writeChunks(socket, cutAt(Buffer.from(upgradeRequest(path, {}, host), 'latin1'), cuts));
  return judgeAnswer(await done);
}

const asRawBytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

/** 101 exactly when `expectKnown`, else a refusal; anything else (503, 500, a hang) fails. */
function judgeToken(answer: ReturnType<typeof judgeAnswer>, expectKnown: boolean | undefined, context: string): void {
  const allowed = new Set(expectKnown === true ? [101, 431] : expectKnown === false ? REFUSALS : [101, ...REFUSALS]);
  assert.equal(answer.kind, 'http', `${context}: no HTTP answer`);
  assertStatusIn(answer, allowed, context);
}

describe('fuzz: token strings', () => {
  let target: TestTarget;
  let byFile: FuzzDaemon;
  let byName: FuzzDaemon;
  let byHost: FuzzDaemon;
  before(async () => {
    target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-fuzz-tokens-'));
    const file = join(dir, 'tokens.cfg');
    writeFileSync(file, KNOWN.map((t) => `${t}: 127.0.0.1:${target.port}\n`).join(''));
    const names = mkdtempSync(join(tmpdir(), 'wsproxy-fuzz-names-'));
    for (const t of KNOWN) writeFileSync(join(names, t), `127.0.0.1:${target.port}\n`);
    // Thousands of unknown tokens from one address: the brute-force guard (tested in limits) would answer 429 to all.
    byFile = await startFuzzDaemon([
      '--auth-failure-limit',
      '0',
      '--token-plugin',
      'TokenFile',
      '--token-source',
      file,
      '127.0.0.1:0',
    ]);
    byName = await startFuzzDaemon([
      '--auth-failure-limit',
      '0',
      '--token-plugin',
      'TokenFileName',
      '--token-source',
      names,
      '--token-from-path',
      '127.0.0.1:0',
    ]);
    byHost = await startFuzzDaemon([
      '--auth-failure-limit',
      '0',
      '--token-plugin',
      'TokenFile',
      '--token-source',
      file,
      '--host-token',
      '127.0.0.1:0',
    ]);
  });
  after(async () => {
    await byFile.stop();
    await byName.stop();
    await byHost.stop();
    await target.close();
  });

  test('?token= strings: 101 for a known token, a refusal otherwise', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(tokenString, fc.boolean(), cutsArb, async (s, raw, cuts) => {
        runs++;
        const enc = raw ? undefined : encoded(s);
        const path = `/websockify?token=${enc ?? asRawBytes(s)}`;
        // websockify drops newlines at the end of a token (its token file lines keep theirs).
        const expect = enc === undefined ? undefined : KNOWN.includes(s.replace(/\n+$/, ''));
        judgeToken(
          await upgradeAndJudge(byFile.port, path, cuts),
          expect,
          `token ${JSON.stringify(s.slice(0, 60))} (${s.length} chars, ${raw ? 'raw' : 'encoded'})`,
        );
        await assertServing(byFile, '/websockify?token=alpha');
      }),
      fuzzParams(200, 5_000),
    );
    console.log(`fuzz-tokens: ${runs} query tokens`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(byFile);
  });

  test('path tokens (TokenFileName): 101 for a known name, a refusal otherwise', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(tokenString, fc.boolean(), cutsArb, async (s, raw, cuts) => {
        runs++;
        const enc = raw ? undefined : encoded(s);
        const path = `/websockify/${enc ?? asRawBytes(s)}`;
        const expect = enc === undefined ? undefined : KNOWN.includes(s);
        judgeToken(
          await upgradeAndJudge(byName.port, path, cuts),
          expect,
          `path token ${JSON.stringify(s.slice(0, 60))} (${s.length} chars, ${raw ? 'raw' : 'encoded'})`,
        );
        await assertServing(byName, '/websockify/alpha');
      }),
      fuzzParams(200, 5_000),
    );
    console.log(`fuzz-tokens: ${runs} path tokens`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(byName);
  });

  test('Host tokens (--host-token): 101 for a known host name, a refusal otherwise', async () => {
    let runs = 0;
    const port = fc.constantFrom('', ':80', ':6080', ':', ':99999', ':x');
    await fc.assert(
      fc.asyncProperty(tokenString, port, fc.boolean(), cutsArb, async (s, p, bracket, cuts) => {
        runs++;
        const host = bracket ? `[${s}]${p}` : `${s}${p}`;
        // Only a plain printable ASCII name has one reading; for the rest (and '[name]', which is read as the name)
        // a refusal or a 101 may both be right.
        const plain = /^[!-~]+$/.test(s) && !/[:[\]]/.test(s) && !bracket;
        const expect = plain ? KNOWN.includes(s) : undefined;
        judgeToken(
          await upgradeAndJudge(byHost.port, '/websockify', cuts, asRawBytes(host)),
          expect,
          `Host ${JSON.stringify(host.slice(0, 60))} (${host.length} chars)`,
        );
        await assertServing(byHost, '/websockify', undefined, 'alpha');
      }),
      fuzzParams(200, 4_000),
    );
    console.log(`fuzz-tokens: ${runs} host tokens`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(byHost);
  });
});
