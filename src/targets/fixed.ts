/** The websockify default: every session goes to the one target given on the command line. */
import type { Resolution, Target, TargetResolver } from './types.js';

/** Resolves every request to `target`. */
export function fixedTarget(target: Target): TargetResolver {
  const found: Resolution = { kind: 'found', target };
  return { name: 'fixed', resolve: () => Promise.resolve(found) };
}
