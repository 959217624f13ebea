/** Setup shared by the `ferry verify` integration tests against the sandbox. */
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import type { TablePair, VerifyEndpoint } from '../../src/verify/index.js';
import { getSandbox } from './sandbox.js';

/** Verify endpoints for the sandbox's MariaDB and PostgreSQL as the ferry user. */
export function sandboxVerifyEndpoints(): { mysql: VerifyEndpoint; postgres: VerifyEndpoint } {
  const s = getSandbox();
  return {
    mysql: { kind: 'mysql', host: s.mysql.host, port: s.mysql.port, user: s.mysql.user, password: s.mysql.password },
    postgres: {
      kind: 'postgres',
      host: s.postgres.host,
      port: s.postgres.port,
      user: s.postgres.user,
      password: s.postgres.password,
      database: s.postgres.database,
    },
  };
}

/** Drops MariaDB database `db` and PostgreSQL schema `db`, and closes both connections (each may be unset). */
export async function dropAndClose(my: Connection | undefined, pgc: pg.Client | undefined, db: string): Promise<void> {
  await my?.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await my?.end();
  await pgc?.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`);
  await pgc?.end();
}

/** Pairs of tables in database/schema `db` on both sides; the target table defaults to the source's name. */
export function tablePairIn(db: string): (source: string, target?: string) => TablePair {
  return (source, target = source) => ({ source: { db, table: source }, target: { db, table: target } });
}
