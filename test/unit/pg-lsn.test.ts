import { describe, expect, it } from 'vitest';
import { formatLsn, isLsn, normalizeLsn, parseLsn } from '../../connectors/postgres-source/lsn.js';

describe('PostgreSQL LSNs', () => {
  it('parse and format like PostgreSQL (%X/%X)', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(formatLsn(0x16b3748n)).toBe('0/16B3748');
    expect(formatLsn((0xabn << 32n) | 0xffn)).toBe('AB/FF');
    expect(normalizeLsn('0/016b3748')).toBe('0/16B3748');
    expect(formatLsn(0xffffffffffffffffn)).toBe('FFFFFFFF/FFFFFFFF');
  });

  it('orders across the 32-bit boundary', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
  });

  it('rejects what is not an LSN', () => {
    expect(isLsn('0/16B3748')).toBe(true);
    expect(isLsn('16B3748')).toBe(false);
    expect(isLsn(42)).toBe(false);
    expect(() => parseLsn('x/1')).toThrow(expect.objectContaining({ code: 'FERRY_DECODE' }));
  });
});
