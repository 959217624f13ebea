/**
 * Test access to the sandbox started by test/helpers/global-setup.ts: its connection info and
 * ready-made clients. Close what you open (`await conn.end()`, `await client.end()`).
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { inject } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';

let cached: SandboxInfo | undefined;

/** The sandbox's connection info: from FERRY_SANDBOX_FILE, else from vitest's `inject('sandbox')`. */
export function getSandbox(): SandboxInfo {
  if (cached) return cached;
  const file = process.env['FERRY_SANDBOX_FILE'];
  if (file) {
    cached = JSON.parse(readFileSync(file, 'utf8')) as SandboxInfo;
    return cached;
  }
  const injected = inject('sandbox');
  if (!injected) {
    throw new FerryError(
      'FERRY_SANDBOX',
      'no sandbox: run integration tests with `npx vitest run --project integration` (its globalSetup starts one) or set FERRY_SANDBOX_FILE.',
    );
  }
  cached = injected;
  return cached;
}

/** The sandbox directory (for stopServer/startServer in fault tests). */
export function sandboxDir(): string {
  return getSandbox().sandbox.dir;
}

/** A MariaDB connection as root (DDL, test fixtures). */
export function mysqlRoot(database?: string): Promise<mysql.Connection> {
  const m = getSandbox().mysql;
  return mysql.createConnection({
    host: m.host,
    port: m.port,
    user: m.rootUser,
    password: m.rootPassword,
    database,
    dateStrings: true,
  });
}

/** A MariaDB connection as the ferry CDC user. */
export function mysqlFerry(database?: string): Promise<mysql.Connection> {
  const m = getSandbox().mysql;
  return mysql.createConnection({
    host: m.host,
    port: m.port,
    user: m.user,
    password: m.password,
    database,
    dateStrings: true,
  });
}

async function pgConnect(user: string, password: string, database?: string): Promise<pg.Client> {
  const p = getSandbox().postgres;
  const client = new pg.Client({ host: p.host, port: p.port, user, password, database: database ?? p.database });
  await client.connect();
  return client;
}

/** A connected PostgreSQL client as superuser (database `ferry` unless given). */
export function pgSuper(database?: string): Promise<pg.Client> {
  const p = getSandbox().postgres;
  return pgConnect(p.superUser, p.superPassword, database);
}

/** A connected PostgreSQL client as the ferry role (database `ferry` unless given). */
export function pgFerry(database?: string): Promise<pg.Client> {
  const p = getSandbox().postgres;
  return pgConnect(p.user, p.password, database);
}

/** A kafkajs client for the sandbox broker (quiet logging). */
export function kafkaClient(clientId = 'ferry-test'): Kafka {
  return new Kafka({ clientId, brokers: getSandbox().kafka.brokers, logLevel: logLevel.WARN });
}

/** A name unique to this test run, for topics, databases and tables. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
