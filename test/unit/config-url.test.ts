import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/api/errors.js';
import { parseDbUrl } from '../../src/config/index.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDbUrl', () => {
  it('takes a mysql URL apart, with the default port', () => {
    expect(parseDbUrl('mysql://ferry:secret@db.local/shop?ssl=true', 'mysql')).toEqual({
      host: 'db.local',
      port: 3306,
      user: 'ferry',
      password: 'secret',
      database: 'shop',
      params: { ssl: 'true' },
    });
  });

  it('accepts mariadb:// and postgresql:// and the postgres default port', () => {
    expect(parseDbUrl('mariadb://u:p@h:3307/d', 'mysql').port).toBe(3307);
    expect(parseDbUrl('postgresql://u:p@h/d', 'postgres').port).toBe(5432);
  });

  it('URL-decodes user, password and database; strips IPv6 brackets', () => {
    expect(parseDbUrl('postgres://us%20er:p%40ss%2Fw%3Ard@[::1]:6543/my%20db', 'postgres')).toMatchObject({
      host: '::1',
      port: 6543,
      user: 'us er',
      password: 'p@ss/w:rd',
      database: 'my db',
    });
  });

  it('reads an unencoded password with @ / ? # up to the last @', () => {
    expect(parseDbUrl('mysql://ferry:a@b/c?d#e@127.0.0.1:3306/shop?x=1', 'mysql')).toMatchObject({
      host: '127.0.0.1',
      user: 'ferry',
      password: 'a@b/c?d#e',
      database: 'shop',
      params: { x: '1' },
    });
  });

  it('allows a mysql URL without database or password', () => {
    expect(parseDbUrl('mysql://root@localhost', 'mysql')).toMatchObject({
      user: 'root',
      password: undefined,
      database: undefined,
    });
  });

  it('rejects a scheme that does not match the kind, naming the expected scheme', () => {
    const message = messageOf(() => parseDbUrl('postgres://u:topsecret@h/d', 'mysql', 'source.url'));
    expect(message).toContain('source.url: expected a mysql:// URL');
    expect(message).toContain('got a postgres:// URL');
    expect(message).not.toContain('topsecret');
  });

  it('rejects what it cannot use, never echoing the password', () => {
    for (const [url, reason] of [
      ['not a url', 'expected a URL of the form'],
      ['postgres://u:topsecret@h', 'names no database'],
      ['postgres://:topsecret@h/d', 'names no user'],
      ['mysql://u:topsecret@/d', 'names no host'],
      ['mysql://u:topsecret@h:99999/d', 'is not a valid URL'],
      ['mysql:u:topsecret@h/d', 'expected mysql://'],
      ['mysql://u:topsecret@h/a/b', 'more than one path segment'],
    ] as const) {
      const message = messageOf(() => parseDbUrl(url, url.startsWith('postgres') ? 'postgres' : 'mysql', 'sink.url'));
      expect(message).toContain(reason);
      expect(message).not.toContain('topsecret');
    }
  });
});
