/**
 * Planning the move of one generated column on a MySQL/MariaDB target (pure; the catalog reads
 * are in sequences-mysql-catalog.ts):
 * - already AUTO_INCREMENT: `ALTER TABLE … AUTO_INCREMENT = next`;
 * - an integer NOT NULL column that leads an index: `ALTER TABLE … MODIFY COLUMN … <its type>
 *   NOT NULL AUTO_INCREMENT, AUTO_INCREMENT = next`, with NO_AUTO_VALUE_ON_ZERO so a row with id 0
 *   keeps it (the MODIFY copies the table).
 */
import * as mysqlDialect from '../../connectors/mysql-sink/dialect.js';
import type { TableId } from '../api/schema.js';
import {
  actionBase,
  maxOf,
  missingColumnAction,
  nextAfter,
  plainStatement,
  type SequenceAction,
} from './sequence-action.js';
import type { SourceAutoColumn } from './source.js';

export interface MysqlTargetColumn {
  /** information_schema COLUMN_TYPE, e.g. `int(11)`, `bigint(20) unsigned`. */
  columnType: string;
  notNull: boolean;
  autoIncrement: boolean;
  /** Another column of the table that already is AUTO_INCREMENT. */
  otherAutoColumn: string | null;
  /** The column is the first column of some index (AUTO_INCREMENT needs that). */
  leadsIndex: boolean;
  comment: string;
  /** information_schema.TABLES.AUTO_INCREMENT: the next value, when the table has a counter. */
  nextAutoIncrement: string | null;
  max: string | null;
}

const MYSQL_INT_TYPE = /^(tinyint|smallint|mediumint|int|integer|bigint)(\(\d+\))?( unsigned)?( zerofill)?$/i;

export const NO_AUTO_VALUE_ON_ZERO =
  "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')";

/** Plans the move of one MySQL/MariaDB target column (pure). */
export function planMysqlColumn(src: SourceAutoColumn, target: TableId, col: MysqlTargetColumn | null): SequenceAction {
  const table = mysqlDialect.qualify(target.db, target.table);
  const column = mysqlDialect.quoteIdent(src.column);
  const base = actionBase(src, target);
  if (!col) return missingColumnAction(src, target);
  const counterIssued =
    col.nextAutoIncrement !== null && /^\d+$/.test(col.nextAutoIncrement)
      ? (BigInt(col.nextAutoIncrement) - 1n).toString()
      : null;
  const highest = maxOf(col.max, src.highestIssued, col.autoIncrement ? counterIssued : null);
  const next = nextAfter(highest);
  if (col.autoIncrement) {
    const current = col.nextAutoIncrement !== null ? BigInt(col.nextAutoIncrement) : null;
    if (highest === null || (current !== null && current > BigInt(highest))) {
      return {
        ...base,
        kind: 'auto-increment',
        highest,
        next: current === null ? next : current.toString(),
        alreadyDone: true,
        note: `AUTO_INCREMENT already at ${current ?? next}`,
      };
    }
    return {
      ...base,
      kind: 'auto-increment',
      highest,
      next,
      statements: [plainStatement(`ALTER TABLE ${table} AUTO_INCREMENT = ${next}`)],
      note: `AUTO_INCREMENT moved to ${next}`,
    };
  }
  if (col.otherAutoColumn !== null) {
    return {
      ...base,
      kind: 'unsupported',
      highest,
      next,
      note: `the target table already has an AUTO_INCREMENT column (${col.otherAutoColumn}); MySQL allows one`,
    };
  }
  const type = col.columnType.trim();
  if (!MYSQL_INT_TYPE.test(type)) {
    return {
      ...base,
      kind: 'unsupported',
      highest,
      next,
      note: `the target column type ${type} cannot be AUTO_INCREMENT; set a default yourself`,
    };
  }
  if (!col.leadsIndex || !col.notNull) {
    return {
      ...base,
      kind: 'unsupported',
      highest,
      next,
      note: 'AUTO_INCREMENT needs a NOT NULL column that leads an index (e.g. the primary key); add one yourself',
    };
  }
  const comment = col.comment ? ` COMMENT ${mysqlDialect.quoteLiteral(col.comment)}` : '';
  const counter = highest === null ? '' : `, AUTO_INCREMENT = ${next}`;
  return {
    ...base,
    kind: 'make-auto-increment',
    highest,
    next,
    statements: [
      plainStatement(NO_AUTO_VALUE_ON_ZERO),
      plainStatement(
        `ALTER TABLE ${table} MODIFY COLUMN ${column} ${type.toLowerCase()} NOT NULL AUTO_INCREMENT${comment}${counter}`,
      ),
    ],
    note: `column made AUTO_INCREMENT, next value ${next}`,
  };
}
