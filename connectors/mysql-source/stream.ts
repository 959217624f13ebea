import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  FerryError,
  literalDatabases,
  type SourceContext,
  type SourceItem,
  type SourcePosition,
  type TableSchema,
} from '../../src/api/index.js';
import { backfillColumns, previousSchema } from './backfill.js';
import { readBinlog } from './binlog.js';
import type { MysqlSourceConfig } from './config.js';
import { closeQuietly, connect } from './connection.js';
import { stripLeadingComments } from './ddl.js';
import { type DdlRenames, parseRenames } from './ddl-renames.js';
import { BinlogDecoder, type BinlogEvent } from './decode.js';
import type { Placements } from './placements.js';
import { fromSourcePosition } from './position.js';
import { readSchemas, type SchemaRead } from './schema.js';
import { type CapturedTable, TableRegistry } from './table-registry.js';

const WOKEN: unique symbol = Symbol('a chunk was added');

/**
 * The MySQL source's stream(): binlog events from `from` (a transaction boundary), decoded into
 * SourceItems. A second, ordinary connection re-reads table schemas after DDL. Both connections
 * live as long as this iteration; any connection failure ends it with a retriable FerryError.
 */
export async function* streamMysql(
  cfg: MysqlSourceConfig,
  ctx: SourceContext,
  from: SourcePosition,
  placements?: Placements,
): AsyncGenerator<SourceItem> {
  const start = fromSourcePosition(from);
  const conn = await connect(cfg);
  try {
    const [sid] = await conn.query<RowDataPacket[]>('SELECT @@server_id AS id');
    const serverId = Number(sid[0]?.['id'] ?? 0);
    const registry = new TableRegistry(ctx.filter);
    const initial = await schemas(conn, ctx);
    if (ctx.schemaHistory) registry.seedIncarnations(ctx.schemaHistory, `${start.file}:${start.pos}`);
    registry.replace(initial.tables, initial.problems);
    const decoder = new BinlogDecoder({
      filter: ctx.filter,
      start,
      serverId,
      heartbeatMs: cfg.heartbeatIntervalMs ?? 10_000,
      registry,
      statementDml: cfg.statementDml ?? 'fail',
    });
    const dbs = literalDatabases(ctx.filter);
    const includeSchema = dbs ? Object.fromEntries(dbs.map((d) => [d, true as const])) : undefined;
    ctx.logger.info('reading the binlog', { file: start.file, pos: start.pos, gtid: start.gtid });
    const binlog = readBinlog({
      config: cfg,
      start,
      signal: ctx.signal,
      logger: ctx.logger,
      ...(includeSchema ? { includeSchema } : {}),
    })[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<BinlogEvent>> | null = null;
    try {
      for (;;) {
        if (placements && placements.size > 0) yield* placeChunks(placements, decoder);
        pending ??= binlog.next();
        const next = placements
          ? await Promise.race([pending, placements.whenAdded().then((): typeof WOKEN => WOKEN)])
          : await pending;
        if (next === WOKEN) continue;
        pending = null;
        if (next.done) break;
        const ev = next.value;
        const res = decoder.handle(ev);
        for (const w of res.warnings ?? []) {
          if (ctx.warn) ctx.warn(w.code, w.message, w.fields);
          else ctx.logger.warn(w.message, { code: w.code, ...w.fields });
        }
        yield* res.items;
        if (res.refreshSchemas && ev.type === 'query') {
          // A DDL can only concern captured tables if it runs in, or names, one of their databases.
          const relevant = !dbs || dbs.some((d) => ev.db === d || ev.query.includes(d));
          const renames = parseRenames(ev.query, ev.db);
          const read = relevant ? await readAfterDdl(conn, ctx, registry.all(), ev.query, renames) : null;
          registry.noteRenames(renames, `${decoder.position().file}:${ev.nextPosition}`);
          const before = new Map(registry.all().map((t) => [`${t.schema.db}.${t.schema.table}`, t.schema]));
          const changed = read ? registry.replace(read.tables, read.problems) : [];
          const backfills = new Map<TableSchema, string[]>();
          for (const s of changed) {
            const now = read?.tables.find((t) => t.schema === s);
            const cols = now ? backfillColumns(previousSchema(before, s, renames), now, renames) : [];
            if (cols.length > 0) backfills.set(s, cols);
          }
          for (const s of changed) {
            ctx.logger.info('table schema changed', { table: `${s.db}.${s.table}`, version: s.version, ddl: ev.query });
          }
          for (const table of read && /^\s*DROP\s+TABLE\b/i.test(stripLeadingComments(ev.query))
            ? registry.dropped()
            : []) {
            ctx.logger.warn('a captured table was dropped at the source: its capture stops, the target table is kept', {
              table,
            });
          }
          yield* decoder.afterDdl(ev, changed, backfills);
        }
      }
    } finally {
      // The reader ends once the stream's signal aborts (the runtime aborts it when it closes the
      // stream); a next() still waiting for the server is not waited for here.
      pending?.catch(() => undefined);
      void binlog.return?.(undefined).catch(() => undefined);
    }
  } finally {
    await closeQuietly(conn);
  }
}

/**
 * The schemas after a DDL statement. A captured table that the statement neither drops nor
 * renames can be missing from information_schema for a moment while another ALTER swaps it; such
 * a read is repeated (a few times, briefly) so the table keeps its details, defaults included.
 */
async function readAfterDdl(
  conn: Connection,
  ctx: SourceContext,
  known: CapturedTable[],
  query: string,
  renames: DdlRenames,
): Promise<SchemaRead> {
  const drops = /^DROP\s+(TEMPORARY\s+)?TABLE\b/i.test(stripLeadingComments(query));
  const moved = new Set(renames.tables.map((r) => `${r.from.db}.${r.from.table}`));
  for (let attempt = 0; ; attempt++) {
    const read = await schemas(conn, ctx);
    const present = new Set([
      ...read.tables.map((t) => `${t.schema.db}.${t.schema.table}`),
      ...read.problems.map((p) => p.table),
    ]);
    const missing = known
      .map((t) => `${t.schema.db}.${t.schema.table}`)
      .filter((n) => !present.has(n) && !moved.has(n));
    if (drops || missing.length === 0 || attempt >= 3) return read;
    ctx.logger.debug('captured tables missing from information_schema after a DDL; reading again', { missing });
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
}

async function schemas(conn: Connection, ctx: SourceContext): Promise<SchemaRead> {
  try {
    return await readSchemas(conn, ctx.filter);
  } catch (err) {
    throw new FerryError('FERRY_CONNECTION', `reading table schemas failed: ${(err as Error).message}`, {
      cause: err,
      retriable: true,
    });
  }
}

/** Watermarks of the chunks whose view the stream passed, then a checkpoint at this boundary. */
function* placeChunks(placements: Placements, decoder: BinlogDecoder): Generator<SourceItem> {
  const due = placements.due((file, pos) => decoder.passed(file, pos));
  if (due.length === 0) return;
  for (const id of due) yield { type: 'watermark', id };
  yield decoder.boundaryCheckpoint();
}
