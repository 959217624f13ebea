/**
 * What a MySQL/MariaDB target says about a column: its type, AUTO_INCREMENT, the table's counter,
 * whether it leads an index, its highest value — the input of planMysqlColumn.
 */
import * as mysqlDialect from '../../connectors/mysql-sink/dialect.js';
import type { TableId } from '../api/schema.js';
import type { CutoverDb } from './db.js';
import type { MysqlTargetColumn } from './sequences-mysql.js';
import { str } from './values.js';

/** The target column as planMysqlColumn needs it; null when the table has no such column. */
export async function readMysqlTargetColumn(
  db: CutoverDb,
  table: TableId,
  column: string,
): Promise<MysqlTargetColumn | null> {
  await db.query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
  const cols = await db.query(
    `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA, COLUMN_COMMENT FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [table.db, table.table],
  );
  const r = cols.find((c) => str(c[0]) === column);
  if (!r) return null;
  const other = cols.find((c) => str(c[0]) !== column && /auto_increment/i.test(str(c[3])));
  const leads = await db.query(
    `SELECT 1 FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1 LIMIT 1`,
    [table.db, table.table, column],
  );
  const counter = await db.query(
    'SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [table.db, table.table],
  );
  const max = await db.query(
    `SELECT MAX(${mysqlDialect.quoteIdent(column)}) FROM ${mysqlDialect.qualify(table.db, table.table)}`,
  );
  const next = counter[0]?.[0];
  return {
    columnType: str(r[1]),
    notNull: str(r[2]) === 'NO',
    autoIncrement: /auto_increment/i.test(str(r[3])),
    otherAutoColumn: other ? str(other[0]) : null,
    leadsIndex: leads.length > 0,
    comment: str(r[4]),
    nextAutoIncrement: next === null || next === undefined ? null : str(next),
    max: max[0]?.[0] === null || max[0]?.[0] === undefined ? null : str(max[0][0]),
  };
}
