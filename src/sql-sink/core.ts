/**
 * SqlSinkCore: what every SQL sink connector does the same way (docs/sinks.md), given a dialect
 * for what differs by engine (dialect.ts) and a session holding the connection
 * (session.ts):
 * - ensureTable: once per schema version, under the DDL lock, create or evolve the table and
 *   cache how the target has it;
 * - apply: one transaction that fences the expected offsets, then per table empties it (a
 *   truncate), deletes by key, upserts rows grouped by the columns they carry, and finally
 *   writes barriers and the next offsets;
 * - readOffsets: the group's stored offsets.
 */
import type { Logger, SinkBatch, SinkConnector, SinkContext, TableChanges } from '../api/connector.js';
import { FerryError } from '../api/errors.js';
import { type Row, UNCHANGED } from '../api/event.js';
import type { PartitionOffset } from '../api/position.js';
import type { TableId, TableSchema } from '../api/schema.js';
import type { SqlSinkDialect, TargetColumn, TargetTable, WantedType } from './dialect.js';
import { mapChanges, RenameHistory, type TargetMapping } from './renames.js';
import { type BoundColumn, checkFence, groupByColumns, keyParams, rowParams } from './rows.js';
import type { SqlSession } from './session.js';
import { noKeyError, prepareTable } from './tables.js';

export interface SqlSinkCoreOptions<C, Col extends TargetColumn, W extends WantedType, P> {
  /** The connector's class name, for errors (`MySqlSink`). */
  name: string;
  session: SqlSession<C>;
  dialect: SqlSinkDialect<C, Col, W, P>;
  /** false: no DDL on target tables; a missing table or column stops the sink. */
  createTables: boolean;
  /** The connector's logger, once started. */
  logger: () => Logger | null;
}

const tableKey = (db: string, table: string): string => `${db}\u0000${table}`;

export class SqlSinkCore<C, Col extends TargetColumn, W extends WantedType, P> {
  private readonly o: SqlSinkCoreOptions<C, Col, W, P>;
  private ctx: SinkContext | null = null;
  /** How the target has each table, as of the last ensureTable(). */
  private readonly tables = new Map<string, TargetTable<Col>>();
  /** Schema versions prepared already. */
  private readonly ensured = new Set<string>();
  private readonly renames = new RenameHistory();
  /** Extra sessions of parallel apply, and those not applying now. */
  private readonly lanes = new Set<SqlSession<C>>();
  private readonly idleLanes: SqlSession<C>[] = [];

  constructor(opts: SqlSinkCoreOptions<C, Col, W, P>) {
    this.o = opts;
  }

  /** The pipeline and group whose offsets are read and written. */
  start(ctx: SinkContext): void {
    this.ctx = ctx;
  }

  async close(): Promise<void> {
    const lanes = [...this.lanes];
    this.lanes.clear();
    this.idleLanes.length = 0;
    await Promise.all(lanes.map((l) => l.close()));
    await this.o.session.close();
  }

  async ensureTable(schema: TableSchema): Promise<void> {
    const versionKey = `${tableKey(schema.db, schema.table)}\u0000${schema.version}`;
    if (this.ensured.has(versionKey)) return;
    if (schema.primaryKey.length === 0) throw noKeyError(schema);
    const { dialect, createTables } = this.o;
    this.renames.record(schema);
    const { table, mapping, fromGone } = await dialect.withDdlLock(
      `preparing table ${schema.db}.${schema.table}`,
      async (c) => {
        // Events written before a RENAME TABLE / RENAME COLUMN go where the target now has their data.
        let id: TableId = schema;
        const renamed = this.renames.renamedTable(schema);
        // (Once the renamed table is there, also when a new table has the old name meanwhile.)
        if (renamed && (await dialect.describe(c, { ...schema, ...renamed }))) {
          id = renamed;
        } else if (!renamed && !schema.renamedFrom && createTables) {
          // Another table under the name of a renamed one (its own versions): until the rename
          // reached the target (a lagging sink), the target's table of that name is the renamed one.
          const away = this.renames.renamedTable({ db: schema.db, table: schema.table });
          const to = away ? { ...schema, ...away } : null;
          if (to && (await dialect.describe(c, schema)) && !(await dialect.describe(c, to))) {
            await dialect.renameTable(c, schema, to);
            this.o.logger()?.info('renamed the target table (a new table has its old name)', {
              from: `${schema.db}.${schema.table}`,
              to: `${to.db}.${to.table}`,
            });
            this.tables.delete(tableKey(schema.db, schema.table));
            // Events of the renamed table still on their way go there now.
            const moved = await dialect.describe(c, to);
            if (moved) this.tables.set(tableKey(to.db, to.table), moved);
          }
        }
        const before = await dialect.describe(c, { ...schema, ...id });
        const mapping = this.renames.map(schema, id, (n) => before?.columns.has(n) ?? false);
        const table = await prepareTable(dialect, c, mapping.schema, { createTables, logger: this.o.logger() });
        // The old name's entry goes once no table has that name: a table created under it since
        // (another table, moved out of the way above) keeps its own.
        const from = schema.renamedFrom;
        const fromGone = from ? !(await dialect.describe(c, { ...schema, db: from.db, table: from.table })) : false;
        return { table, mapping, fromGone };
      },
    );
    this.tables.set(tableKey(mapping.schema.db, mapping.schema.table), table);
    if (schema.renamedFrom && fromGone) this.tables.delete(tableKey(schema.renamedFrom.db, schema.renamedFrom.table));
    this.ensured.add(versionKey);
  }

  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    const ctx = this.requireStarted();
    if (topics.length === 0) return [];
    return this.o.session.run('reading ferry_offsets', (c) => this.o.dialect.readOffsets(c, ctx, topics));
  }

  async apply(batch: SinkBatch): Promise<void> {
    if (batch.beforeCommit) return this.applyOnLane(batch, batch.beforeCommit.bind(batch));
    return this.applyOn(this.o.session, batch, null);
  }

  /**
   * Parallel apply: the batch runs on an idle extra session (opened when none is idle), writes
   * its rows, waits for `beforeCommit`, and only then fences and writes its offsets, so batches
   * committed in the runtime's order keep ferry_offsets a contiguous prefix.
   */
  private async applyOnLane(batch: SinkBatch, beforeCommit: () => Promise<void>): Promise<void> {
    const lane = this.idleLanes.pop() ?? this.o.session.fork();
    this.lanes.add(lane);
    try {
      await this.applyOn(lane, batch, beforeCommit);
    } finally {
      if (this.lanes.has(lane)) this.idleLanes.push(lane);
    }
  }

  private async applyOn(
    session: SqlSession<C>,
    batch: SinkBatch,
    beforeCommit: (() => Promise<void>) | null,
  ): Promise<void> {
    const ctx = this.requireStarted();
    const { dialect } = this.o;
    await session.transaction('applying a batch', async (c) => {
      const fence = async () => {
        if (batch.expected && batch.expected.length > 0) {
          checkFence(batch.expected, await dialect.lockOffsets(c, ctx, batch.expected));
        }
      };
      if (beforeCommit && batch.lockWaitMs !== undefined && dialect.limitLockWait) {
        await dialect.limitLockWait(c, batch.lockWaitMs);
      }
      // Serial: the fence first (it locks the offsets rows). Parallel: the offsets rows are
      // those of the batch before, which commits only once this one waits in beforeCommit.
      if (!beforeCommit) await fence();
      // Changes of a table under its name from before a RENAME TABLE (written earlier) go first.
      const renamed = (t: TableChanges) => {
        const to = this.targetMapping(t.schema).schema;
        return to.table !== t.schema.table || to.db !== t.schema.db ? 0 : 1;
      };
      const ordered = [...batch.tables].sort((a, b) => renamed(a) - renamed(b));
      for (const t of ordered) await this.applyTable(c, t, batch);
      if (beforeCommit) {
        await beforeCommit();
        await fence();
      }
      if (batch.barriers && batch.barriers.length > 0) await dialect.writeBarriers(c, ctx, batch.barriers);
      if (batch.offsets.length > 0) {
        const rows = batch.offsets.map((o) => ({
          ...o,
          truncateBarrier: o.truncateBarrier ?? null,
          leaderEpoch: o.leaderEpoch ?? null,
        }));
        await dialect.writeOffsets(c, ctx, rows);
      }
    });
  }

  private async applyTable(c: C, changes: TableChanges, batch: SinkBatch): Promise<void> {
    const t = mapChanges(changes, this.targetMapping(changes.schema));
    const { schema } = t;
    const { dialect } = this.o;
    const table = this.tables.get(tableKey(schema.db, schema.table));
    if (!table) throw new FerryError('FERRY_INTERNAL', `apply() before ensureTable() for ${schema.db}.${schema.table}`);
    const target = (name: string): Col => {
      const col = table.columns.get(name);
      if (!col)
        throw new FerryError('FERRY_SCHEMA', `the target table ${schema.db}.${schema.table} has no column "${name}"`);
      return col;
    };
    const toParam = dialect.param.bind(dialect);
    if (t.truncate) await dialect.truncate(c, schema);
    if (t.deletes.length > 0) {
      const byName = new Map(schema.columns.map((col) => [col.name, col]));
      const key = schema.primaryKey.map((k): BoundColumn<Col> => {
        const column = byName.get(k);
        if (!column) throw new FerryError('FERRY_APPLY', `key column "${k}" has no value in a delete`);
        return { column, target: target(k) };
      });
      await dialect.deleteRows(c, schema, key, keyParams(t.deletes, key, toParam));
    }
    for (const group of groupByColumns(t.upserts, schema.columns)) {
      const columns = group.columns.map((column): BoundColumn<Col> => ({ column, target: target(column.name) }));
      const rows =
        group.columns.length < schema.columns.length ? await this.present(c, t, group.rows, batch, target) : group.rows;
      if (rows.length > 0)
        await dialect.upsertRows(c, schema, columns, rowParams(rows, columns, toParam), changes.load === true);
    }
  }

  /**
   * Partial rows (UNCHANGED columns) update a row the target holds; for a row it does not hold,
   * the values of those columns are only at the source: nothing is written, and the source is
   * asked to read the row again (never a row with invented NULLs).
   */
  private async present(
    c: C,
    t: TableChanges,
    rows: Row[],
    batch: SinkBatch,
    target: (name: string) => Col,
  ): Promise<Row[]> {
    const { schema } = t;
    const partial = rows.filter((r) => Object.values(r).includes(UNCHANGED));
    if (partial.length === 0) return rows;
    const byName = new Map(schema.columns.map((col) => [col.name, col]));
    const key = schema.primaryKey.map((k): BoundColumn<Col> => ({ column: byName.get(k)!, target: target(k) }));
    const found = await this.o.dialect.existingKeys(
      c,
      schema,
      key,
      keyParams(partial, key, this.o.dialect.param.bind(this.o.dialect)),
    );
    const missing = partial.filter((_, i) => !found[i]);
    if (missing.length === 0) return rows;
    const keys = missing.map((r) => Object.fromEntries(schema.primaryKey.map((k) => [k, r[k] ?? null])));
    if (!batch.repair) {
      throw new FerryError(
        'FERRY_APPLY',
        `${schema.db}.${schema.table}: an update left columns unchanged for a row the target does not hold ` +
          `(key ${JSON.stringify(keys[0])}); their values are only at the source`,
      );
    }
    await batch.repair(schema, keys);
    this.o.logger()?.warn('rows updated at the source are missing at the target; asked the source to read them again', {
      table: `${schema.db}.${schema.table}`,
      rows: keys.length,
    });
    return rows.filter((r) => !missing.includes(r));
  }

  /** How a prepared schema maps onto the target as it is now (renames since it was prepared included). */
  private targetMapping(schema: TableSchema): TargetMapping {
    let id: TableId = schema;
    const renamed = this.renames.renamedTable(schema);
    if (renamed && this.tables.has(tableKey(renamed.db, renamed.table))) id = renamed;
    const table = this.tables.get(tableKey(id.db, id.table));
    return this.renames.map(schema, id, (n) => table?.columns.has(n) ?? false);
  }

  private requireStarted(): SinkContext {
    if (!this.ctx) throw new FerryError('FERRY_INTERNAL', `${this.o.name} used before start()`);
    return this.ctx;
  }
}

/**
 * The SinkConnector of a SQL sink: a connector names its kind and starts its own way (session,
 * ferry_offsets table); everything else is its SqlSinkCore's.
 */
export abstract class SqlSinkConnector<C, Col extends TargetColumn, W extends WantedType, P> implements SinkConnector {
  abstract readonly kind: SinkConnector['kind'];
  protected abstract readonly core: SqlSinkCore<C, Col, W, P>;

  abstract start(ctx: SinkContext): Promise<void>;

  /** apply() honours SinkBatch.beforeCommit, each concurrent batch on its own connection. */
  readonly parallelApply = true;

  close(): Promise<void> {
    return this.core.close();
  }

  ensureTable(schema: TableSchema): Promise<void> {
    return this.core.ensureTable(schema);
  }

  readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    return this.core.readOffsets(topics);
  }

  apply(batch: SinkBatch): Promise<void> {
    return this.core.apply(batch);
  }
}
