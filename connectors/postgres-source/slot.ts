/**
 * The replication slot and the publication: reading their state, creating the slot (with an
 * exported snapshot for the initial copy), creating or altering the publication, and dropping
 * the slot (only ever on explicit request: dropPostgresSlot in index.ts).
 */
import pg from 'pg';
import { FerryError } from '../../src/api/index.js';
import { queryJson } from './catalog.js';
import { clientConfig, type ResolvedOptions } from './config.js';
import { pgError } from './errors.js';
import { normalizeLsn } from './lsn.js';
import { qualified, quoteIdent, quoteLiteral } from './sql.js';

export interface SlotInfo {
  name: string;
  plugin: string | null;
  slotType: string;
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
  /** reserved / extended / unreserved / lost (PostgreSQL 13+); null before. */
  walStatus: string | null;
}

export async function readSlot(client: pg.Client, name: string): Promise<SlotInfo | null> {
  const rows = await queryJson<{
    slot_name: string;
    plugin: string | null;
    slot_type: string;
    database: string | null;
    active: boolean;
    active_pid: number | null;
    confirmed_flush_lsn: string | null;
    restart_lsn: string | null;
    wal_status: string | null;
  }>(
    client,
    `SELECT s.slot_name::text, s.plugin::text, s.slot_type, s.database::text, s.active, s.active_pid,
            s.confirmed_flush_lsn::text, s.restart_lsn::text,
            (to_jsonb(s) ->> 'wal_status') AS wal_status
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    name: r.slot_name,
    plugin: r.plugin,
    slotType: r.slot_type,
    database: r.database,
    active: r.active,
    activePid: r.active_pid,
    confirmedFlushLsn: r.confirmed_flush_lsn,
    restartLsn: r.restart_lsn,
    walStatus: r.wal_status,
  };
}

/** A replication-protocol connection (walsender): CREATE_REPLICATION_SLOT and friends. */
export async function connectReplication(opts: ResolvedOptions, purpose: string): Promise<pg.Client> {
  const config = { ...clientConfig(opts, purpose), replication: 'database' } as pg.ClientConfig;
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw pgError(err, 'opening a replication connection');
  }
  return client;
}

export interface CreatedSlot {
  consistentPoint: string;
  /** Name of the exported snapshot; valid while `replication` stays open and idle. */
  snapshotName: string | null;
}

/**
 * Creates the logical slot (plugin pgoutput) on a replication connection. With `exportSnapshot`
 * the connection must stay open and unused until the snapshot was imported (SET TRANSACTION
 * SNAPSHOT) by the reading session.
 */
export async function createSlot(replication: pg.Client, slot: string, exportSnapshot: boolean): Promise<CreatedSlot> {
  try {
    const res = await replication.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
    );
    const row = res.rows[0];
    if (!row) throw new FerryError('FERRY_INTERNAL', 'CREATE_REPLICATION_SLOT returned no row');
    return { consistentPoint: normalizeLsn(row.consistent_point), snapshotName: row.snapshot_name };
  } catch (err) {
    if ((err as { code?: string }).code === '42710') {
      throw new FerryError(
        'FERRY_CONNECTION',
        `replication slot "${slot}" was created concurrently by another process; retrying will use it`,
        { cause: err, retriable: true },
      );
    }
    throw pgError(err, `creating replication slot "${slot}"`);
  }
}

/** Drops the slot; true when it existed. The slot must not be in use. */
export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  const exists = await readSlot(client, slot);
  if (!exists) return false;
  try {
    await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
  } catch (err) {
    throw pgError(err, `dropping replication slot "${slot}"`);
  }
  return true;
}

export interface PublicationState {
  exists: boolean;
  allTables: boolean;
  /** `schema.table` of every table it publishes. */
  tables: string[];
  /** Operations it does not publish (of insert, update, delete, truncate). */
  missingOps: string[];
  /** Tables published with a row filter or a column list (PostgreSQL 15+): rows or columns would be lost. */
  partial: string[];
}

export async function readPublication(client: pg.Client, name: string): Promise<PublicationState> {
  const pubs = await queryJson<{ all: boolean; ins: boolean; upd: boolean; del: boolean; trunc: boolean }>(
    client,
    `SELECT puballtables AS all, pubinsert AS ins, pubupdate AS upd, pubdelete AS del, pubtruncate AS trunc
       FROM pg_publication WHERE pubname = $1`,
    [name],
  );
  const p = pubs[0];
  if (!p) return { exists: false, allTables: false, tables: [], missingOps: [], partial: [] };
  const rows = await queryJson<{ schema: string; table: string; partial: boolean }>(
    client,
    `SELECT t.schemaname::text AS schema, t.tablename::text AS table,
            (to_jsonb(t) ->> 'rowfilter') IS NOT NULL
            OR (to_jsonb(t) ? 'attnames' AND jsonb_array_length(to_jsonb(t) -> 'attnames') <>
                (SELECT count(*) FROM pg_attribute a
                  WHERE a.attrelid = format('%I.%I', t.schemaname, t.tablename)::regclass
                    AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')) AS partial
       FROM pg_publication_tables t WHERE t.pubname = $1`,
    [name],
  );
  const missingOps = [
    ['insert', p.ins],
    ['update', p.upd],
    ['delete', p.del],
    ['truncate', p.trunc],
  ]
    .filter(([, on]) => !on)
    .map(([op]) => op as string);
  return {
    exists: true,
    allTables: p.all,
    tables: rows.map((r) => `${r.schema}.${r.table}`).sort(),
    missingOps,
    partial: rows.filter((r) => r.partial).map((r) => `${r.schema}.${r.table}`),
  };
}

export interface TableRef {
  schema: string;
  name: string;
}

function tableList(tables: TableRef[]): string {
  return tables.map((t) => qualified(t.schema, t.name)).join(', ');
}

export function createPublicationSql(name: string, tables: TableRef[]): string {
  return `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${tableList(tables)} WITH (publish = 'insert, update, delete, truncate')`;
}

export function alterPublicationSql(name: string, tables: TableRef[]): string[] {
  return [
    `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${tableList(tables)}`,
    `ALTER PUBLICATION ${quoteIdent(name)} SET (publish = ${quoteLiteral('insert, update, delete, truncate')})`,
  ];
}

export interface PublicationOutcome {
  ok: boolean;
  detail: string;
  fix?: string;
}

/**
 * Makes sure the publication lists exactly the captured tables with every operation: creates or
 * alters it when `manage` is set, otherwise only checks.
 */
export async function ensurePublication(
  client: pg.Client,
  name: string,
  tables: TableRef[],
  manage: boolean,
): Promise<PublicationOutcome> {
  const wanted = tables.map((t) => `${t.schema}.${t.name}`).sort();
  const state = await readPublication(client, name);
  if (!state.exists) {
    if (!manage) {
      return {
        ok: false,
        detail: `publication "${name}" does not exist`,
        fix: `${createPublicationSql(name, tables)}; or set source.createPublication: true`,
      };
    }
    await client.query(createPublicationSql(name, tables)).catch((err: unknown) => {
      throw pgError(err, `creating publication "${name}"`);
    });
    return { ok: true, detail: `created publication "${name}" for ${wanted.length} table(s)` };
  }
  if (state.allTables) {
    return {
      ok: false,
      detail: `publication "${name}" is FOR ALL TABLES; ferry needs one that lists exactly the captured tables`,
      fix: `DROP PUBLICATION ${quoteIdent(name)}; then let ferry create it (source.createPublication: true), or set source.publication to another name`,
    };
  }
  const extra = state.tables.filter((t) => !wanted.includes(t));
  const missing = wanted.filter((t) => !state.tables.includes(t));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`does not publish ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`also publishes ${extra.join(', ')}`);
  if (state.missingOps.length > 0) problems.push(`does not publish ${state.missingOps.join(', ')} operations`);
  if (state.partial.length > 0) problems.push(`has a row filter or column list on ${state.partial.join(', ')}`);
  if (problems.length === 0) return { ok: true, detail: `publication "${name}" lists exactly the captured tables` };
  const sql = alterPublicationSql(name, tables);
  if (!manage) {
    return { ok: false, detail: `publication "${name}" ${problems.join('; ')}`, fix: sql.join('; ') };
  }
  for (const statement of sql) {
    await client.query(statement).catch((err: unknown) => {
      throw pgError(err, `altering publication "${name}"`);
    });
  }
  return {
    ok: true,
    detail: `altered publication "${name}": it ${problems.join('; ')}; now it lists the captured tables`,
  };
}
