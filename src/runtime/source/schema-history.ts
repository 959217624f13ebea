/**
 * The table schemas the pipeline published so far, read from `<pipeline>.__schemas` at start
 * (SourceContext.schemaHistory): connectors learn from it what was decided at log positions
 * before their start (docs/schema-changes.md). Best effort: null when it cannot be read.
 */
import { type Logger, type TableSchema, tableName } from '../../api/index.js';
import { schemasTopic } from '../../kafka/topics.js';
import type { SourceTransport } from './transport.js';

/** The table schemas among records of the schemas topic, in topic order. */
export function schemasOf(records: ReadonlyArray<{ value: string | null }>): TableSchema[] {
  const out: TableSchema[] = [];
  for (const r of records) {
    if (r.value === null) continue;
    try {
      const s = JSON.parse(r.value) as Partial<TableSchema> | null;
      if (s && typeof s.db === 'string' && typeof s.table === 'string' && Array.isArray(s.columns))
        out.push(s as TableSchema);
    } catch {
      // not a table schema: nothing to learn from it
    }
  }
  return out;
}

export async function readSchemaHistory(
  transport: SourceTransport,
  pipeline: string,
  logger: Logger,
): Promise<TableSchema[] | null> {
  try {
    return schemasOf(await transport.readTopic(schemasTopic(pipeline)));
  } catch (err) {
    logger.warn(
      'could not read the schema history; tables re-created under the name of a renamed table may get the versions of the old one',
      {
        error: (err as Error).message,
      },
    );
    return null;
  }
}

/**
 * Tables (`db.table`) that are another table than the one last published under their name: the
 * last schema of that name in `history` (read before this start published anything) has another
 * incarnation (PostgreSQL: the oid), and the table is not a renamed one. A table dropped and
 * created again, or created under the old name of a renamed table, while the source was stopped:
 * its rows are in no stream the pipeline read, so it is snapshotted as a new table.
 */
export function reincarnatedTables(history: readonly TableSchema[], tables: readonly TableSchema[]): string[] {
  const last = new Map<string, TableSchema>();
  for (const s of history) last.set(tableName(s), s);
  const out: string[] = [];
  for (const t of tables) {
    if (t.incarnation === undefined || t.renamedFrom) continue;
    const before = last.get(tableName(t));
    if (before?.incarnation !== undefined && before.incarnation !== t.incarnation) out.push(tableName(t));
  }
  return out;
}
