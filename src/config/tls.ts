/**
 * Resolving the `tls` blocks of a validated config: certificate and key files are read (or the
 * PEM text taken as it is) and checked, and the older ways to ask for TLS (`kafka.ssl: true`,
 * `sslmode` in a postgres URL, a `rediss://` URL) become the same TlsSettings. Every error names
 * the field: `kafka.tls.ca: file not found ...`.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ConfigError } from '../api/errors.js';
import type { TlsMode, TlsSettings } from '../api/tls.js';
import type { ParsedTls } from './schema-tls.js';
import type { DbConnection, DbKind } from './url.js';

const PEM_START = '-----BEGIN';

/** The PEM text of a `ca`/`cert`/`key` field: the value itself when it is PEM, else the file it names. */
function pemOf(value: string, path: string, what: 'certificate' | 'key'): string {
  let text: string;
  let origin: string;
  if (value.trimStart().startsWith(PEM_START)) {
    text = value;
    origin = 'the value';
  } else {
    const file = resolvePath(value);
    origin = `file ${file}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT'
          ? `file not found: ${file}`
          : code === 'EACCES' || code === 'EPERM'
            ? `file ${file} cannot be read: permission denied`
            : code === 'EISDIR'
              ? `${file} is a directory, not a PEM file`
              : `file ${file} cannot be read: ${(err as Error).message}`;
      throw new ConfigError(path, `${reason} (give a PEM file path, or the PEM text itself, e.g. from \${VAR})`);
    }
  }
  try {
    if (what === 'certificate') new X509Certificate(text);
    else createPrivateKey(text);
  } catch {
    // The parser's message is not repeated: for a key it could quote the value.
    throw new ConfigError(
      path,
      `${origin} is not a PEM ${what === 'key' ? 'private key (unencrypted, -----BEGIN PRIVATE KEY-----)' : 'certificate (-----BEGIN CERTIFICATE-----)'}`,
    );
  }
  return text;
}

/** The settings of a `tls` block at `path` (`source.tls`). */
export function tlsFromBlock(block: ParsedTls, path: string): TlsSettings {
  if (block.cert !== undefined && block.key === undefined) {
    throw new ConfigError(`${path}.key`, `required with ${path}.cert: the private key of the client certificate`);
  }
  if (block.key !== undefined && block.cert === undefined) {
    throw new ConfigError(`${path}.cert`, `required with ${path}.key: the client certificate of that key`);
  }
  return {
    mode: block.mode,
    ...(block.ca === undefined ? {} : { ca: pemOf(block.ca, `${path}.ca`, 'certificate') }),
    ...(block.cert === undefined ? {} : { cert: pemOf(block.cert, `${path}.cert`, 'certificate') }),
    ...(block.key === undefined ? {} : { key: pemOf(block.key, `${path}.key`, 'key') }),
    ...(block.serverName === undefined ? {} : { serverName: block.serverName }),
    path,
  };
}

const PG_SSLMODES: Record<string, TlsMode> = {
  disable: 'disable',
  allow: 'disable',
  prefer: 'require',
  require: 'require',
  'verify-ca': 'verify-ca',
  'verify-full': 'verify-full',
};
const PG_TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'] as const;

/** TLS asked for by a postgres URL's `sslmode`/`sslrootcert`/`sslcert`/`sslkey` (libpq's names). */
function tlsFromPostgresUrl(c: DbConnection, urlPath: string, tlsPath: string): TlsSettings | undefined {
  const sslmode = c.params['sslmode'];
  if (sslmode === undefined) return undefined;
  const mode = PG_SSLMODES[sslmode];
  if (mode === undefined) {
    throw new ConfigError(
      urlPath,
      `sslmode=${sslmode} is not one of ${Object.keys(PG_SSLMODES).join(', ')}; or set ${tlsPath}.mode instead`,
    );
  }
  const param = (name: string) => c.params[name];
  return tlsFromBlock(
    {
      mode,
      ...(param('sslrootcert') ? { ca: param('sslrootcert')! } : {}),
      ...(param('sslcert') ? { cert: param('sslcert')! } : {}),
      ...(param('sslkey') ? { key: param('sslkey')! } : {}),
    },
    tlsPath,
  );
}

/**
 * The TLS of a database endpoint (`source` or `sink`): its `tls` block, or what its URL asks
 * for. Both at once is an error, so that there is one answer to "is this encrypted".
 */
export function endpointTls(
  block: ParsedTls | undefined,
  section: 'source' | 'sink',
  kind: DbKind,
  url: string,
  c: DbConnection,
): TlsSettings | undefined {
  const tlsPath = `${section}.tls`;
  const urlPath = `${section}.url`;
  const fromUrl =
    kind === 'postgres'
      ? tlsFromPostgresUrl(c, urlPath, tlsPath)
      : kind === 'redis' && /^rediss:/i.test(url.trim())
        ? ({ mode: 'verify-full', path: tlsPath } as TlsSettings)
        : undefined;
  if (block !== undefined && fromUrl !== undefined) {
    const what = kind === 'redis' ? 'the rediss:// scheme' : PG_TLS_PARAMS.filter((p) => c.params[p]).join('/');
    throw new ConfigError(urlPath, `${what} and ${tlsPath} both set TLS; keep ${tlsPath} only (docs/security.md)`);
  }
  const tls = block === undefined ? fromUrl : tlsFromBlock(block, tlsPath);
  if (kind === 'mysql' && tls?.serverName !== undefined && tls.serverName !== c.host) {
    throw new ConfigError(
      `${tlsPath}.serverName`,
      'is not supported for MySQL/MariaDB: the driver checks the certificate against the host of the URL; put the name the certificate holds in the URL',
    );
  }
  return tls;
}

/** The TLS of the brokers: `kafka.tls`, or the older `kafka.ssl: true` (system CAs, verify-full). */
export function kafkaTls(block: ParsedTls | undefined, ssl: boolean): TlsSettings | undefined {
  if (block !== undefined && ssl) {
    throw new ConfigError('kafka.ssl', 'and kafka.tls both set TLS; remove kafka.ssl (kafka.tls replaces it)');
  }
  if (block !== undefined) return tlsFromBlock(block, 'kafka.tls');
  return ssl ? { mode: 'verify-full', path: 'kafka.ssl' } : undefined;
}
