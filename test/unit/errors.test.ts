import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ERROR_CODES, FerryError, toFerryError } from '../../src/api/errors.js';

describe('FerryError', () => {
  it('carries a stable code, retriable flag, cause and details', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new FerryError('FERRY_CONNECTION', 'cannot reach Kafka at 127.0.0.1:9092', {
      retriable: true,
      cause,
      details: { broker: '127.0.0.1:9092' },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('FERRY_CONNECTION');
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ broker: '127.0.0.1:9092' });
  });

  it('is not retriable unless said so', () => {
    expect(new FerryError('FERRY_AUTH', 'denied').retriable).toBe(false);
  });

  it('ConfigError prefixes the message with the field path', () => {
    const err = new ConfigError('sink.url', 'expected a postgres:// URL');
    expect(err.message).toBe('sink.url: expected a postgres:// URL');
    expect(err.path).toBe('sink.url');
    expect(err.code).toBe('FERRY_CONFIG_INVALID');
  });

  it('toFerryError wraps foreign errors and keeps FerryErrors as they are', () => {
    const own = new FerryError('FERRY_APPLY', 'x');
    expect(toFerryError(own)).toBe(own);
    const wrapped = toFerryError(new TypeError('boom'), 'FERRY_DECODE');
    expect(wrapped.code).toBe('FERRY_DECODE');
    expect(wrapped.message).toBe('boom');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });

  it('every error code is documented in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(doc, code).toContain(`| \`${code}\` |`);
  });
});
