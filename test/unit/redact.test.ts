import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { compileSecrets, isSecretKey, maskUrlCredentials, redact, redactString } from '../../src/log/index.js';

const PASSWORD = 'Tr0ub4dor&3';

/** Everything a value turns into when printed. */
function printed(value: unknown): string {
  return JSON.stringify(redact(value, [PASSWORD]));
}

describe('maskUrlCredentials', () => {
  it('masks the password of URLs with credentials and keeps the rest', () => {
    expect(maskUrlCredentials('connecting to mysql://ferry:s3cret@db:3306/shop now')).toBe(
      'connecting to mysql://ferry:***@db:3306/shop now',
    );
    expect(maskUrlCredentials('postgres://u:a@b/c?d#e@host/db and https://x:y@z')).toBe(
      'postgres://u:***@host/db and https://x:***@z',
    );
    expect(maskUrlCredentials('redis://:pw@h')).toBe('redis://:***@h');
  });

  it('leaves URLs without a password alone', () => {
    for (const text of ['mysql://ferry@db/shop', 'http://host:8080/path', 'no url here', 'user@example.com']) {
      expect(maskUrlCredentials(text)).toBe(text);
    }
  });
});

describe('isSecretKey', () => {
  it('matches secret-looking keys, case-insensitively', () => {
    for (const key of [
      'password',
      'PASSWORD',
      'dbPassword',
      'passwd',
      'pwd',
      'secret',
      'clientSecret',
      'token',
      'accessToken',
      'sasl',
      'Authorization',
      'credentials',
      'apiKey',
      'api_key',
      'privateKey',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
  });

  it('does not match ordinary keys', () => {
    for (const key of ['user', 'host', 'table', 'op', 'position', 'message', 'bypassed', 'passes']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });
});

describe('redact', () => {
  it('replaces known secrets in a string, also URL-encoded', () => {
    expect(redactString(`login with ${PASSWORD} failed`, [PASSWORD])).toBe('login with *** failed');
    expect(redactString(`x=${encodeURIComponent(PASSWORD)}`, [PASSWORD])).toBe('x=***');
  });

  it('replaces secret-looking keys by [redacted], at any depth, in arrays too', () => {
    expect(redact({ user: 'u', password: 'whatever', nested: { deeper: [{ token: 't' }] } })).toEqual({
      user: 'u',
      password: '[redacted]',
      nested: { deeper: [{ token: '[redacted]' }] },
    });
  });

  it('redacts a whole sasl block', () => {
    expect(redact({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } })).toEqual({ sasl: '[redacted]' });
  });

  it('never lets a known password through: message, field, nested field, array, URL', () => {
    expect(printed(`password is ${PASSWORD}`)).not.toContain(PASSWORD);
    expect(printed({ note: PASSWORD })).not.toContain(PASSWORD);
    expect(printed({ a: { b: { c: `x${PASSWORD}y` } } })).not.toContain(PASSWORD);
    expect(printed(['a', [PASSWORD]])).not.toContain(PASSWORD);
    expect(printed({ [PASSWORD]: 1 })).not.toContain(PASSWORD);
    expect(printed(`mysql://ferry:${encodeURIComponent(PASSWORD)}@db/shop`)).toBe('"mysql://ferry:***@db/shop"');
    expect(printed(new Map([['k', PASSWORD]]))).not.toContain(PASSWORD);
  });

  it('masks URL passwords even when the secret is not known', () => {
    expect(redact({ dsn: 'postgres://ferry:unknown-pw@db:5432/shop' })).toEqual({
      dsn: 'postgres://ferry:***@db:5432/shop',
    });
  });

  it('serialises errors with message, code, stack, details and cause chain, all redacted', () => {
    const root = new Error(`connect mysql://ferry:${PASSWORD}@db:3306 refused`);
    const err = new FerryError('FERRY_CONNECTION', `cannot reach the source (${PASSWORD})`, {
      retriable: true,
      cause: root,
      details: { host: 'db', password: PASSWORD },
    });
    const out = redact(err, [PASSWORD]);
    expect(out).toMatchObject({
      type: 'FerryError',
      code: 'FERRY_CONNECTION',
      retriable: true,
      message: 'cannot reach the source (***)',
      details: { host: 'db', password: '[redacted]' },
      stack: expect.stringContaining('FerryError: cannot reach the source (***)'),
      cause: {
        type: 'Error',
        message: 'connect mysql://ferry:***@db:3306 refused',
        stack: expect.stringContaining('connect mysql://ferry:***@db:3306'),
      },
    });
    expect(JSON.stringify(out)).not.toContain(PASSWORD);
  });

  it('keeps extra own fields of driver errors', () => {
    const err = Object.assign(new Error('Access denied'), { errno: 1045, sqlState: '28000' });
    expect(redact(err)).toMatchObject({ type: 'Error', message: 'Access denied', errno: 1045, sqlState: '28000' });
  });

  it('handles cycles, bigints, dates, buffers and undefined', () => {
    const a: Record<string, unknown> = { n: 10n, at: new Date(0), buf: Buffer.from('abc'), gone: undefined };
    a['self'] = a;
    expect(redact(a)).toEqual({
      n: '10',
      at: '1970-01-01T00:00:00.000Z',
      buf: '[Buffer 3 bytes]',
      self: '[Circular]',
    });
  });

  it('does not change its input', () => {
    const input = { password: 'p', list: [PASSWORD] };
    redact(input, [PASSWORD]);
    expect(input).toEqual({ password: 'p', list: [PASSWORD] });
  });

  it('replaces the longest secret first and ignores empty ones', () => {
    const matcher = compileSecrets(['abc', 'abcdef', '']);
    expect(matcher.replace('xabcdefx abc')).toBe('x***x ***');
    expect(compileSecrets(['']).replace('text')).toBe('text');
  });

  it('escapes regular-expression characters in secrets', () => {
    expect(redactString('a.b*c(d) and aXb', ['a.b*c(d)'])).toBe('*** and aXb');
  });
});
