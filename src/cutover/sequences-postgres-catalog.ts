/**
 * What a PostgreSQL database says about a generated column: the sequence behind it (also used on
 * a PostgreSQL source) and, on the target, the column's type, default, highest value and a free
 * name for a new sequence — the input of planPostgresColumn.
 */
import * as pgDialect from '../../connectors/postgres-sink/dialect.js';
import type { TableId } from '../api/schema.js';
import type { CutoverDb } from './db.js';
import { type PgSequence, type PgTargetColumn, sequenceNameFor } from './sequences-postgres.js';
import { str } from './values.js';

const truthy = (v: unknown) => v === true || v === 't' || v === 'true' || v === 1 || v === '1';

/** The sequence behind a column (identity, serial, or a `nextval()` default), with its state. */
export async function readPgSequence(db: CutoverDb, table: TableId, column: string): Promise<PgSequence | null> {
  const rows = await db.query(
    `SELECT sn.nspname, s.relname
       FROM pg_class t
       JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = $3
       JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = t.oid
                         AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_class'::regclass
                         AND dep.deptype IN ('a', 'i')
       JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
       JOIN pg_namespace sn ON sn.oid = s.relnamespace
      WHERE tn.nspname = $1 AND t.relname = $2
     UNION ALL
     SELECT sn.nspname, s.relname
       FROM pg_class t
       JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = $3
       JOIN pg_attrdef ad ON ad.adrelid = t.oid AND ad.adnum = a.attnum
       JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = ad.oid
                         AND dep.refclassid = 'pg_class'::regclass
       JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
       JOIN pg_namespace sn ON sn.oid = s.relnamespace
      WHERE tn.nspname = $1 AND t.relname = $2
     LIMIT 1`,
    [table.db, table.table, column],
  );
  const r = rows[0];
  if (!r) return null;
  const schema = str(r[0]);
  const name = str(r[1]);
  const qualified = pgDialect.qualify(schema, name);
  const seq: PgSequence = { schema, name, qualified, lastValue: null, isCalled: false, highestIssued: null };
  try {
    const state = await db.query(`SELECT last_value::text, is_called FROM ${qualified}`);
    const last = str(state[0]?.[0]);
    seq.lastValue = /^-?\d+$/.test(last) ? last : null;
    seq.isCalled = truthy(state[0]?.[1]);
    if (seq.lastValue !== null) {
      const issued = BigInt(seq.lastValue) - (seq.isCalled ? 0n : 1n);
      seq.highestIssued = seq.isCalled || issued >= 1n ? issued.toString() : null;
    }
  } catch (err) {
    seq.note = `cannot read ${qualified}: ${(err as Error).message}`;
  }
  return seq;
}

/** The target column as planPostgresColumn needs it; null when the table has no such column. */
export async function readPgTargetColumn(
  db: CutoverDb,
  table: TableId,
  column: string,
): Promise<PgTargetColumn | null> {
  const rows = await db.query(
    `SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, pg_get_expr(ad.adbin, ad.adrelid)
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped`,
    [table.db, table.table, column],
  );
  const r = rows[0];
  if (!r) return null;
  const max = await db.query(
    `SELECT max(${pgDialect.quoteIdent(column)})::text FROM ${pgDialect.qualify(table.db, table.table)}`,
  );
  const sequence = await readPgSequence(db, table, column);
  let freeSequenceName = sequenceNameFor(table.table, column);
  for (let i = 1; i < 100; i++) {
    const taken = await db.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [table.db, freeSequenceName],
    );
    if (taken.length === 0) break;
    freeSequenceName = sequenceNameFor(table.table, column, String(i));
  }
  return {
    type: str(r[0]),
    notNull: truthy(r[1]),
    identity: str(r[2]) !== '',
    defaultExpr: r[3] === null || r[3] === undefined ? null : str(r[3]),
    sequence,
    max: max[0]?.[0] === null || max[0]?.[0] === undefined ? null : str(max[0][0]),
    freeSequenceName,
  };
}
