/**
 * No secret in any output: a pipeline with a dedicated MariaDB user and PostgreSQL role whose
 * password is known runs with log.level debug; the password is in none of the process's stdout
 * and stderr, `ferry status` (text and JSON), `ferry validate` (text and JSON), /metrics and
 * /readyz. Error paths too: a target that rejects the password, a target that refuses the
 * connection, a source that rejects the password, and a password written into the URL itself.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/pipeline/status.js';
import { certificateAuthority, signedCertificate } from '../../src/sandbox/tls.js';
import { verifyPipeline } from '../../src/verify/index.js';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  fetchText,
  freePort,
  mariadbToPostgresConfig,
  parsedConfig,
  runFerry,
  startFerry,
  startWriter,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { getSandbox, mysqlRoot, pgSuper, uniqueName } from '../helpers/sandbox.js';

const name = uniqueName('cli_secret');
const db = name;
const user = `fsec_${randomBytes(4).toString('hex')}`;
const password = `Sw0rdfish-${randomBytes(6).toString('hex')}`;
const wrongPassword = `Sw0rdfish-wrong-${randomBytes(6).toString('hex')}`;
const saslPassword = `Sasl-${randomBytes(6).toString('hex')}`;
/** A client certificate's private key (PEM), given through the environment; none of its lines may show. */
let clientKey = '';
const env = { SOURCE_PASSWORD: password, TARGET_PASSWORD: password };
let port = 0;
let file = '';
const processes: FerryProcess[] = [];

/** Everything ferry printed or served, checked for both passwords. */
const seen: Array<{ what: string; text: string }> = [];
function record(what: string, ...texts: string[]): string {
  const text = texts.join('\n');
  seen.push({ what, text });
  return text;
}

function config(fileName: string, o: { metricsPort: number; edit?: (t: string) => string }): string {
  return writeConfig(
    testDir(name),
    fileName,
    mariadbToPostgresConfig({
      name,
      sourceDatabase: db,
      metricsPort: o.metricsPort,
      sourceUser: user,
      targetUser: user,
      targetDatabase: user,
      // Debug logging: the most a user can ask ferry to print.
      edit: (t) => {
        const debug = t.replace(/^ {2}level: info$/m, '  level: debug');
        if (debug === t) throw new Error('the example has no `level: info` any more');
        return o.edit ? o.edit(debug) : debug;
      },
    }),
  );
}

beforeAll(async () => {
  ensureCliBuilt();
  await createSourceShop(db, 20, 40);
  const root = await mysqlRoot();
  try {
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    // What docs/mysql-source.md asks for (BINLOG MONITOR is MariaDB's REPLICATION CLIENT).
    await root.query('GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ?@?', [
      user,
      '%',
    ]);
  } finally {
    await root.end();
  }
  const pg = await pgSuper();
  try {
    const ident = pg.escapeIdentifier(user);
    await pg.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    await pg.query(`CREATE DATABASE ${ident} OWNER ${ident}`);
  } finally {
    await pg.end();
  }
  port = await freePort();
  file = config(name, { metricsPort: port });
}, 300_000);

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  // What was checked, for a look after the fact.
  writeFileSync(join(testDir(name), 'outputs.txt'), seen.map((s) => `===== ${s.what}\n${s.text}\n`).join('\n'));
  await dropSourceDatabase(db);
  const root = await mysqlRoot();
  try {
    await root.query('DROP USER IF EXISTS ?@?', [user, '%']);
  } finally {
    await root.end();
  }
  const pg = await pgSuper();
  try {
    const ident = pg.escapeIdentifier(user);
    await pg.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    await pg.query(`DROP ROLE IF EXISTS ${ident}`);
  } finally {
    await pg.end();
  }
});

function expectNoSecret(): void {
  expect(seen.length).toBeGreaterThan(0);
  for (const { what, text } of seen) {
    expect(text.length, `${what} printed nothing`).toBeGreaterThan(0);
    const keyLines = clientKey.split('\n').filter((line) => line.length >= 40);
    for (const secret of [password, wrongPassword, encodeURIComponent(password), saslPassword, ...keyLines]) {
      expect(text.includes(secret), `${what} contains the password:\n${text}`).toBe(false);
    }
    // The sandbox's own passwords are no business of this pipeline either.
    const s = getSandbox();
    expect(text.includes(s.mysql.rootPassword) || text.includes(s.postgres.superPassword), what).toBe(false);
  }
}

describe('secrets never appear in output', () => {
  it('a running pipeline with debug logs: stdout, stderr, status, validate, /metrics, /readyz', async () => {
    const validate = await runFerry(['validate', '-c', file], env);
    record('validate', validate.stdout, validate.stderr);
    expect(validate.code, validate.stdout).toBe(0);
    const validateJson = await runFerry(['validate', '-c', file, '--json'], env);
    record('validate --json', validateJson.stdout, validateJson.stderr);
    expect(validateJson.code).toBe(0);

    const writer = await startWriter(db);
    const ferry = startFerry(['run', '-c', file], env);
    processes.push(ferry);
    try {
      await ferry.waitForOutput(/reading the binlog/, 60_000);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await writer.stop();
    }
    const cfg = parsedConfig(file, env);
    await eventually('target == source', async () => (await verifyPipeline(cfg, { recheck: { attempts: 0 } })).equal);

    record('/metrics', (await fetchText(`http://127.0.0.1:${port}/metrics`)).text);
    record('/readyz', (await fetchText(`http://127.0.0.1:${port}/readyz`)).text);
    record('/healthz', (await fetchText(`http://127.0.0.1:${port}/healthz`)).text);
    const status = await runFerry(['status', '-c', file], env);
    record('status', status.stdout, status.stderr);
    expect(status.code).toBe(0);
    const statusJson = await runFerry(['status', '-c', file, '--json'], env);
    record('status --json', statusJson.stdout, statusJson.stderr);
    expect((JSON.parse(statusJson.stdout) as StatusReport).running).toBe(true);

    const stopped = await ferry.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    record('ferry run stdout+stderr', stopped.stdout, stopped.stderr);
    // Debug logging was on.
    expect(stopped.stderr).toContain('"level":"debug"');
    expectNoSecret();
  });

  it('error paths: rejected and refused connections, a password inside the URL', async () => {
    // The target rejects the password: ferry run stops with FERRY_AUTH.
    const rejected = await runFerry(['run', '-c', file], { ...env, TARGET_PASSWORD: wrongPassword }, 60_000);
    record('run, target rejects the password', rejected.stdout, rejected.stderr);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('[FERRY_AUTH]');

    // The source rejects the password: validate shows it as a failed check.
    const badSource = await runFerry(['validate', '-c', file], { ...env, SOURCE_PASSWORD: wrongPassword });
    record('validate, source rejects the password', badSource.stdout, badSource.stderr);
    expect(badSource.code).toBe(1);
    expect(badSource.stdout).toMatch(/✗ .*Access denied for user/);

    // The target refuses connections, and the password is written into the URL itself.
    const closed = await freePort();
    const inline = config(`${name}-inline`, {
      metricsPort: await freePort(),
      edit: (t) =>
        t
          .replace(/:\$\{TARGET_PASSWORD\}@127\.0\.0\.1:\d+\//, `:${password}@127.0.0.1:${closed}/`)
          .replace(`:\${SOURCE_PASSWORD}@`, `:${password}@`),
    });
    const refusedStatus = await runFerry(['status', '-c', inline], {});
    record('status, target refuses', refusedStatus.stdout, refusedStatus.stderr);
    expect(refusedStatus.code).toBe(1);
    expect(refusedStatus.stderr).toContain('[FERRY_CONNECTION]');
    const refusedValidate = await runFerry(['validate', '-c', inline, '--json'], {});
    record('validate --json, target refuses', refusedValidate.stdout, refusedValidate.stderr);
    expect(refusedValidate.code).toBe(1);

    // TLS with a client certificate key from the environment, and a SASL password: the plaintext
    // sandbox cannot speak TLS, so every connection fails, and no failure may show either secret.
    const tlsDir = testDir(`${name}-tls`);
    await certificateAuthority(tlsDir, 'ca', '/CN=secrets test CA');
    await signedCertificate(tlsDir, 'client', { subject: '/CN=ferry', sans: ['DNS:ferry'] });
    clientKey = readFileSync(join(tlsDir, 'client.key'), 'utf8');
    const block = `{ mode: require, cert: ${JSON.stringify(join(tlsDir, 'client.pem'))}, key: "\${CLIENT_KEY}" }`;
    const withTls = config(`${name}-tls`, {
      metricsPort: await freePort(),
      edit: (t) =>
        t
          .replace(
            /^kafka:\n/m,
            `kafka:\n  tls: ${block}\n  sasl: { mechanism: scram-sha-512, username: ferry, password: "\${KAFKA_PASSWORD}" }\n`,
          )
          .replace(/^source:\n/m, `source:\n  tls: ${block}\n`)
          .replace(/^sink:\n/m, `sink:\n  tls: ${block}\n`),
    });
    const tlsEnv = { ...env, CLIENT_KEY: clientKey, KAFKA_PASSWORD: saslPassword };
    for (const args of [
      ['validate', '-c', withTls],
      ['validate', '-c', withTls, '--json'],
      ['run', '-c', withTls],
    ]) {
      const r = await runFerry(args, tlsEnv, 60_000);
      record(`${args.join(' ')}, TLS to plaintext servers`, r.stdout, r.stderr);
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
    }

    // A config error about the URL names the field, not its value.
    const broken = config(`${name}-broken`, {
      metricsPort: 9464,
      edit: (t) => t.replace(`:\${SOURCE_PASSWORD}@`, `:${password}@`).replace('  kind: mysql', '  kind: mssql'),
    });
    const invalid = await runFerry(['validate', '-c', broken], {});
    record('validate, config error', invalid.stdout, invalid.stderr);
    expect(invalid.code).toBe(2);
    expectNoSecret();
  });
});
