/**
 * Preflight: everything that must hold before ferry publishes anything, each failure with the
 * fix. The publication is created or altered here when the config allows it (it must exist
 * before the slot decodes any WAL).
 */
import type pg from 'pg';
import type { CheckResult, StoredSourceOffset, TableFilter } from '../../src/api/index.js';
import { type CatalogTable, keyColumnsProblem, queryJson, readTables, tableKey } from './catalog.js';
import { isLsn, parseLsn } from './lsn.js';
import { ensurePublication, readSlot } from './slot.js';
import { qualified, quoteIdent } from './sql.js';

export interface PreflightInput {
  client: pg.Client;
  filter: TableFilter;
  slot: string;
  publication: string;
  createPublication: boolean;
  stored: StoredSourceOffset | null;
  pipeline: string;
}

interface Settings {
  version: number;
  wal_level: string;
  max_slots: number;
  max_senders: number;
  slots_used: number;
  senders_used: number;
  user: string;
  can_replicate: boolean;
  database: string;
}

/** How to start over when the stored position cannot be resumed. */
export function resnapshotHint(pipeline: string): string {
  return (
    `re-snapshot: stop the pipeline, then start it with --resnapshot (this forgets the stored position in ` +
    `Kafka topic ${pipeline}.__offsets); ferry then creates the slot again and copies every table anew`
  );
}

export async function runPreflight(input: PreflightInput): Promise<{ checks: CheckResult[]; tables: CatalogTable[] }> {
  const { client, slot, publication } = input;
  const checks: CheckResult[] = [];
  const [s] = await queryJson<Settings>(
    client,
    `SELECT current_setting('server_version_num')::int AS version,
            current_setting('wal_level') AS wal_level,
            current_setting('max_replication_slots')::int AS max_slots,
            current_setting('max_wal_senders')::int AS max_senders,
            (SELECT count(*) FROM pg_replication_slots)::int AS slots_used,
            (SELECT count(*) FROM pg_stat_replication)::int AS senders_used,
            current_user AS user,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate,
            current_database() AS database`,
  );
  if (!s) throw new Error('preflight: the settings query returned nothing');

  checks.push({
    name: 'server version',
    ok: s.version >= 140000,
    detail: `PostgreSQL ${Math.floor(s.version / 10000)}`,
    ...(s.version >= 140000 ? {} : { fix: 'upgrade to PostgreSQL 14 or later (pgoutput messages are needed)' }),
  });
  checks.push({
    name: 'wal_level',
    ok: s.wal_level === 'logical',
    detail: `wal_level is ${s.wal_level}`,
    ...(s.wal_level === 'logical'
      ? {}
      : {
          fix: "ALTER SYSTEM SET wal_level = 'logical'; then restart PostgreSQL (on managed services: enable logical replication)",
        }),
  });
  checks.push({
    name: 'replication privilege',
    ok: s.can_replicate,
    detail: s.can_replicate ? `role ${s.user} may replicate` : `role ${s.user} lacks the REPLICATION attribute`,
    ...(s.can_replicate
      ? {}
      : {
          fix: `ALTER ROLE ${quoteIdent(s.user)} REPLICATION; (Amazon RDS: GRANT rds_replication TO ${quoteIdent(s.user)})`,
        }),
  });

  // The slot and the stored position.
  const info = await readSlot(client, slot);
  const storedLsn =
    input.stored && isLsn(input.stored.position['lsn']) ? (input.stored.position['lsn'] as string) : null;
  if (!info) {
    if (input.stored) {
      checks.push({
        name: 'replication slot',
        ok: false,
        detail:
          `slot "${slot}" does not exist, but ferry has a stored position${storedLsn ? ` (${storedLsn})` : ''}: ` +
          'the changes since then are gone and resuming would silently lose them',
        fix: resnapshotHint(input.pipeline),
      });
    } else {
      const free = s.max_slots - s.slots_used;
      checks.push({
        name: 'free replication slots',
        ok: free >= 1,
        detail: `${s.slots_used} of max_replication_slots=${s.max_slots} in use; ferry will create slot "${slot}"`,
        ...(free >= 1
          ? {}
          : {
              fix: 'raise max_replication_slots (restart needed) or drop an unused slot with pg_drop_replication_slot()',
            }),
      });
    }
  } else {
    const problems: string[] = [];
    if (info.slotType !== 'logical' || info.plugin !== 'pgoutput') {
      problems.push(`it is a ${info.slotType} slot with plugin ${info.plugin ?? 'none'}, not a logical pgoutput slot`);
    }
    if (info.database !== s.database) problems.push(`it belongs to database ${info.database}, not ${s.database}`);
    if (info.walStatus === 'lost')
      problems.push('PostgreSQL invalidated it (wal_status lost: the WAL it needs was removed)');
    if (storedLsn && info.confirmedFlushLsn && parseLsn(info.confirmedFlushLsn) > parseLsn(storedLsn)) {
      problems.push(
        `it was confirmed up to ${info.confirmedFlushLsn}, beyond ferry's stored position ${storedLsn}: ` +
          'something else consumed it, the changes in between are gone',
      );
    }
    checks.push({
      name: 'replication slot',
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `slot "${slot}" exists (confirmed up to ${info.confirmedFlushLsn ?? 'nothing'}${info.active ? `, in use by pid ${info.activePid}` : ''})`
          : `slot "${slot}": ${problems.join('; ')}`,
      ...(problems.length === 0
        ? {}
        : { fix: `SELECT pg_drop_replication_slot('${slot}'); then ${resnapshotHint(input.pipeline)}` }),
    });
  }
  const freeSenders = s.max_senders - s.senders_used;
  checks.push({
    name: 'free WAL senders',
    ok: freeSenders >= 1,
    detail: `${s.senders_used} of max_wal_senders=${s.max_senders} in use`,
    ...(freeSenders >= 1 ? {} : { fix: 'raise max_wal_senders (restart needed) or stop another replication client' }),
  });

  // Tables: each needs a key PostgreSQL logs for updates and deletes.
  const tables = await readTables(client, input.filter);
  checks.push({
    name: 'captured tables',
    ok: tables.length > 0,
    detail: `${tables.length} table(s) match source.tables: ${tables.map((t) => `${t.schema}.${t.name}`).join(', ') || 'none'}`,
    ...(tables.length > 0
      ? {}
      : { fix: 'check the source.tables patterns (`schema.table`, e.g. `public.*`) and source.exclude' }),
  });
  for (const t of tables) {
    const name = `${t.schema}.${t.name}`;
    const columns = t.columns.filter((c) => !c.generated).map((c) => c.name);
    const key = tableKey(t, input.filter, columns);
    const identityOk =
      t.replicaIdentity === 'f' || t.replicaIdentity === 'i' || (t.replicaIdentity === 'd' && t.primaryKey.length > 0);
    const missing = key.filter((k) => !columns.includes(k));
    const configured = t.primaryKey.length === 0 ? input.filter.keyColumns[name] : undefined;
    const keyProblem = configured && missing.length === 0 ? keyColumnsProblem(t, configured) : null;
    const ok = identityOk && key.length > 0 && missing.length === 0 && keyProblem === null;
    const where = qualified(t.schema, t.name);
    let detail = `${name}: key (${key.join(', ')}), replica identity ${identityName(t.replicaIdentity)}`;
    let fix = `ALTER TABLE ${where} ADD PRIMARY KEY (...); or ALTER TABLE ${where} REPLICA IDENTITY FULL and a unique index on NOT NULL columns (named in source.keyColumns, or found by ferry)`;
    if (!identityOk)
      detail = `${name} has no primary key and REPLICA IDENTITY ${identityName(t.replicaIdentity)}: PostgreSQL would not log which row an UPDATE or DELETE changed`;
    else if (missing.length > 0) detail = `${name}: configured key column(s) ${missing.join(', ')} do not exist`;
    else if (keyProblem) {
      detail = `${name}: source.keyColumns["${name}"] ${keyProblem}`;
      fix = `make the columns NOT NULL and add a unique index on them (ALTER TABLE ${where} ALTER COLUMN ... SET NOT NULL; CREATE UNIQUE INDEX ON ${where} (...)), or name other columns`;
    } else if (key.length === 0)
      detail = `${name} has REPLICA IDENTITY FULL but no primary key and no unique index on NOT NULL columns: snapshot chunks could not follow a key, and equal rows could not be told apart`;
    checks.push({ name: `key of ${name}`, ok, detail, ...(ok ? {} : { fix }) });
    if (!t.canSelect) {
      checks.push({
        name: `read access to ${name}`,
        ok: false,
        detail: `${s.user} may not SELECT from ${name} (needed for the snapshot)`,
        fix: `GRANT SELECT ON ${qualified(t.schema, t.name)} TO ${quoteIdent(s.user)}`,
      });
    }
  }

  // The publication (created or altered only when everything above holds).
  if (tables.length > 0 && checks.every((c) => c.ok)) {
    const outcome = await ensurePublication(
      client,
      publication,
      tables.map((t) => ({ schema: t.schema, name: t.name })),
      input.createPublication,
    );
    checks.push({
      name: 'publication',
      ok: outcome.ok,
      detail: outcome.detail,
      ...(outcome.fix ? { fix: outcome.fix } : {}),
    });
  }
  return { checks, tables };
}

function identityName(c: string): string {
  return { d: 'DEFAULT', n: 'NOTHING', f: 'FULL', i: 'USING INDEX' }[c] ?? c;
}
