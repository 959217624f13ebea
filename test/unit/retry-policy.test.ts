import { describe, expect, it } from 'vitest';
import { isTransientNetworkError } from '../../src/api/index.js';
import { everyMs, retry } from '../../src/runtime/retry.js';

describe('retry policy: time limit, reports, network errors', () => {
  it('gives up once giveUpAfterMs passed since the first failure, with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 15));
          throw new Error(`down ${calls}`);
        },
        { retries: Number.POSITIVE_INFINITY, minMs: 1, maxMs: 2, giveUpAfterMs: 40 },
      ),
    ).rejects.toThrow(/^down \d+$/);
    expect(calls).toBeGreaterThan(1);
  });

  it('everyMs lets the first report through, then one per period', () => {
    let now = 0;
    const gate = everyMs(60_000, () => now);
    expect(gate()).toBe(true);
    now = 30_000;
    expect(gate()).toBe(false);
    now = 60_000;
    expect(gate()).toBe(true);
    now = 100_000;
    expect(gate()).toBe(false);
  });

  it('isTransientNetworkError knows socket, DNS and mysql2 protocol failures only', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST'])
      expect(isTransientNetworkError(Object.assign(new Error(code), { code }))).toBe(true);
    expect(isTransientNetworkError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    expect(isTransientNetworkError(new Error('no code'))).toBe(false);
    expect(isTransientNetworkError(null)).toBe(false);
  });
});
