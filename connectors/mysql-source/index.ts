import type { RowDataPacket } from 'mysql2/promise';
import {
  type CheckResult,
  type ChunkReader,
  FerryError,
  type SnapshotSession,
  type SourceConnector,
  type SourceContext,
  type SourceItem,
  type SourcePosition,
  type StoredSourceOffset,
  type TableSchema,
} from '../../src/api/index.js';
import { openMysqlChunkReader } from './chunks.js';
import { describeServer, type MysqlSourceConfig } from './config.js';
import { closeQuietly, connect } from './connection.js';
import { Placements } from './placements.js';
import { describeMysqlPosition } from './position.js';
import { runPreflight } from './preflight.js';
import { RenameMarks } from './rename-marks.js';
import { readSchemas } from './schema.js';
import { openMysqlSnapshot } from './snapshot.js';
import { streamMysql } from './stream.js';

export { type MysqlSourceConfig, mysqlSourceConfigFromUrl } from './config.js';
export { RESNAPSHOT_HINT } from './preflight.js';

/**
 * The MySQL/MariaDB source connector (docs/mysql-source.md): preflight checks, consistent
 * snapshots with their exact binlog position, and binlog streaming through zongji.
 */
export function createMysqlSource(cfg: MysqlSourceConfig): SourceConnector {
  const placements = new Placements();
  return {
    kind: 'mysql',

    async preflight(ctx: SourceContext, stored: StoredSourceOffset | null): Promise<CheckResult[]> {
      let conn: Awaited<ReturnType<typeof connect>>;
      try {
        conn = await connect(cfg);
      } catch (err) {
        return [
          {
            name: 'connection',
            ok: false,
            detail: (err as Error).message,
            fix: `check source.url (${describeServer(cfg)}), the password and that the server is reachable`,
          },
        ];
      }
      try {
        return await runPreflight(conn, cfg, ctx, stored);
      } finally {
        await closeQuietly(conn);
      }
    },

    async discover(ctx: SourceContext): Promise<TableSchema[]> {
      const conn = await connect(cfg);
      try {
        const read = await readSchemas(conn, ctx.filter);
        if (read.problems.length > 0) {
          throw new FerryError('FERRY_PREFLIGHT', read.problems.map((p) => `${p.reason}: ${p.fix}`).join('; '));
        }
        // A table under a name that a RENAME freed is another table (docs/schema-changes.md).
        const marks = new RenameMarks();
        if (ctx.schemaHistory) marks.seedIncarnations(ctx.schemaHistory);
        return read.tables.map((t) => marks.incarnate(t.schema));
      } finally {
        await closeQuietly(conn);
      }
    },

    async openSnapshot(ctx: SourceContext): Promise<SnapshotSession> {
      const conn = await connect(cfg);
      let serverId: number;
      try {
        const [rows] = await conn.query<RowDataPacket[]>('SELECT @@server_id AS id');
        serverId = Number(rows[0]?.['id'] ?? 0);
      } finally {
        await closeQuietly(conn);
      }
      return openMysqlSnapshot(cfg, ctx, serverId);
    },

    stream(ctx: SourceContext, from: SourcePosition): AsyncIterable<SourceItem> {
      return streamMysql(cfg, ctx, from, placements);
    },

    openChunkReader(): Promise<ChunkReader> {
      return openMysqlChunkReader(cfg, placements);
    },

    describePosition: describeMysqlPosition,

    async close(): Promise<void> {},
  };
}
