/**
 * The TLS material of a `ferry sandbox up --tls` sandbox: a throwaway CA and one server
 * certificate for 127.0.0.1 and localhost, made once with the machine's `openssl` and kept in
 * `<dir>/tls/`. Every server of the sandbox uses that certificate; clients trust the CA.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FerryError } from '../api/errors.js';
import type { Layout } from './paths.js';
import { randomPassword } from './random.js';
import type { LogFn, SandboxInfo, TlsInfo } from './types.js';

const execFileAsync = promisify(execFile);

/** Runs openssl with `args` in `cwd`; a missing openssl or a failure is a FERRY_SANDBOX error. */
export async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, maxBuffer: 4 * 1024 * 1024, timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const hint = e.code === 'ENOENT' ? ' Install openssl (apt-get install openssl).' : '';
    throw new FerryError('FERRY_SANDBOX', `openssl ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}${hint}`, {
      cause: err,
    });
  }
}

/**
 * A key and a certificate signed by the CA in `dir` (`ca.pem`, `ca.key`): `<name>.key` (PKCS#8,
 * unencrypted) and `<name>.pem`, for the SANs given, valid from `days[0]` to `days[1]` days from
 * now (negative: in the past, for expired certificates in tests).
 */
export async function signedCertificate(
  dir: string,
  name: string,
  o: { subject: string; sans: string[]; days?: number; caName?: string },
): Promise<void> {
  const ca = o.caName ?? 'ca';
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      `subjectAltName=${o.sans.join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', o.subject],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      String(o.days ?? 825),
      '-sha256',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** A self-signed CA `<name>.pem` / `<name>.key` in `dir`. */
export async function certificateAuthority(dir: string, name: string, subject: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '3650',
      '-sha256',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** The TLS part of a new `--tls` sandbox: certificates made now, SASL credentials for Kafka. */
export async function newTlsInfo(l: Layout, saslPort: number, log: LogFn): Promise<TlsInfo> {
  const dir = join(l.dir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'server.pem'))) {
    log(`tls: making a throwaway CA and server certificate in ${dir} (openssl)`);
    await certificateAuthority(dir, 'ca', '/CN=ferry sandbox CA');
    await signedCertificate(dir, 'server', {
      subject: '/CN=localhost',
      sans: ['DNS:localhost', 'IP:127.0.0.1'],
    });
  }
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    kafkaSaslBrokers: [`127.0.0.1:${saslPort}`],
    saslMechanism: 'scram-sha-512',
    saslUser: 'ferry',
    saslPassword: randomPassword(),
  };
}

/** The CA of a `--tls` sandbox as PEM, for the sandbox's own clients; undefined for a plaintext sandbox. */
export function sandboxCa(info: SandboxInfo): string | undefined {
  return info.tls ? readFileSync(info.tls.caFile, 'utf8') : undefined;
}
