/**
 * `npm run demo` in a scripted run: `ferry demo` on the test sandbox (it reuses a running
 * sandbox at that directory; it recreates MariaDB database `shop` and PostgreSQL schema `shop`),
 * a short write phase and a small shop. It must end with the verification saying the target
 * equals the source, and exit 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runFerry } from '../helpers/cli.js';
import { sandboxDir } from '../helpers/sandbox.js';

beforeAll(() => ensureCliBuilt(), 300_000);

describe('ferry demo', () => {
  // Bounded work (a 3,000-order shop, 5 s of writes, one verify) that takes ~1 minute on an idle
  // machine and several on a loaded one; the child's bound stays under the test's, so a run that
  // is cut off still shows its output.
  it('moves the shop live and ends with "✓ the target equals the source", exit 0', async () => {
    const res = await runFerry(['demo', '--dir', sandboxDir(), '--seconds', '5', '--orders', '3000'], {}, 400_000);
    const output = `${res.stdout}\n${res.stderr}`;
    expect(res.code, output.slice(-4000)).toBe(0);
    expect(res.stdout).toMatch(/^✓ the target equals the source: [\d,]+ rows in 3 tables, moved live in \d+s$/m);
    for (const step of ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']) expect(res.stderr).toContain(step);
    // It says how to stop.
    expect(res.stdout).toContain('Stop the sandbox: npx ferry sandbox down');
  }, 420_000);
});
