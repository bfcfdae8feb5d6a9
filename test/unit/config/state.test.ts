import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultStateDir } from '../../../src/config/state.js';

describe('defaultStateDir', () => {
  test('XDG_STATE_HOME wins when set', () => {
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/wsproxy');
  });
  test('otherwise HOME/.local/state', () => {
    assert.equal(defaultStateDir({ HOME: '/home/u' }), '/home/u/.local/state/wsproxy');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '', HOME: '/home/u' }), '/home/u/.local/state/wsproxy');
  });
  test('without HOME, the OS home directory', () => {
    assert.equal(defaultStateDir({}), join(homedir(), '.local', 'state', 'wsproxy'));
  });
});

describe('edge values found in review', () => {
  test('a relative XDG_STATE_HOME is ignored', () => {
    assert.equal(
      defaultStateDir({ XDG_STATE_HOME: 'relative/state', HOME: '/home/u' }),
      '/home/u/.local/state/wsproxy',
    );
  });
});
