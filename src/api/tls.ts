/**
 * TLS of every endpoint (source, sink, Kafka): the resolved settings of a `tls` block and the
 * one mapping onto Node's `tls.connect` options that pg, kafkajs and node-redis take as they
 * are, plus mysql2's `ssl` form. The modes mean what libpq's sslmode means:
 * - `disable`: plaintext.
 * - `require`: encrypted; the certificate is checked against `ca` only when a `ca` is given
 *   (libpq does the same when a root certificate file exists), never the host name.
 * - `verify-ca`: encrypted, certificate signed by `ca` (or the system CAs), any host name.
 * - `verify-full`: as verify-ca, and the certificate names the host (or `serverName`).
 */
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate } from 'node:tls';
import { FerryError } from './errors.js';

export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** A resolved `tls` block: certificates and key as PEM text (files already read). */
export interface TlsSettings {
  mode: TlsMode;
  /** PEM of the CA certificate(s) the server certificate must chain to; undefined: the system CAs. */
  ca?: string | undefined;
  /** PEM of the client certificate (chain), for servers that ask for one. */
  cert?: string | undefined;
  /** PEM of the client certificate's private key. Secret. */
  key?: string | undefined;
  /** Name the server certificate must hold under verify-full (and SNI); default: the host connected to. */
  serverName?: string | undefined;
  /** The config path of the block (`source.tls`, `kafka.tls`), named in errors. */
  path: string;
}

export function tlsEnabled(tls: TlsSettings | undefined): tls is TlsSettings {
  return tls !== undefined && tls.mode !== 'disable';
}

/** Whether the server certificate's chain is checked. */
export function verifiesChain(tls: TlsSettings): boolean {
  return tls.mode === 'verify-ca' || tls.mode === 'verify-full' || (tls.mode === 'require' && tls.ca !== undefined);
}

/**
 * `tls.connect` options for a connection to `host` (pg `ssl`, kafkajs `ssl`, node-redis
 * `socket`), or undefined for plaintext.
 */
export function tlsConnectOptions(tls: TlsSettings | undefined, host?: string): ConnectionOptions | undefined {
  if (!tlsEnabled(tls)) return undefined;
  // Without a host (one options object for every Kafka broker) the client names each host itself.
  const name = tls.serverName ?? host;
  const options: ConnectionOptions = { rejectUnauthorized: verifiesChain(tls) };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  // SNI carries host names only (RFC 6066).
  if (name !== undefined && isIP(name) === 0) options.servername = name;
  if (tls.mode !== 'verify-full') options.checkServerIdentity = () => undefined;
  else if (name !== undefined) {
    options.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert);
  }
  return options;
}

/** mysql2's `ssl` option (it builds its own `tls.connect` call), or undefined for plaintext. */
export function mysqlSslOptions(tls: TlsSettings | undefined): Record<string, unknown> | undefined {
  if (!tlsEnabled(tls)) return undefined;
  return {
    rejectUnauthorized: verifiesChain(tls),
    verifyIdentity: tls.mode === 'verify-full',
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
  };
}

const CHAIN_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);
const EXPIRY_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const NAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);

/** The error and its causes, outermost first (drivers wrap socket errors). */
function chain(err: unknown): Array<{ code?: unknown; message?: unknown; errno?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; errno?: unknown }> = [];
  let node: unknown = err;
  for (let depth = 0; node && typeof node === 'object' && depth < 6; depth++) {
    out.push(node as { code?: unknown });
    node =
      (node as { cause?: unknown; originalError?: unknown }).cause ??
      (node as { originalError?: unknown }).originalError;
  }
  return out;
}

/**
 * The FERRY_TLS error for a failed TLS handshake or a refused plaintext connection, naming the
 * endpoint (`source MySQL 127.0.0.1:3306`) and the field to fix; null when `err` is something
 * else. Not retriable: the same certificates fail the same way again.
 */
export function tlsFailure(
  err: unknown,
  endpoint: string,
  tls: TlsSettings | undefined,
  path: string,
): FerryError | null {
  const block = tls?.path ?? path;
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    let text: string | null = null;
    if (CHAIN_CODES.has(code)) {
      text =
        `${block}.ca: the server certificate is not signed by ${tls?.ca ? `the CA of ${block}.ca` : 'a CA ferry trusts'} ` +
        `(${message}); set ${block}.ca to the CA that signed the server's certificate`;
    } else if (EXPIRY_CODES.has(code)) {
      text = `${block}: the server certificate is not valid now (${message}); renew the server's certificate`;
    } else if (NAME_CODES.has(code)) {
      text =
        `${block}.serverName: the server certificate does not name this host (${message}); connect to a name ` +
        `the certificate holds, or set ${block}.serverName to it`;
    } else if (/does not support (ssl|secure)/i.test(message) || code === 'HANDSHAKE_NO_SSL_SUPPORT') {
      text = `${block}.mode: the server does not offer TLS (${message}); enable TLS on the server or set ${block}.mode: disable`;
    } else if (
      e.errno === 3159 ||
      /insecure transport are prohibited|no encryption|SSL connection is required|SSL off/i.test(message)
    ) {
      text = `${block}.mode: the server accepts encrypted connections only (${message}); set ${block}.mode to verify-full (or require)`;
    } else if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /^(ssl|tls)\b.*alert/i.test(message)) {
      text = `${block}: the TLS handshake failed (${message}); check ${block}.cert and ${block}.key and the server's TLS settings`;
    }
    if (text !== null) return new FerryError('FERRY_TLS', `${endpoint}: ${text}`, { cause: err });
  }
  return null;
}
