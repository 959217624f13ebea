import { ConfigError } from '../api/errors.js';

export type DbKind = 'mysql' | 'postgres' | 'redis';

/** A database URL taken apart. User and password are URL-decoded. */
export interface DbConnection {
  host: string;
  /** From the URL, or 3306 (mysql) / 5432 (postgres). */
  port: number;
  user: string;
  password: string | undefined;
  /** The path of the URL; undefined when it has none (allowed for mysql only). */
  database: string | undefined;
  /** Query parameters, passed on to the driver. */
  params: Record<string, string>;
}

const SCHEMES: Record<DbKind, readonly string[]> = {
  mysql: ['mysql:', 'mariadb:'],
  postgres: ['postgres:', 'postgresql:'],
  redis: ['redis:', 'rediss:'],
};

export const DEFAULT_PORTS: Record<DbKind, number> = { mysql: 3306, postgres: 5432, redis: 6379 };

function shape(kind: DbKind): string {
  if (kind === 'redis') return 'redis://[user:password@]host:6379[/db] (rediss:// for TLS)';
  return kind === 'mysql' ? 'mysql://user:password@host:3306/database' : 'postgres://user:password@host:5432/database';
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Parses `mysql://user:password@host:port/database?param=value` (also `mariadb://`) or
 * `postgres://…` (also `postgresql://`). The scheme must match `kind`. User and password run
 * to the last `@` and are percent-decoded (so an `@` in a query parameter must be written
 * `%40`). Throws a ConfigError naming `path` (e.g. `source.url`) that never contains the password.
 */
export function parseDbUrl(url: string, kind: DbKind, path = ''): DbConnection {
  const fail = (message: string): never => {
    throw new ConfigError(path, message);
  };
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url.trim());
  if (!schemeMatch) fail(`expected a URL of the form ${shape(kind)}`);
  const scheme = `${schemeMatch![1]!.toLowerCase()}:`;
  const allowed = SCHEMES[kind];
  if (!allowed.includes(scheme)) {
    const other = (Object.keys(SCHEMES) as DbKind[]).find((k) => SCHEMES[k].includes(scheme));
    fail(
      `expected a ${allowed[0]}// URL because the kind is ${kind} (${shape(kind)}), got a ${scheme}// URL` +
        (other ? `; for a ${other} database set the kind to ${other}` : ''),
    );
  }
  // User and password are split off by hand at the LAST "@", so that a password containing
  // "/", "?", "#" or "@" (say, from ${VAR}) still works; WHATWG URL parses the rest.
  const rest = url.trim().slice(scheme.length);
  if (!rest.startsWith('//')) fail(`expected ${shape(kind)}`);
  const afterSlashes = rest.slice(2);
  const at = afterSlashes.lastIndexOf('@');
  const userinfo = at >= 0 ? afterSlashes.slice(0, at) : '';
  const colon = userinfo.indexOf(':');
  const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
  let parsed: URL;
  try {
    parsed = new URL(`${scheme}//${afterSlashes.slice(at + 1)}`);
  } catch {
    return fail(`is not a valid URL; expected ${shape(kind)}`);
  }
  const host = decode(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (!host) fail(`names no host; expected ${shape(kind)}`);
  // Redis: no user means the `default` user (password-only AUTH).
  if (!user && kind !== 'redis') fail(`names no user; expected ${shape(kind)}`);
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[kind];
  const databasePath = decode(parsed.pathname.replace(/^\//, ''));
  if (databasePath.includes('/')) fail(`has more than one path segment; expected ${shape(kind)}`);
  const database = databasePath.length > 0 ? databasePath : undefined;
  if (kind === 'postgres' && database === undefined) fail(`names no database; expected ${shape(kind)}`);
  if (kind === 'redis' && database !== undefined && !/^\d{1,5}$/.test(database)) {
    fail(`names database ${JSON.stringify(database)}; a Redis database is a number (redis://host:6379/0)`);
  }
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) params[key] = value;
  return { host, port, user: user || 'default', password: password === '' ? undefined : password, database, params };
}

/** The password exactly as written in the URL (still percent-encoded), for redaction. */
export function rawUrlPassword(url: string): string | undefined {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(.*)@/s.exec(url.trim());
  const userinfo = match?.[1];
  const colon = userinfo?.indexOf(':') ?? -1;
  const password = colon >= 0 ? userinfo!.slice(colon + 1) : '';
  return password.length > 0 ? password : undefined;
}
