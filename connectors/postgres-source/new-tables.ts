/**
 * Tables that start to match source.tables while the source streams (created at the source, or
 * a name that now matches): every `intervalMs` the captured tables are listed again; a new one
 * is added to the publication (source.createPublication) and announced with its schema, which
 * makes the runtime snapshot it. Rows written between its CREATE and the publication change are
 * not in the stream, but the snapshot, placed after that change, reads them.
 */
import type pg from 'pg';
import type { Logger, SourceItem, TableFilter } from '../../src/api/index.js';
import { catalogSchema, readTables, tableKey } from './catalog.js';
import { ensurePublication } from './slot.js';
import { qualified } from './sql.js';
import type { PgTypeInfo } from './types.js';

export interface TableWatchOptions {
  catalog: pg.Client;
  filter: TableFilter;
  publication: string;
  managePublication: boolean;
  types: Map<number, PgTypeInfo>;
  /** Schema versions handed to the runtime, by `schema.table`. */
  known: Map<string, string>;
  logger: Logger;
  push(item: SourceItem): Promise<void>;
}

export class TableWatch {
  private busy = false;
  private readonly refused = new Set<string>();

  constructor(private readonly o: TableWatchOptions) {}

  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const tables = await readTables(this.o.catalog, this.o.filter);
      const fresh = tables.filter((t) => !this.o.known.has(`${t.schema}.${t.name}`));
      if (fresh.length === 0) return;
      const usable = fresh.filter((t) => {
        const name = `${t.schema}.${t.name}`;
        const columns = t.columns.filter((c) => !c.generated).map((c) => c.name);
        const keyed = tableKey(t, this.o.filter, columns).length > 0;
        const logged = t.replicaIdentity === 'f' || t.replicaIdentity === 'i' || t.primaryKey.length > 0;
        if (keyed && logged && t.canSelect) return true;
        if (!this.refused.has(name)) {
          this.refused.add(name);
          this.o.logger.error('a new table matches source.tables but cannot be captured; it is left out', {
            table: name,
            fix: `give ${qualified(t.schema, t.name)} a primary key (and GRANT SELECT to ferry's user); it is picked up within source.discoverIntervalMs`,
          });
        }
        return false;
      });
      if (usable.length === 0) return;
      const captured = tables.filter((t) => this.o.known.has(`${t.schema}.${t.name}`) || usable.includes(t));
      const outcome = await ensurePublication(
        this.o.catalog,
        this.o.publication,
        captured.map((t) => ({ schema: t.schema, name: t.name })),
        this.o.managePublication,
      );
      if (!outcome.ok) {
        this.o.logger.error('new tables match source.tables but the publication does not list them', {
          tables: usable.map((t) => `${t.schema}.${t.name}`),
          detail: outcome.detail,
          fix: outcome.fix,
        });
        return;
      }
      for (const t of usable) {
        const schema = await catalogSchema(this.o.catalog, t, this.o.filter, this.o.types);
        this.o.known.set(`${t.schema}.${t.name}`, schema.version);
        this.o.logger.info('a new table is captured', { table: `${t.schema}.${t.name}` });
        await this.o.push({ type: 'schema', schema });
      }
    } finally {
      this.busy = false;
    }
  }
}
