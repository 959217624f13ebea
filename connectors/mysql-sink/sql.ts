/**
 * SQL builders for the MySQL/MariaDB sink. Pure: statement text with `?` placeholders plus the
 * parameter list (executed as server-side prepared statements, so a `?` inside a quoted name is
 * never taken for a placeholder). Names are quoted by the dialect.
 */

import { FerryError } from '../../src/api/index.js';
import { qualify, quoteIdent, quoteList, quoteLiteral } from './dialect.js';
import type { MySqlParam } from './values.js';

export interface MySqlStatement {
  sql: string;
  params: MySqlParam[];
}

/** MySQL prepared statements take at most 65,535 placeholders. */
export const MAX_PLACEHOLDERS = 65_535;

const tuple = (n: number): string => `(${Array.from({ length: n }, () => '?').join(', ')})`;

/**
 * Multi-row upsert: INSERT … VALUES (…), (…) ON DUPLICATE KEY UPDATE c = VALUES(c) for the
 * non-key columns (MariaDB's VALUES(); MySQL 8 accepts it too). With key columns only, the
 * update is a no-op assignment of the first key column.
 */
export function upsertStatement(
  db: string,
  table: string,
  columns: string[],
  key: string[],
  rows: MySqlParam[][],
): MySqlStatement {
  const keySet = new Set(key);
  const nonKey = columns.filter((c) => !keySet.has(c));
  const update = (nonKey.length > 0 ? nonKey : [key[0]!])
    .map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`)
    .join(', ');
  const values = rows.map(() => tuple(columns.length)).join(', ');
  return {
    sql: `INSERT INTO ${qualify(db, table)} (${quoteList(columns)}) VALUES ${values} ON DUPLICATE KEY UPDATE ${update}`,
    params: rows.flat(),
  };
}

/** Batched delete by key: WHERE k IN (?, …), or WHERE (k1, k2) IN ((?, ?), …). */
export function deleteStatement(db: string, table: string, key: string[], keys: MySqlParam[][]): MySqlStatement {
  const where =
    key.length === 1
      ? `${quoteIdent(key[0]!)} IN ${tuple(keys.length)}`
      : `(${quoteList(key)}) IN (${keys.map(() => tuple(key.length)).join(', ')})`;
  return { sql: `DELETE FROM ${qualify(db, table)} WHERE ${where}`, params: keys.flat() };
}

/** Whether a row with this key exists. */
export function existsStatement(db: string, table: string, key: string[], values: MySqlParam[]): MySqlStatement {
  const where = key.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
  return { sql: `SELECT 1 AS found FROM ${qualify(db, table)} WHERE ${where} LIMIT 1`, params: values };
}

/** TRUNCATE TABLE commits implicitly in MySQL; DELETE keeps the emptying inside the batch's transaction. */
export function truncateStatement(db: string, table: string): MySqlStatement {
  return { sql: `DELETE FROM ${qualify(db, table)}`, params: [] };
}

export interface MySqlColumnDef {
  name: string;
  /** DDL type from the type mapping (never from user text). */
  ddl: string;
  notNull: boolean;
  /** CREATE TABLE: the column's DEFAULT, as a parameter (docs/schema-changes.md). */
  default?: string | number | Buffer;
}

export function createDatabaseStatement(db: string): MySqlStatement {
  return { sql: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(db)} CHARACTER SET utf8mb4`, params: [] };
}

export function createTableStatement(
  db: string,
  table: string,
  columns: MySqlColumnDef[],
  key: string[],
): MySqlStatement {
  const defs = columns.map(
    (c) =>
      `${quoteIdent(c.name)} ${c.ddl} ${c.notNull ? 'NOT NULL' : 'NULL'}` +
      `${c.default === undefined ? '' : ` DEFAULT ${defaultLiteral(c.default)}`}`,
  );
  defs.push(`PRIMARY KEY (${quoteList(key)})`);
  return {
    sql: `CREATE TABLE IF NOT EXISTS ${qualify(db, table)} (${defs.join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    params: [],
  };
}

/**
 * A column DEFAULT in DDL, which takes no parameters (docs/schema-changes.md): a number as is,
 * bytes and text with control characters as a hex literal, other text quoted by quoteLiteral().
 */
export function defaultLiteral(value: string | number | Buffer): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new FerryError('FERRY_SCHEMA', `the default ${value} cannot be written in MySQL DDL`);
    return String(value);
  }
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  if (/[\u0000-\u001f]/.test(value)) return `X'${Buffer.from(value, 'utf8').toString('hex')}'`;
  return quoteLiteral(value);
}

/** ADD COLUMN, with a DEFAULT when `defaultValue` is given, so existing rows hold it. */
export function addColumnStatement(
  db: string,
  table: string,
  column: MySqlColumnDef,
  defaultValue?: string | number | Buffer | null,
): MySqlStatement {
  const hasDefault = defaultValue !== undefined && defaultValue !== null;
  return {
    sql:
      `ALTER TABLE ${qualify(db, table)} ADD COLUMN ${quoteIdent(column.name)} ${column.ddl} ` +
      `${column.notNull ? 'NOT NULL' : 'NULL'}${hasDefault ? ` DEFAULT ${defaultLiteral(defaultValue)}` : ''}`,
    params: [],
  };
}

/** Renames columns in one statement: the renames apply at once, so names may be exchanged. */
export function renameColumnsStatement(
  db: string,
  table: string,
  renames: ReadonlyArray<{ from: string; to: string }>,
): MySqlStatement {
  const clauses = renames.map((r) => `RENAME COLUMN ${quoteIdent(r.from)} TO ${quoteIdent(r.to)}`);
  return { sql: `ALTER TABLE ${qualify(db, table)} ${clauses.join(', ')}`, params: [] };
}

export function renameTableStatement(
  from: { db: string; table: string },
  to: { db: string; table: string },
): MySqlStatement {
  return { sql: `RENAME TABLE ${qualify(from.db, from.table)} TO ${qualify(to.db, to.table)}`, params: [] };
}

export function modifyColumnStatement(db: string, table: string, column: MySqlColumnDef): MySqlStatement {
  return {
    sql: `ALTER TABLE ${qualify(db, table)} MODIFY COLUMN ${quoteIdent(column.name)} ${column.ddl} ${column.notNull ? 'NOT NULL' : 'NULL'}`,
    params: [],
  };
}

export function describeTableStatement(db: string, table: string): MySqlStatement {
  return {
    sql:
      'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_KEY AS col_key, ' +
      '(COLUMN_DEFAULT IS NOT NULL) AS has_default ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    params: [db, table],
  };
}

export function primaryKeyStatement(db: string, table: string): MySqlStatement {
  return {
    sql:
      'SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE ' +
      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
    params: [db, table],
  };
}

// ---- offsets table (docs/sinks.md#offsets) ----

export const OFFSETS_TABLE = 'ferry_offsets';

export function createOffsetsTableStatement(db: string): MySqlStatement {
  return {
    sql:
      `CREATE TABLE IF NOT EXISTS ${qualify(db, OFFSETS_TABLE)} (` +
      '`pipeline` VARCHAR(190) NOT NULL, `consumer_group` VARCHAR(190) NOT NULL, ' +
      '`topic` VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, `partition` INT NOT NULL, ' +
      '`next_offset` BIGINT NOT NULL, `truncate_barrier` VARCHAR(64) CHARACTER SET ascii NULL, ' +
      '`updated_at` DATETIME(6) NOT NULL, `leader_epoch` BIGINT NULL, ' +
      'PRIMARY KEY (`pipeline`, `consumer_group`, `topic`, `partition`)' +
      ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    params: [],
  };
}

/** Whether a ferry_offsets table has the leader_epoch column (older ferry versions lack it). */
export function offsetsEpochColumnStatement(db: string): MySqlStatement {
  return {
    sql:
      'SELECT COUNT(*) AS n FROM information_schema.COLUMNS ' +
      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'leader_epoch'",
    params: [db, OFFSETS_TABLE],
  };
}

/** Adds leader_epoch to a ferry_offsets table of an older ferry (run when the column is missing). */
export function migrateOffsetsTableStatement(db: string): MySqlStatement {
  return { sql: `ALTER TABLE ${qualify(db, OFFSETS_TABLE)} ADD COLUMN \`leader_epoch\` BIGINT NULL`, params: [] };
}

export function readOffsetsStatement(db: string, pipeline: string, group: string, topics: string[]): MySqlStatement {
  return {
    sql:
      'SELECT `topic`, `partition`, CAST(`next_offset` AS CHAR) AS next_offset, `truncate_barrier`, ' +
      'CAST(`leader_epoch` AS CHAR) AS leader_epoch ' +
      `FROM ${qualify(db, OFFSETS_TABLE)} WHERE \`pipeline\` = ? AND \`consumer_group\` = ? AND \`topic\` IN ${tuple(topics.length)}`,
    params: [pipeline, group, ...topics],
  };
}

export function lockOffsetsStatement(
  db: string,
  pipeline: string,
  group: string,
  partitions: Array<{ topic: string; partition: number }>,
): MySqlStatement {
  return {
    sql:
      'SELECT `topic`, `partition`, CAST(`next_offset` AS CHAR) AS next_offset, `truncate_barrier`, ' +
      'CAST(`leader_epoch` AS CHAR) AS leader_epoch ' +
      `FROM ${qualify(db, OFFSETS_TABLE)} WHERE \`pipeline\` = ? AND \`consumer_group\` = ? ` +
      `AND (\`topic\`, \`partition\`) IN (${partitions.map(() => '(?, ?)').join(', ')}) FOR UPDATE`,
    params: [pipeline, group, ...partitions.flatMap((p) => [p.topic, p.partition])],
  };
}

export function writeOffsetsStatement(
  db: string,
  pipeline: string,
  group: string,
  rows: Array<{
    topic: string;
    partition: number;
    nextOffset: string;
    truncateBarrier: string | null;
    leaderEpoch: number | null;
  }>,
): MySqlStatement {
  return {
    sql:
      `INSERT INTO ${qualify(db, OFFSETS_TABLE)} (\`pipeline\`, \`consumer_group\`, \`topic\`, \`partition\`, \`next_offset\`, \`truncate_barrier\`, \`leader_epoch\`, \`updated_at\`) ` +
      `VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))').join(', ')} ` +
      'ON DUPLICATE KEY UPDATE `next_offset` = VALUES(`next_offset`), `truncate_barrier` = VALUES(`truncate_barrier`), ' +
      '`leader_epoch` = VALUES(`leader_epoch`), `updated_at` = VALUES(`updated_at`)',
    params: rows.flatMap((r) => [
      pipeline,
      group,
      r.topic,
      r.partition,
      r.nextOffset,
      r.truncateBarrier,
      r.leaderEpoch === null ? null : String(r.leaderEpoch),
    ]),
  };
}

export function writeBarriersStatement(
  db: string,
  pipeline: string,
  group: string,
  rows: Array<{ topic: string; partition: number; truncateBarrier: string }>,
): MySqlStatement {
  return {
    sql:
      `INSERT INTO ${qualify(db, OFFSETS_TABLE)} (\`pipeline\`, \`consumer_group\`, \`topic\`, \`partition\`, \`next_offset\`, \`truncate_barrier\`, \`updated_at\`) ` +
      `VALUES ${rows.map(() => '(?, ?, ?, ?, 0, ?, UTC_TIMESTAMP(6))').join(', ')} ` +
      'ON DUPLICATE KEY UPDATE `truncate_barrier` = VALUES(`truncate_barrier`), `updated_at` = VALUES(`updated_at`)',
    params: rows.flatMap((r) => [pipeline, group, r.topic, r.partition, r.truncateBarrier]),
  };
}
