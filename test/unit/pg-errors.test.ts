import { describe, expect, it } from 'vitest';
import { pgError } from '../../connectors/postgres-source/errors.js';
import { FerryError } from '../../src/api/index.js';

const sqlError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('PostgreSQL errors -> FerryError', () => {
  it('connection losses are retriable', () => {
    for (const err of [
      sqlError('57P01', 'terminating connection due to administrator command'),
      sqlError('ECONNREFUSED'),
      sqlError('08006'),
      new Error('Connection terminated unexpectedly'),
      sqlError('57P03', 'the database system is starting up'),
    ]) {
      expect(pgError(err, 'x')).toMatchObject({ code: 'FERRY_CONNECTION', retriable: true });
    }
  });

  it('a slot still held by another process is retried with an explanation', () => {
    const e = pgError(sqlError('55006', 'replication slot "s" is active for PID 42'), 'streaming');
    expect(e).toMatchObject({ code: 'FERRY_CONNECTION', retriable: true });
    expect(e.message).toContain('Another process is reading the slot');
  });

  it('credentials, privileges and lost WAL stop with the fix', () => {
    expect(pgError(sqlError('28P01'), 'x')).toMatchObject({ code: 'FERRY_AUTH', retriable: false });
    expect(pgError(sqlError('42501'), 'x')).toMatchObject({ code: 'FERRY_AUTH', retriable: false });
    const lost = pgError(sqlError('55000', 'can no longer get changes from replication slot "s"'), 'x');
    expect(lost).toMatchObject({ code: 'FERRY_POSITION_LOST', retriable: false });
    expect(lost.message).toContain('re-snapshot');
  });

  it('keeps FerryErrors, and does not retry bugs', () => {
    const own = new FerryError('FERRY_ENCODE', 'bad value');
    expect(pgError(own, 'x')).toBe(own);
    expect(pgError(new TypeError('x is undefined'), 'decoding')).toMatchObject({
      code: 'FERRY_INTERNAL',
      retriable: false,
    });
  });
});
