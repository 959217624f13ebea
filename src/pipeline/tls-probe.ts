/**
 * What TLS each endpoint of a pipeline really gets: a handshake with the same options the
 * clients use (src/api/tls.ts), reporting protocol, certificate subject and expiry. PostgreSQL
 * and MySQL/MariaDB switch to TLS inside their own protocol (SSLRequest), so the probe speaks
 * that first step itself; Kafka and Redis take TLS from the first byte. `ferry validate` shows
 * the reports, and a pipeline probes before it starts, so a wrong CA or certificate stops it
 * before anything is read, published or applied.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { FerryError } from '../api/errors.js';
import { type TlsSettings, tlsConnectOptions, tlsEnabled, tlsFailure, verifiesChain } from '../api/tls.js';
import type { PipelineConfig } from '../config/index.js';

export type EndpointKind = 'postgres' | 'mysql' | 'kafka' | 'redis';

export interface Endpoint {
  /** `source`, `sink` or `kafka`: the config section, named in messages. */
  section: 'source' | 'sink' | 'kafka';
  kind: EndpointKind;
  host: string;
  port: number;
  tls: TlsSettings | undefined;
}

export interface TlsReport {
  encrypted: boolean;
  /** The certificate chain was checked against the CA. */
  verified: boolean;
  /** The certificate was checked to name the host (verify-full). */
  hostVerified: boolean;
  protocol?: string | undefined;
  subject?: string | undefined;
  /** The certificate's notAfter, ISO. */
  expires?: string | undefined;
  /** Set for plaintext to a host that is not loopback. */
  warning?: string | undefined;
}

const TIMEOUT_MS = 10_000;
const CLIENT_SSL = 0x0800;

export function describeEndpoint(e: Endpoint): string {
  return `${e.section} (${e.kind} ${e.host}:${e.port})`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The endpoints of a pipeline: source, sink, every Kafka broker. */
export function endpointsOf(config: PipelineConfig, roles = { source: true, sink: true }): Endpoint[] {
  const out: Endpoint[] = [];
  for (const broker of config.kafka.brokers) {
    const colon = broker.lastIndexOf(':');
    out.push({
      section: 'kafka',
      kind: 'kafka',
      host: broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
      port: Number(broker.slice(colon + 1)),
      tls: config.kafka.tls,
    });
  }
  if (roles.source) {
    const c = config.source.connection;
    out.push({ section: 'source', kind: config.source.kind, host: c.host, port: c.port, tls: config.source.tls });
  }
  if (roles.sink) {
    const c = config.sink.connection;
    out.push({ section: 'sink', kind: config.sink.kind, host: c.host, port: c.port, tls: config.sink.tls });
  }
  return out;
}

/** Reads exactly one MySQL packet (4-byte header + payload) from the start of the stream. */
function mysqlGreeting(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = buffered.readUIntLE(0, 3);
      if (buffered.length < 4 + length) return;
      socket.off('data', onData);
      resolve(buffered.subarray(4, 4 + length));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** The in-protocol request to switch to TLS; resolves when the server agreed. */
async function startTls(kind: EndpointKind, socket: Socket): Promise<void> {
  if (kind === 'postgres') {
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(80877103, 4);
    const answer = await new Promise<string>((resolve, reject) => {
      socket.once('data', (b: Buffer) => resolve(String.fromCharCode(b[0] ?? 0)));
      socket.once('error', reject);
      socket.write(request);
    });
    if (answer !== 'S') throw new Error('The server does not support SSL connections');
    return;
  }
  if (kind === 'mysql') {
    const greeting = await mysqlGreeting(socket);
    if (greeting[0] === 0xff) throw new Error(greeting.subarray(3).toString('utf8'));
    const versionEnd = greeting.indexOf(0, 1);
    const capabilities = greeting.readUInt16LE(versionEnd + 1 + 4 + 8 + 1);
    if ((capabilities & CLIENT_SSL) === 0) throw new Error('Server does not support secure connection');
    const packet = Buffer.alloc(4 + 32);
    packet.writeUIntLE(32, 0, 3);
    packet[3] = 1;
    packet.writeUInt32LE(0x1 | 0x200 | 0x8000 | CLIENT_SSL, 4);
    packet.writeUInt32LE(16 * 1024 * 1024, 8);
    packet[12] = 45; // utf8mb4
    socket.write(packet);
  }
}

function subjectOf(socket: TLSSocket): { subject?: string; expires?: string } {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return {};
  const subject = Object.entries(cert.subject ?? {})
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
  return { subject, expires: new Date(cert.valid_to).toISOString() };
}

/**
 * Handshakes with one endpoint. Plaintext endpoints are not contacted (their reachability is
 * checked elsewhere). Throws FERRY_TLS naming the endpoint and field when TLS fails.
 */
export async function probeTls(e: Endpoint): Promise<TlsReport> {
  if (!tlsEnabled(e.tls)) {
    return {
      encrypted: false,
      verified: false,
      hostVerified: false,
      ...(isLoopback(e.host)
        ? {}
        : {
            warning: `plaintext to ${e.host}: passwords and rows cross the network unencrypted; set ${e.section}.tls`,
          }),
    };
  }
  const tls = e.tls;
  const endpoint = describeEndpoint(e);
  let raw: Socket | null = null;
  let secure: TLSSocket | null = null;
  try {
    const upgraded = e.kind === 'postgres' || e.kind === 'mysql';
    if (upgraded) {
      raw = netConnect({ host: e.host, port: e.port });
      raw.setTimeout(TIMEOUT_MS, () => raw?.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      await new Promise<void>((resolve, reject) => {
        raw!.once('connect', resolve);
        raw!.once('error', reject);
      });
      await startTls(e.kind, raw);
    }
    const options = { ...tlsConnectOptions(tls, e.host), host: e.host, port: e.port, ...(raw ? { socket: raw } : {}) };
    secure = tlsConnect(options);
    const s = secure;
    s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error(`no TLS answer within ${TIMEOUT_MS / 1000} s`)));
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
    });
    return {
      encrypted: true,
      verified: verifiesChain(tls),
      hostVerified: tls.mode === 'verify-full',
      protocol: s.getProtocol() ?? undefined,
      ...subjectOf(s),
    };
  } catch (err) {
    throw (
      tlsFailure(err, endpoint, tls, `${e.section}.tls`) ??
      new FerryError('FERRY_CONNECTION', `${endpoint}: TLS check failed: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
      })
    );
  } finally {
    secure?.destroy();
    raw?.destroy();
  }
}

/** One line about a report: `TLSv1.3, verified (verify-full), CN=db, expires 2027-01-01`. */
export function formatTlsReport(e: Endpoint, r: TlsReport): string {
  if (!r.encrypted) return r.warning ? `NOT encrypted (${r.warning})` : 'not encrypted (loopback host)';
  const check = r.hostVerified
    ? 'certificate and host name verified'
    : r.verified
      ? 'certificate verified, host name not checked'
      : 'certificate NOT verified';
  return `encrypted ${r.protocol ?? ''}, ${check} (${e.tls?.mode}), certificate ${r.subject ?? '?'}, expires ${r.expires ?? '?'}`;
}

/**
 * Probes every TLS endpoint of the roles a process runs, before it starts: a certificate that
 * does not verify stops the pipeline with FERRY_TLS before it connects for real.
 */
export async function checkTlsBeforeStart(config: PipelineConfig, roles: { source: boolean; sink: boolean }) {
  for (const e of endpointsOf(config, roles)) {
    if (!tlsEnabled(e.tls)) continue;
    try {
      await probeTls(e);
    } catch (err) {
      // Unreachable servers are the runtimes' business (they retry); only TLS failures stop here.
      if (err instanceof FerryError && err.code === 'FERRY_TLS') throw err;
    }
  }
}
