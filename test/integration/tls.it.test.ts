// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the configs use the ${VAR} syntax.
/**
 * TLS end to end on the TLS-only sandbox (`ferry sandbox up --tls`): MariaDB (verify-full, with
 * a client certificate) -> Kafka over SASL_SSL (SCRAM-SHA-512, verify-full) -> PostgreSQL
 * (verify-full) while an application writes, `ferry validate` reporting each connection and
 * `ferry verify` equal. Then a wrong CA, a certificate for another name and an expired
 * certificate: each stops `ferry run` with FERRY_TLS (exit 2) naming the endpoint and the field,
 * before anything is published or applied. No certificate key, SASL or database password appears
 * in any output.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { certificateAuthority, signedCertificate } from '../../src/sandbox/tls.js';
import {
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  runFerry,
  startFerry,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { uniqueName } from '../helpers/sandbox.js';
import { tlsMysqlRoot, tlsPgSuper, tlsSandbox } from '../helpers/tls-sandbox.js';

const name = uniqueName('tls');
const db = name;
let s: SandboxInfo;
let dir = '';
let clientKey = '';
const processes: FerryProcess[] = [];
const outputs: Array<{ what: string; text: string }> = [];

function env(): Record<string, string> {
  return {
    SOURCE_PASSWORD: s.mysql.password,
    TARGET_PASSWORD: s.postgres.password,
    KAFKA_PASSWORD: s.tls!.saslPassword,
    CLIENT_KEY: clientKey,
  };
}

interface Variant {
  pipeline?: string;
  kafkaBroker?: string;
  kafkaCa?: string;
  sinkServerName?: string;
}

function config(file: string, v: Variant = {}): string {
  const ca = s.tls!.caFile;
  return writeConfig(
    dir,
    file,
    [
      `name: ${v.pipeline ?? name}`,
      'kafka:',
      `  brokers: [${JSON.stringify(v.kafkaBroker ?? s.tls!.kafkaSaslBrokers[0])}]`,
      `  tls: { mode: verify-full, ca: ${JSON.stringify(v.kafkaCa ?? ca)} }`,
      '  sasl: { mechanism: scram-sha-512, username: ferry, password: "${KAFKA_PASSWORD}" }',
      '  partitions: 2',
      'source:',
      '  kind: mysql',
      `  url: mysql://${s.mysql.user}:\${SOURCE_PASSWORD}@127.0.0.1:${s.mysql.port}/${db}`,
      `  tables: ["${db}.*"]`,
      '  tls:',
      '    mode: verify-full',
      `    ca: ${JSON.stringify(ca)}`,
      `    cert: ${JSON.stringify(join(dir, 'client.pem'))}`,
      '    key: "${CLIENT_KEY}"',
      'sink:',
      '  kind: postgres',
      `  url: postgres://${s.postgres.user}:\${TARGET_PASSWORD}@127.0.0.1:${s.postgres.port}/${s.postgres.database}`,
      `  tls: { mode: verify-full, ca: ${JSON.stringify(ca)}${v.sinkServerName ? `, serverName: ${v.sinkServerName}` : ''} }`,
      'metrics:',
      '  enabled: false',
      'log:',
      '  level: debug',
      '',
    ].join('\n'),
  );
}

function record(what: string, ...texts: string[]): void {
  outputs.push({ what, text: texts.join('\n') });
}

/** Topics of a pipeline in the TLS sandbox's Kafka (over SASL_SSL, like ferry). */
async function pipelineTopics(pipeline: string): Promise<string[]> {
  const kafka = createKafka({
    brokers: s.tls!.kafkaSaslBrokers,
    clientId: 'tls-test',
    tls: { mode: 'verify-full', ca: readFileSync(s.tls!.caFile, 'utf8'), path: 'kafka.tls' },
    sasl: { mechanism: 'scram-sha-512', username: s.tls!.saslUser, password: s.tls!.saslPassword },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(`${pipeline}.`));
  } finally {
    await admin.disconnect();
  }
}

async function targetSchemaExists(schema: string): Promise<boolean> {
  const pg = await tlsPgSuper(s, s.postgres.database);
  try {
    return ((await pg.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0;
  } finally {
    await pg.end();
  }
}

beforeAll(async () => {
  ensureCliBuilt();
  s = await tlsSandbox();
  dir = testDir(name);
  // A client certificate of the sandbox CA (the servers do not ask for one; its key must still never show).
  await signedCertificate(join(s.tls!.caFile, '..'), `client-${name}`, {
    subject: '/CN=ferry-client',
    sans: ['DNS:ferry'],
  });
  copyFileSync(join(s.tls!.caFile, '..', `client-${name}.pem`), join(dir, 'client.pem'));
  clientKey = readFileSync(join(s.tls!.caFile, '..', `client-${name}.key`), 'utf8');
  // Another CA, and an expired server certificate of the sandbox CA.
  await certificateAuthority(dir, 'other-ca', '/CN=some other CA');
  copyFileSync(s.tls!.caFile, join(dir, 'ca.pem'));
  copyFileSync(join(s.tls!.caFile, '..', 'ca.key'), join(dir, 'ca.key'));
  await signedCertificate(dir, 'expired', {
    subject: '/CN=localhost',
    sans: ['DNS:localhost', 'IP:127.0.0.1'],
    days: -1,
  });

  const root = await tlsMysqlRoot(s);
  try {
    await root.query('CREATE DATABASE ?? CHARACTER SET utf8mb4', [db]);
    await root.query('USE ??', [db]);
    await root.query(
      'CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, label VARCHAR(50), qty INT, price DECIMAL(10,2))',
    );
    await root.query('INSERT INTO items (label, qty, price) VALUES ?', [
      Array.from({ length: 200 }, (_, i) => [`item ${i} ✓`, i, (i * 1.25).toFixed(2)]),
    ]);
  } finally {
    await root.end();
  }
}, 600_000);

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  if (!s) return;
  const root = await tlsMysqlRoot(s);
  await root.query('DROP DATABASE IF EXISTS ??', [db]).finally(() => root.end());
  const pg = await tlsPgSuper(s, s.postgres.database);
  await pg.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(db)} CASCADE`).finally(() => pg.end());
});

describe('TLS on every connection', () => {
  it('MariaDB -> Kafka (SASL_SSL) -> PostgreSQL with verify-full while writes go on: validate reports, verify equal', async () => {
    const file = config('pipeline');
    const validate = await runFerry(['validate', '-c', file], env());
    record('validate', validate.stdout, validate.stderr);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    for (const section of ['kafka', 'source', 'sink']) {
      expect(validate.stdout).toMatch(
        new RegExp(
          `✓ ${section} \\(\\w+ 127\\.0\\.0\\.1:\\d+\\) connection — encrypted TLSv1\\.[23], certificate and host name verified \\(verify-full\\), certificate CN=localhost, expires \\d{4}-`,
        ),
      );
    }

    const ferry = startFerry(['run', '-c', file], env());
    processes.push(ferry);
    const root = await tlsMysqlRoot(s, db);
    let writes = 0;
    try {
      await ferry.waitForOutput(/reading the binlog/, 120_000);
      for (let i = 0; i < 60; i++) {
        await root.query('INSERT INTO items (label, qty, price) VALUES (?, ?, ?)', [`live ${i}`, i, '9.99']);
        await root.query('UPDATE items SET qty = qty + 1 WHERE id = ?', [1 + i]);
        if (i % 10 === 0) await root.query('DELETE FROM items WHERE id = ?', [100 + i]);
        writes++;
      }
    } finally {
      await root.end();
    }
    expect(writes).toBe(60);
    await eventually(
      'ferry verify equal',
      async () => {
        const r = await runFerry(['verify', '-c', file], env(), 120_000);
        record('verify', r.stdout, r.stderr);
        return r.code === 0 ? r : null;
      },
      180_000,
      2000,
    );
    const stopped = await ferry.stop('SIGTERM');
    record('run', stopped.stdout, stopped.stderr);
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
    expect(stopped.stderr).toContain('"level":"debug"');
  }, 600_000);

  it('a wrong CA, a certificate for another name, an expired certificate: FERRY_TLS naming endpoint and field, exit 2, nothing published or applied', async () => {
    const cases: Array<{ what: string; variant: Variant; expected: RegExp }> = [
      {
        what: 'wrong CA for Kafka',
        variant: { pipeline: `${name}-ca`, kafkaCa: join(dir, 'other-ca.pem') },
        expected:
          /kafka \(kafka 127\.0\.0\.1:\d+\): kafka\.tls\.ca: the server certificate is not signed by the CA of kafka\.tls\.ca.* \[FERRY_TLS\]/,
      },
      {
        what: 'a target certificate for another name',
        variant: { pipeline: `${name}-name`, sinkServerName: 'db.example.com' },
        expected:
          /sink \(postgres 127\.0\.0\.1:\d+\): sink\.tls\.serverName: the server certificate does not name this host.* \[FERRY_TLS\]/,
      },
    ];
    // An expired certificate: a TLS endpoint presenting one, as the broker address.
    const server: Server = createServer(
      { key: readFileSync(join(dir, 'expired.key')), cert: readFileSync(join(dir, 'expired.pem')) },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    cases.push({
      what: 'an expired broker certificate',
      variant: { pipeline: `${name}-exp`, kafkaBroker: `127.0.0.1:${port}` },
      expected:
        /kafka \(kafka 127\.0\.0\.1:\d+\): kafka\.tls: the server certificate is not valid now \(certificate has expired\).* \[FERRY_TLS\]/,
    });
    try {
      for (const c of cases) {
        const file = config(c.variant.pipeline!, c.variant);
        const run = await runFerry(['run', '-c', file], env(), 120_000);
        record(`run, ${c.what}`, run.stdout, run.stderr);
        expect(run.stderr, c.what).toMatch(c.expected);
        expect(run.code, `${c.what}: ${run.stderr.slice(-1500)}`).toBe(2);
        // Nothing published, nothing applied.
        expect(await pipelineTopics(c.variant.pipeline!), c.what).toEqual([]);
        const validate = await runFerry(['validate', '-c', file], env());
        record(`validate, ${c.what}`, validate.stdout, validate.stderr);
        expect(validate.code, c.what).toBe(1);
        expect(validate.stdout, c.what).toMatch(
          /✗ (kafka|sink) \((kafka|postgres) 127\.0\.0\.1:\d+\) connection — .*: (kafka|sink)\.tls/,
        );
      }
      expect(await targetSchemaExists(db)).toBe(true); // the first test's target, untouched by these runs
    } finally {
      server.close();
    }
  }, 600_000);

  it('no certificate key, SASL password or database password in any output', () => {
    expect(outputs.length).toBeGreaterThan(5);
    const keyBody = clientKey.split('\n').filter((line) => line.length > 40);
    expect(keyBody.length).toBeGreaterThan(5);
    const secrets = [s.tls!.saslPassword, s.mysql.password, s.postgres.password, s.mysql.rootPassword, ...keyBody];
    for (const { what, text } of outputs) {
      expect(text.length, what).toBeGreaterThan(0);
      for (const secret of secrets) expect(text.includes(secret), `${what} shows a secret`).toBe(false);
    }
  });
});
