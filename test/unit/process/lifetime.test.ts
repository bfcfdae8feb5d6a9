// websockify's lifetime rules (src/process/lifetime.ts) driven by explicit session calls and a clock the test fires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLifetime, type Clock, type LifetimeRules } from '../../../src/process/lifetime.js';

/** A clock whose timers run only when the test fires them. */
function fakeClock(): { clock: Clock; pending: () => number[]; fire: (ms: number) => void } {
  const timers: { ms: number; fn: () => void; live: boolean }[] = [];
  return {
    clock: (ms, fn) => {
      const timer = { ms, fn, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
    pending: () => timers.filter((t) => t.live).map((t) => t.ms),
    fire: (ms) => {
      const timer = timers.find((t) => t.live && t.ms === ms);
      assert.ok(timer, `a ${ms} ms timer is pending`);
      timer.live = false;
      timer.fn();
    },
  };
}

function setUp(rules: Partial<LifetimeRules>) {
  const events: string[] = [];
  const clock = fakeClock();
  const lifetime = createLifetime(
    { runOnce: false, timeoutMs: 0, idleTimeoutMs: 0, ...rules },
    {
      stop: (why) => events.push(`stop ${why}`),
      stopAccepting: () => events.push('stop accepting'),
      waiting: (sessions) => events.push(`waiting for ${sessions}`),
    },
    clock.clock,
  );
  return { lifetime, events, clock };
}

test('no rules: no timers, sessions come and go, nothing stops', () => {
  const { lifetime, events, clock } = setUp({});
  lifetime.start();
  lifetime.sessionOpened();
  lifetime.sessionClosed();
  assert.deepEqual(clock.pending(), []);
  assert.deepEqual(events, []);
});

test('--run-once: the first session that ends stops the process', () => {
  const { lifetime, events } = setUp({ runOnce: true });
  lifetime.start();
  lifetime.sessionOpened();
  lifetime.sessionOpened();
  assert.deepEqual(events, []);
  lifetime.sessionClosed();
  assert.deepEqual(events, ['stop run-once']);
});

test('--idle-timeout: armed at start and after the last session, cancelled while one is open', () => {
  const { lifetime, events, clock } = setUp({ idleTimeoutMs: 5000 });
  assert.deepEqual(clock.pending(), [], 'nothing runs before start');
  lifetime.start();
  assert.deepEqual(clock.pending(), [5000]);
  lifetime.sessionOpened();
  lifetime.sessionOpened();
  assert.deepEqual(clock.pending(), [], 'a session cancels the idle timer');
  lifetime.sessionClosed();
  assert.deepEqual(clock.pending(), [], 'one session still open');
  lifetime.sessionClosed();
  assert.deepEqual(clock.pending(), [5000], 'idle again');
  clock.fire(5000);
  assert.deepEqual(events, ['stop idle-timeout']);
});

test('--timeout with no session open: stop accepting and stop at once', () => {
  const { lifetime, events, clock } = setUp({ timeoutMs: 3000 });
  lifetime.start();
  clock.fire(3000);
  assert.deepEqual(events, ['stop accepting', 'stop timeout']);
});

test('--timeout with sessions open: stop accepting, wait, stop when the last one ends', () => {
  const { lifetime, events, clock } = setUp({ timeoutMs: 3000, idleTimeoutMs: 1000 });
  lifetime.start();
  lifetime.sessionOpened();
  lifetime.sessionOpened();
  clock.fire(3000);
  assert.deepEqual(events, ['stop accepting', 'waiting for 2']);
  lifetime.sessionClosed();
  assert.deepEqual(events, ['stop accepting', 'waiting for 2']);
  lifetime.sessionClosed();
  assert.deepEqual(events, ['stop accepting', 'waiting for 2', 'stop timeout']);
  assert.deepEqual(clock.pending(), [], 'the idle timer is not armed once stopping for --timeout');
});
