/**
 * A bank-transfer workload for the transaction-mode tests: MariaDB `accounts` (balance, and how
 * many transfers touched it) and `ledger` (one row per transfer). Every source transaction moves
 * an amount between two accounts and writes its ledger row, so in any state the source passes
 * through: the total balance is constant, and the transfer count summed over accounts is twice the
 * number of ledger rows. A reader polls the PostgreSQL target in REPEATABLE READ and records every
 * read that breaks either rule.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { type FerryProcess, startFerry, writeConfig } from './cli.js';
import { getSandbox, mysqlRoot, pgSuper } from './sandbox.js';

export const ACCOUNTS = 40;
export const START_BALANCE = 1000;

export interface BankRead {
  accounts: number;
  total: number;
  touches: number;
  ledger: number;
}

/** A read the source could never have shown. */
export function violates(r: BankRead): boolean {
  if (r.accounts === 0 && r.ledger === 0) return false; // nothing applied yet
  return r.accounts !== ACCOUNTS || r.total !== ACCOUNTS * START_BALANCE || r.touches !== 2 * r.ledger;
}

export async function createBank(db: string): Promise<void> {
  const my = await mysqlRoot();
  try {
    await my.query(`CREATE DATABASE \`${db}\``);
    await my.query(
      `CREATE TABLE \`${db}\`.accounts (id INT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL, touches INT NOT NULL)`,
    );
    await my.query(
      `CREATE TABLE \`${db}\`.ledger (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, from_id INT NOT NULL, ` +
        'to_id INT NOT NULL, amount BIGINT NOT NULL)',
    );
  } finally {
    await my.end();
  }
}

/** Opens the accounts, all in ONE source transaction. */
export async function openAccounts(db: string): Promise<void> {
  const my = await mysqlRoot(db);
  try {
    await my.beginTransaction();
    for (let id = 1; id <= ACCOUNTS; id++) {
      await my.query('INSERT INTO accounts (id, balance, touches) VALUES (?, ?, 0)', [id, START_BALANCE]);
    }
    await my.commit();
  } finally {
    await my.end();
  }
}

/** `writers` connections each making transfers until `stop()`; resolves with the number made. */
export function startTransfers(db: string, writers: number): { stop(): Promise<number> } {
  let stopping = false;
  let made = 0;
  const one = async (my: mysql.Connection, seed: number) => {
    let x = seed;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    while (!stopping) {
      const a = 1 + rnd(ACCOUNTS);
      let b = 1 + rnd(ACCOUNTS - 1);
      if (b >= a) b++;
      const amount = 1 + rnd(50);
      const [lo, hi] = a < b ? [a, b] : [b, a];
      try {
        await my.beginTransaction();
        // Both rows in key order (no deadlocks between writers), the ledger row last.
        for (const id of [lo, hi]) {
          const delta = id === a ? -amount : amount;
          await my.query('UPDATE accounts SET balance = balance + ?, touches = touches + 1 WHERE id = ?', [delta, id]);
        }
        await my.query('INSERT INTO ledger (from_id, to_id, amount) VALUES (?, ?, ?)', [a, b, amount]);
        await my.commit();
        made++;
      } catch {
        await my.rollback().catch(() => undefined);
      }
    }
  };
  const running = (async () => {
    const conns = await Promise.all(Array.from({ length: writers }, () => mysqlRoot(db)));
    try {
      await Promise.all(conns.map((c, i) => one(c, 7 + i * 7919)));
    } finally {
      await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await running;
      return made;
    },
  };
}

/** Reads the target in one REPEATABLE READ transaction (a consistent snapshot). */
export async function readTarget(pgc: pg.Client, schema: string): Promise<BankRead | null> {
  const q = (t: string) => `"${schema}"."${t}"`;
  await pgc.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const a = await pgc.query(
      `SELECT count(*)::int AS n, coalesce(sum(balance), 0)::bigint::text AS total, coalesce(sum(touches), 0)::int AS touches FROM ${q('accounts')}`,
    );
    const l = await pgc.query(`SELECT count(*)::int AS n FROM ${q('ledger')}`);
    return { accounts: a.rows[0].n, total: Number(a.rows[0].total), touches: a.rows[0].touches, ledger: l.rows[0].n };
  } catch (err) {
    // The tables do not exist yet (the sink creates them with their first rows).
    if ((err as { code?: string }).code === '42P01') return null;
    throw err;
  } finally {
    await pgc.query('ROLLBACK').catch(() => undefined);
  }
}

/** Polls the target until stop(); every read and the violating ones. */
export function startReader(schema: string): { stop(): Promise<{ reads: number; bad: BankRead[] }> } {
  let stopping = false;
  const bad: BankRead[] = [];
  let reads = 0;
  const running = (async () => {
    const pgc = await pgSuper();
    try {
      while (!stopping) {
        const r = await readTarget(pgc, schema);
        if (r) {
          reads++;
          if (violates(r)) bad.push(r);
        }
        await new Promise((res) => setTimeout(res, 2));
      }
    } finally {
      await pgc.end();
    }
  })();
  return {
    async stop() {
      stopping = true;
      await running;
      return { reads, bad };
    },
  };
}

/** The source's ledger rows and account state, to know when the target caught up. */
export async function sourceState(db: string): Promise<{ ledger: number; touches: number }> {
  const my = await mysqlRoot(db);
  try {
    const [l] = await my.query('SELECT count(*) AS n FROM ledger');
    const [a] = await my.query('SELECT coalesce(sum(touches), 0) AS t FROM accounts');
    return { ledger: Number((l as Array<{ n: number }>)[0]!.n), touches: Number((a as Array<{ t: number }>)[0]!.t) };
  } finally {
    await my.end();
  }
}

/** A pipeline config for the bank: MariaDB → PostgreSQL, several partitions. */
export function bankConfig(
  dir: string,
  o: { name: string; db: string; consistency: 'row' | 'transaction'; batchSize: number; applyParallelism?: number },
): string {
  const s = getSandbox();
  const text = [
    `name: ${o.name}`,
    'kafka:',
    `  brokers: ${JSON.stringify(s.kafka.brokers)}`,
    '  partitions: 4',
    // A killed sink's partitions are handed over after 10 s instead of 30 s.
    '  sessionTimeoutMs: 10000',
    'source:',
    '  kind: mysql',
    `  url: mysql://${s.mysql.user}:\${SOURCE_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${o.db}`,
    `  tables: ["${o.db}.*"]`,
    '  heartbeatIntervalMs: 500',
    'sink:',
    '  kind: postgres',
    `  url: postgres://${s.postgres.user}:\${TARGET_PASSWORD}@${s.postgres.host}:${s.postgres.port}/${s.postgres.database}`,
    `  batchSize: ${o.batchSize}`,
    '  lingerMs: 10',
    `  consistency: ${o.consistency}`,
    ...(o.applyParallelism !== undefined ? [`  applyParallelism: ${o.applyParallelism}`] : []),
    'metrics:',
    '  enabled: false',
    'log:',
    '  level: info',
    '  format: json',
    '',
  ].join('\n');
  return writeConfig(dir, o.name, text);
}

export function startRole(role: 'source' | 'sink', config: string, env: Record<string, string>): FerryProcess {
  return startFerry([role, '-c', config], env);
}
