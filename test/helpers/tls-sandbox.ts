/**
 * The TLS-only sandbox of the TLS tests (`ferry sandbox up --tls` in `.ferry/test-sandbox-tls`,
 * or FERRY_TEST_TLS_SANDBOX_DIR): started by the first test that asks for it and shared by all
 * of them; the rest of the suite keeps the plaintext sandbox. test/helpers/global-setup.ts stops
 * it at the end unless FERRY_KEEP_SANDBOX=1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { projectRoot, type SandboxInfo, sandboxUp } from '../../src/sandbox/index.js';

export function tlsSandboxDir(): string {
  return process.env['FERRY_TEST_TLS_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'test-sandbox-tls');
}

let started: Promise<SandboxInfo> | undefined;

/** Starts (or finds running) the TLS sandbox's Kafka, PostgreSQL and MariaDB. */
export function tlsSandbox(): Promise<SandboxInfo> {
  started ??= sandboxUp({
    dir: tlsSandboxDir(),
    tls: true,
    only: ['kafka', 'postgres', 'mysql'],
    log: (line) => process.stderr.write(`[tls sandbox] ${line}\n`),
  });
  return started;
}

export function sandboxCaPem(s: SandboxInfo): string {
  return readFileSync(s.tls!.caFile, 'utf8');
}

/** MariaDB root over TLS (the server refuses plaintext TCP). */
export function tlsMysqlRoot(s: SandboxInfo, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: s.mysql.host,
    port: s.mysql.port,
    user: s.mysql.rootUser,
    password: s.mysql.rootPassword,
    ...(database ? { database } : {}),
    ssl: { ca: sandboxCaPem(s), rejectUnauthorized: true },
  });
}

/** PostgreSQL superuser over TLS (hostssl only). */
export async function tlsPgSuper(s: SandboxInfo, database = 'postgres'): Promise<pg.Client> {
  const c = new pg.Client({
    host: s.postgres.host,
    port: s.postgres.port,
    user: s.postgres.superUser,
    password: s.postgres.superPassword,
    database,
    ssl: { ca: sandboxCaPem(s), rejectUnauthorized: true },
  });
  await c.connect();
  return c;
}
