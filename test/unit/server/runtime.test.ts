// The runtime snapshot: what a first build makes, what a reload's build keeps from the running snapshot (the
// WebSocket server and the recorder while the message cap and the record prefix stay), and --traffic's sink.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import type { Config } from '../../../src/config/types.js';
import { buildRuntime, isServing, type LoadedParts, type RuntimeTools } from '../../../src/server/runtime.js';
import { fixedTarget } from '../../../src/targets/fixed.js';
import { captureLogger, proxyConfig } from '../../helpers/proxy.js';

const NOTHING_LOADED: LoadedParts = {
  webRootReal: undefined,
  authenticator: undefined,
  targetTls: undefined,
  resolver: undefined,
};

/** Tools whose makeWss counts the servers it made. */
function tools(sink?: (chars: string) => void) {
  const made: number[] = [];
  const t: RuntimeTools = {
    log: captureLogger().logger,
    trafficSink: sink,
    certNames: () => [],
    makeWss: (maxPayload) => {
      made.push(maxPayload);
      return new WebSocketServer({ noServer: true, maxPayload });
    },
  };
  return { t, made };
}

const withLimits = (c: Config, maxMessageBytes: number): Config => ({ ...c, limits: { ...c.limits, maxMessageBytes } });

describe('runtime snapshot', () => {
  test('a first build makes its own WebSocket server; it serves once a token source is in', async () => {
    const config = await proxyConfig(1);
    const { t, made } = tools();
    const first = buildRuntime(config, NOTHING_LOADED, t);
    assert.deepEqual(made, [config.limits.maxMessageBytes]);
    assert.equal(first.config, config);
    assert.equal(first.recorder, undefined);
    assert.equal(isServing(first), false);
    const resolver = fixedTarget({ kind: 'tcp', host: '127.0.0.1', port: 1 });
    assert.equal(isServing({ ...first, resolver }), true);
  });

  test('a reload keeps the WebSocket server and the recorder unless the message cap or record prefix changes', async () => {
    const config = await proxyConfig(1, { recordPrefix: '/tmp/wsproxy-runtime-test' });
    const { t, made } = tools();
    const running = buildRuntime(config, NOTHING_LOADED, t);
    assert.ok(running.recorder);
    const same = buildRuntime({ ...config }, NOTHING_LOADED, t, running);
    assert.equal(same.wss, running.wss);
    assert.equal(same.recorder, running.recorder);
    const bigger = buildRuntime(withLimits(config, config.limits.maxMessageBytes * 2), NOTHING_LOADED, t, running);
    assert.notEqual(bigger.wss, running.wss);
    assert.notEqual(bigger.recorder, running.recorder);
    assert.equal(made.length, 2);
    const elsewhere = buildRuntime({ ...config, recordPrefix: '/tmp/wsproxy-other' }, NOTHING_LOADED, t, running);
    assert.equal(elsewhere.wss, running.wss);
    assert.notEqual(elsewhere.recorder, running.recorder);
  });

  test('--traffic turns the embedder’s sink on; without it there is none', async () => {
    const sink = (): void => {};
    const { t } = tools(sink);
    assert.equal(buildRuntime(await proxyConfig(1, { traffic: true }), NOTHING_LOADED, t).trafficSink, sink);
    assert.equal(buildRuntime(await proxyConfig(1), NOTHING_LOADED, t).trafficSink, undefined);
  });
});
