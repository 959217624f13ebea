/**
 * The table schemas the pipeline published so far, read from `<pipeline>.__schemas` at start
 * (SourceContext.schemaHistory): connectors learn from it what was decided at log positions
 * before their start (docs/schema-changes.md). Best effort: null when it cannot be read.
 */
import type { Logger, TableSchema } from '../../api/index.js';
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
