/**
 * From a pipeline config to what verify compares: the captured tables (source.tables patterns
 * resolved against the source catalog, minus source.exclude), where each lands in the target
 * (targetNamespace), the excluded columns and configured key columns, and both connections.
 */
import { FerryError } from '../api/errors.js';
import { configuredKeyColumns, isColumnExcluded, isTableCaptured } from '../api/filter.js';
import type { TableId } from '../api/schema.js';
import type { TlsSettings } from '../api/tls.js';
import { type DbConnection, type PipelineConfig, tableFilterOf, targetNamespace } from '../config/index.js';
import { listTables, readTableShape } from './catalog.js';
import { connectVerifyDb, type VerifyDb } from './db.js';
import type { EngineKind, TablePair, VerifyEndpoint, VerifyOptions, VerifyReport } from './types.js';
import { verify } from './verify.js';

export function endpointOf(kind: EngineKind, c: DbConnection, tls?: TlsSettings): VerifyEndpoint {
  return { kind, host: c.host, port: c.port, user: c.user, password: c.password, database: c.database, tls };
}

/** Source and target endpoints of a pipeline. */
export function endpointsOf(config: PipelineConfig): { source: VerifyEndpoint; target: VerifyEndpoint } {
  if (config.sink.kind === 'redis') throw new FerryError('FERRY_INTERNAL', 'a Redis target has no SQL verify endpoint');
  return {
    source: endpointOf(config.source.kind, config.source.connection, config.source.tls),
    target: endpointOf(config.sink.kind, config.sink.connection, config.sink.tls),
  };
}

/** The pair of one captured source table (pure; `columns` are the table's column names). */
export function pairOf(config: PipelineConfig, table: TableId, columns: string[]): TablePair {
  const filter = tableFilterOf(config);
  const excluded = columns.filter((c) => isColumnExcluded(filter, table, c));
  const keyColumns = configuredKeyColumns(filter, table);
  return {
    source: table,
    target: { db: targetNamespace(config, table.db), table: table.table },
    ...(excluded.length > 0 ? { excludeColumns: excluded } : {}),
    ...(keyColumns ? { keyColumns } : {}),
  };
}

/** Captured tables of `tables` under the config's filter (pure). */
export function capturedTables(config: PipelineConfig, tables: TableId[]): TableId[] {
  const filter = tableFilterOf(config);
  return tables.filter((t) => isTableCaptured(filter, t));
}

/** Lists the source catalog and builds the pair of every captured table. */
export async function resolveTablePairs(config: PipelineConfig, source: VerifyDb): Promise<TablePair[]> {
  const pairs: TablePair[] = [];
  for (const table of capturedTables(config, await listTables(source))) {
    const shape = await readTableShape(source, table);
    if (shape)
      pairs.push(
        pairOf(
          config,
          table,
          shape.columns.map((c) => c.name),
        ),
      );
  }
  return pairs;
}

export interface PipelineVerifyOptions extends Omit<VerifyOptions, 'source' | 'target' | 'tables' | 'tableFilter'> {
  /** `--tables`: `db.table` patterns (source or target names) limiting the captured tables. */
  tables?: string[];
}

/** Verifies every captured table of a pipeline with a SQL target (or those matching `tables`). */
export async function verifySqlPipeline(
  config: PipelineConfig,
  options: PipelineVerifyOptions = {},
): Promise<VerifyReport> {
  const { source, target } = endpointsOf(config);
  const catalog = await connectVerifyDb(source, 1);
  let pairs: TablePair[];
  try {
    pairs = await resolveTablePairs(config, catalog);
  } finally {
    await catalog.close().catch(() => undefined);
  }
  if (pairs.length === 0) {
    throw new FerryError(
      'FERRY_PREFLIGHT',
      `source.tables (${config.source.tables.join(', ')}) matches no table of the source database; nothing to verify`,
    );
  }
  const { tables, ...rest } = options;
  return verify({ ...rest, source, target, tables: pairs, ...(tables ? { tableFilter: tables } : {}) });
}
