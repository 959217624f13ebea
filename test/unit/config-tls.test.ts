import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { mysqlSslOptions, tlsConnectOptions, tlsFailure } from '../../src/api/tls.js';
import { configFromObject, secretsOf } from '../../src/config/index.js';
import { certificateAuthority, signedCertificate } from '../../src/sandbox/tls.js';

let dir = '';

function raw(extra: { kafka?: object; source?: object; sink?: object } = {}) {
  return {
    name: 'tls-unit',
    kafka: { brokers: ['127.0.0.1:9092'], ...extra.kafka },
    source: { kind: 'mysql', url: 'mysql://ferry:pw@127.0.0.1:3306/shop', tables: ['shop.*'], ...extra.source },
    sink: { kind: 'postgres', url: 'postgres://ferry:pw@127.0.0.1:5432/shop', ...extra.sink },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-tls-unit-'));
  await certificateAuthority(dir, 'ca', '/CN=unit CA');
  await signedCertificate(dir, 'client', { subject: '/CN=ferry', sans: ['DNS:ferry'] });
}, 60_000);

describe('tls config', () => {
  it('reads the files of a tls block, and takes PEM text as it is', () => {
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const config = configFromObject(
      raw({
        kafka: { tls: { ca: join(dir, 'ca.pem') } },
        source: { tls: { mode: 'verify-ca', ca, cert: join(dir, 'client.pem'), key: join(dir, 'client.key') } },
      }),
    );
    expect(config.kafka.tls).toMatchObject({ mode: 'verify-full', ca, path: 'kafka.tls' });
    expect(config.source.tls?.mode).toBe('verify-ca');
    expect(config.source.tls?.key).toContain('PRIVATE KEY');
    expect(config.sink.tls).toBeUndefined();
    // The key's contents are a secret of the config (redacted everywhere).
    expect(secretsOf(config)).toContain(config.source.tls?.key);
  });

  it('names the field of a missing file, a non-PEM file and a cert without key', () => {
    expect(() => configFromObject(raw({ kafka: { tls: { ca: join(dir, 'nope.pem') } } }))).toThrow(
      /kafka\.tls\.ca: file not found: .*nope\.pem/,
    );
    expect(() => configFromObject(raw({ sink: { tls: { ca: join(dir, 'client.ext') } } }))).toThrow(
      /sink\.tls\.ca: file .*client\.ext is not a PEM certificate/,
    );
    expect(() => configFromObject(raw({ source: { tls: { cert: join(dir, 'client.pem') } } }))).toThrow(
      /source\.tls\.key: required with source\.tls\.cert/,
    );
    expect(() => configFromObject(raw({ source: { tls: { key: join(dir, 'client.pem') } } }))).toThrow(
      /source\.tls\.cert: required with source\.tls\.key/,
    );
    expect(() => configFromObject(raw({ source: { tls: { mode: 'verify-all' } } }))).toThrow(/source\.tls\.mode/);
  });

  it('keeps kafka.ssl and a postgres sslmode working, and refuses them next to a tls block', () => {
    expect(configFromObject(raw({ kafka: { ssl: true } })).kafka.tls).toEqual({
      mode: 'verify-full',
      path: 'kafka.ssl',
    });
    const sslmode = configFromObject(
      raw({ sink: { url: 'postgres://ferry:pw@db.example:5432/shop?sslmode=require' } }),
    );
    expect(sslmode.sink.tls).toMatchObject({ mode: 'require', path: 'sink.tls' });
    expect(() => configFromObject(raw({ kafka: { ssl: true, tls: {} } }))).toThrow(/kafka\.ssl: and kafka\.tls both/);
    expect(() =>
      configFromObject(raw({ sink: { url: 'postgres://ferry:pw@h:5432/shop?sslmode=require', tls: {} } })),
    ).toThrow(/sink\.url: sslmode and sink\.tls both set TLS/);
    expect(() => configFromObject(raw({ source: { tls: { serverName: 'db.internal' } } }))).toThrow(
      /source\.tls\.serverName: is not supported for MySQL/,
    );
  });
});

describe('tls options per client', () => {
  const base = { path: 'sink.tls' };
  it('maps the modes like libpq', () => {
    expect(tlsConnectOptions({ mode: 'disable', ...base }, 'h')).toBeUndefined();
    expect(tlsConnectOptions({ mode: 'require', ...base }, 'h')).toMatchObject({ rejectUnauthorized: false });
    // libpq: require with a root certificate verifies the chain.
    expect(tlsConnectOptions({ mode: 'require', ca: 'x', ...base }, 'h')).toMatchObject({ rejectUnauthorized: true });
    const ca = tlsConnectOptions({ mode: 'verify-ca', ...base }, 'db.example');
    expect(ca).toMatchObject({ rejectUnauthorized: true, servername: 'db.example' });
    expect(ca?.checkServerIdentity?.('other', {} as never)).toBeUndefined();
    const full = tlsConnectOptions({ mode: 'verify-full', serverName: 'db.internal', ...base }, '10.0.0.1');
    expect(full?.servername).toBe('db.internal');
    expect(
      full?.checkServerIdentity?.('10.0.0.1', { subject: { CN: 'other' }, subjectaltname: 'DNS:other' } as never),
    ).toBeInstanceOf(Error);
    // IP hosts never go into SNI.
    expect(tlsConnectOptions({ mode: 'verify-full', ...base }, '127.0.0.1')?.servername).toBeUndefined();
    expect(mysqlSslOptions({ mode: 'verify-full', ca: 'x', ...base })).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: true,
      ca: 'x',
    });
    expect(mysqlSslOptions({ mode: 'verify-ca', ...base })).toMatchObject({ verifyIdentity: false });
  });

  it('turns handshake failures into FERRY_TLS naming the endpoint and the field', () => {
    const wrapped = {
      message: 'Connection error',
      cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed' },
    };
    const e = tlsFailure(
      wrapped,
      'kafka 127.0.0.1:9093',
      { mode: 'verify-full', ca: 'x', path: 'kafka.tls' },
      'kafka.tls',
    );
    expect(e).toBeInstanceOf(FerryError);
    expect(e?.code).toBe('FERRY_TLS');
    expect(e?.message).toMatch(/^kafka 127\.0\.0\.1:9093: kafka\.tls\.ca: the server certificate is not signed/);
    expect(
      tlsFailure({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, 'x', undefined, 'source.tls')
        ?.message,
    ).toMatch(/source\.tls: the server certificate is not valid now/);
    expect(
      tlsFailure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'no' }, 'x', undefined, 'sink.tls')?.message,
    ).toMatch(/sink\.tls\.serverName/);
    expect(
      tlsFailure(
        { errno: 3159, message: 'Connections using insecure transport are prohibited' },
        'x',
        undefined,
        'source.tls',
      )?.message,
    ).toMatch(/source\.tls\.mode: the server accepts encrypted connections only/);
    expect(tlsFailure({ code: 'ECONNREFUSED', message: 'refused' }, 'x', undefined, 'source.tls')).toBeNull();
  });
});
