/**
 * Preparing a target table for a schema version (docs/sinks.md#tables-and-schema-changes), the
 * same for every SQL engine (docs/schema-changes.md): rename the table when the schema says it
 * was renamed; create it when missing; else check the key, rename columns the schema says were
 * renamed, add missing columns (with the source's DEFAULT, so existing rows hold it), widen a
 * column when that is lossless, make NOT NULL columns NULL-able when the source no longer
 * requires them (or dropped them). Anything else stops with FERRY_SCHEMA; createTables false
 * allows no DDL at all.
 */
import type { Logger } from '../api/connector.js';
import { FerryError } from '../api/errors.js';
import type { TableSchema } from '../api/schema.js';
import type { SqlSinkDialect, TargetColumn, TargetTable, WantedType } from './dialect.js';

export interface PrepareTableOptions {
  createTables: boolean;
  logger: Logger | null;
}

const nameOf = (schema: TableSchema): string => `${schema.db}.${schema.table}`;

export function noKeyError(schema: TableSchema): FerryError {
  return new FerryError(
    'FERRY_SCHEMA',
    `table ${nameOf(schema)} has no primary key; ferry applies changes by key. Configure key columns for it at the source.`,
  );
}

function noDdl(schema: TableSchema, problem: string): FerryError {
  return new FerryError(
    'FERRY_SCHEMA',
    `${problem} (${nameOf(schema)}) and createTables is false, so ferry changes no target tables. ` +
      'Create or alter the table yourself (docs/type-mapping.md) or set createTables: true, then restart the sink.',
    { details: { table: nameOf(schema) } },
  );
}

/** Creates or evolves the target table of `schema` (under the dialect's DDL lock) and returns it as it is now. */
export async function prepareTable<C, Col extends TargetColumn, W extends WantedType, P>(
  d: SqlSinkDialect<C, Col, W, P>,
  c: C,
  schema: TableSchema,
  o: PrepareTableOptions,
): Promise<TargetTable<Col>> {
  let current = await d.describe(c, schema);
  if (!current && schema.renamedFrom && o.createTables) {
    const from = { ...schema, db: schema.renamedFrom.db, table: schema.renamedFrom.table };
    if (await d.describe(c, from)) {
      await d.renameTable(c, from, schema);
      o.logger?.info('renamed the target table', { from: nameOf(from), to: nameOf(schema) });
      current = await d.describe(c, schema);
    }
  }
  if (!current && !o.createTables) throw noDdl(schema, 'the target table does not exist');
  if (!current) {
    await d.createTable(c, schema);
    o.logger?.info('created target table', { table: nameOf(schema), columns: schema.columns.length });
  } else {
    await evolve(d, c, schema, current, o);
  }
  const now = await d.describe(c, schema);
  if (!now) throw new FerryError('FERRY_INTERNAL', `table ${nameOf(schema)} vanished while being prepared`);
  return now;
}

async function evolve<C, Col extends TargetColumn, W extends WantedType, P>(
  d: SqlSinkDialect<C, Col, W, P>,
  c: C,
  schema: TableSchema,
  current: TargetTable<Col>,
  { createTables, logger }: PrepareTableOptions,
): Promise<void> {
  const name = nameOf(schema);
  const pk = new Set(schema.primaryKey);
  const targetPk = new Set(current.primaryKey);
  if (targetPk.size !== pk.size || [...pk].some((k) => !targetPk.has(k))) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the target table ${name} has primary key (${current.primaryKey.join(', ') || 'none'}) but the source key is ` +
        `(${schema.primaryKey.join(', ')}); ferry cannot apply changes by key. Change the target key to match, or drop the target table to let ferry recreate it.`,
      { details: { table: name } },
    );
  }
  const own = new Set(schema.columns.map((col) => col.name));
  for (const col of schema.columns) {
    const from = col.renamedFrom;
    if (from === undefined || current.columns.has(col.name) || own.has(from)) continue;
    const old = current.columns.get(from);
    if (!old) continue;
    if (!createTables) throw noDdl(schema, `column "${from}" was renamed to "${col.name}" at the source`);
    await d.renameColumn(c, schema, from, col.name);
    current.columns.delete(from);
    current.columns.set(col.name, { ...old, name: col.name });
    logger?.info('renamed a target column', { table: name, from, to: col.name });
  }
  for (const col of schema.columns) {
    const wanted = d.columnType(schema, col);
    const existing = current.columns.get(col.name);
    if (!existing && !createTables) throw noDdl(schema, `the target table has no column "${col.name}"`);
    if (!existing) {
      await d.addColumn(c, schema, col, wanted);
      const withDefault = col.default === undefined ? {} : { default: col.default };
      logger?.info('added a column to the target table', {
        table: name,
        column: col.name,
        type: wanted.type,
        ...withDefault,
      });
      continue;
    }
    const cmp = d.compareTypes(existing, wanted);
    if (cmp.result === 'widen' && !createTables) {
      throw noDdl(schema, `column "${col.name}" is ${existing.type} but must hold ${wanted.type}`);
    }
    if (cmp.result === 'conflict') {
      throw new FerryError(
        'FERRY_SCHEMA',
        `column "${col.name}" of the target table ${name} is ${existing.type}, but the source now sends ${col.sourceType} ` +
          `(mapped to ${wanted.type}); changing it could lose data, so ferry stops. ALTER the target column to a type that ` +
          `holds both (or to ${wanted.type}) and restart the sink.`,
        { details: { table: name, column: col.name, existing: existing.type, wanted: wanted.type } },
      );
    }
    // The source allows NULL now: new rows must insert.
    const dropNotNull = existing.notNull && col.nullable && !pk.has(col.name) && createTables;
    if (cmp.result === 'widen') {
      const widen = cmp.widenTo === undefined ? { wanted } : { wanted, widenTo: cmp.widenTo };
      const to = await d.alterColumn(c, schema, existing, { widen, dropNotNull });
      const note = d.widenNote ? ` (${d.widenNote})` : '';
      logger?.warn(`widened a target column${note}`, { table: name, column: col.name, from: existing.type, to });
    } else if (dropNotNull) {
      await d.alterColumn(c, schema, existing, { dropNotNull });
    }
  }
  const known = new Set(schema.columns.map((col) => col.name));
  for (const [colName, existing] of current.columns) {
    // A column with a default takes rows without it as it is (dropping NOT NULL could drop the
    // default too, and an event of an older version, read after a newer one, looks the same).
    if (!known.has(colName) && existing.notNull && !existing.hasDefault && !pk.has(colName) && createTables) {
      // The column is gone at the source; new rows would violate NOT NULL.
      await d.alterColumn(c, schema, existing, { dropNotNull: true });
      logger?.warn('a target column is no longer in the source; it is kept, now nullable', {
        table: name,
        column: colName,
      });
    }
  }
}
