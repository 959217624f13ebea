/**
 * Cutover on a PostgreSQL source.
 *
 * - Read-only: `ALTER DATABASE "db" SET default_transaction_read_only = on` (owner of the
 *   database or superuser). New sessions start read-only; sessions opened before keep their
 *   setting until they reconnect — they are listed, and ended with `--terminate-sessions`. It is
 *   a guard against applications, not a lock: any session may still `SET
 *   default_transaction_read_only = off` or `BEGIN READ WRITE`.
 * - Final position: pg_current_wal_lsn(). Then one transactional logical message (the source's
 *   own heartbeat message) is written, so a commit past the final LSN reaches the slot even if
 *   nothing else is written any more: the source stores its end LSN, which passes the final LSN.
 */

import { quoteIdent } from '../../connectors/postgres-sink/dialect.js';
import { HEARTBEAT_PREFIX } from '../../connectors/postgres-source/heartbeat.js';
import type { TableId } from '../api/schema.js';
import type { CutoverDb } from './db.js';
import { type FinalPosition, lsnBytesBehind, lsnReached, storedLsn } from './positions.js';
import { readPgSequence } from './sequences-postgres-catalog.js';
import type { PublishedCheck, ReadOnlyPrivilege, SessionReport, SourceAdmin, SourceAutoColumn } from './source.js';
import { str } from './values.js';

const truthy = (v: unknown) => v === true || v === 't' || v === 'true';

/** True when a pg_db_role_setting array holds default_transaction_read_only switched on. */
export function readOnlyInSettings(settings: string[]): boolean {
  return settings.some((s) => /^default_transaction_read_only=(on|true|yes|1)$/i.test(s.trim()));
}

/** Parses a PostgreSQL text array literal of simple settings (`{a=1,"b=x y"}`). */
export function parseTextArray(text: string): string[] {
  const inner = text.replace(/^\{/, '').replace(/\}$/, '');
  if (inner === '') return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (quoted) {
      if (ch === '\\') cur += inner[++i] ?? '';
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function postgresSourceAdmin(db: CutoverDb, database: string, slot: string): SourceAdmin {
  const admin: SourceAdmin = {
    kind: 'postgres',
    db,

    readOnlyStatement: (on) =>
      on
        ? `ALTER DATABASE ${quoteIdent(database)} SET default_transaction_read_only = on`
        : `ALTER DATABASE ${quoteIdent(database)} RESET default_transaction_read_only`,

    async isReadOnly() {
      const rows = await db.query(
        `SELECT s.setconfig::text FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
          WHERE d.datname = $1 AND s.setrole = 0`,
        [database],
      );
      return rows.some((r) => readOnlyInSettings(parseTextArray(str(r[0]))));
    },

    async canSetReadOnly(): Promise<ReadOnlyPrivilege> {
      const rows = await db.query(
        `SELECT r.rolsuper, pg_has_role(current_user, d.datdba, 'MEMBER'), current_user, d.datdba::regrole::text
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = $1`,
        [database],
      );
      const r = rows[0];
      if (!r) return { allowed: null, detail: `database ${database} not found` };
      if (truthy(r[0])) return { allowed: true, detail: `${str(r[2])} is a superuser` };
      if (truthy(r[1])) return { allowed: true, detail: `${str(r[2])} owns database ${database}` };
      return {
        allowed: false,
        detail: `${str(r[2])} is neither a superuser nor the owner of database ${database} (owner: ${str(r[3])})`,
      };
    },

    async setReadOnly(on) {
      // This session may itself have started read-only (a re-run, or --rollback).
      await db.query('SET SESSION default_transaction_read_only = off');
      await db.query(admin.readOnlyStatement(on));
    },

    async sessions(terminate, pipelineUser): Promise<SessionReport> {
      const report: SessionReport = { others: [], warnings: [], terminated: 0 };
      // Without superuser or pg_read_all_stats, other roles' sessions show no backend_type and
      // no client address: a session with a user name in this database is then taken as a client.
      const rows = await db.query(
        `SELECT pid, usename, COALESCE(host(client_addr), '?'), application_name, backend_type IS NULL
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND usename IS NOT NULL
            AND COALESCE(backend_type, 'client backend') = 'client backend'
            AND COALESCE(application_name, '') NOT LIKE 'ferry:%'`,
        [database],
      );
      const byUser = new Map<string, number>();
      for (const r of rows) {
        const mine = str(r[1]) === pipelineUser ? ', the pipeline user' : '';
        const key = `${str(r[1])}@${str(r[2])}${r[3] ? ` [${str(r[3])}]` : ''}${mine}`;
        byUser.set(key, (byUser.get(key) ?? 0) + 1);
      }
      report.others = [...byUser.entries()].map(([k, n]) => `${k} (${n})`);
      if (rows.some((r) => truthy(r[4]))) {
        report.warnings.push(
          'other roles’ sessions are seen without details; an admin user that is a superuser or a member of ' +
            'pg_read_all_stats sees them all',
        );
      }
      if (rows.length > 0 && terminate) {
        const refused: string[] = [];
        for (const r of rows) {
          try {
            const ended = await db.query('SELECT pg_terminate_backend($1::int)', [Number(r[0])]);
            if (truthy(ended[0]?.[0])) report.terminated++;
          } catch (err) {
            refused.push((err as Error).message.replace(/^[^:]*: /, ''));
          }
        }
        report.warnings.push(
          `terminated ${report.terminated} of ${rows.length} other session(s) of database ${database}; they start ` +
            'read-only when they reconnect' +
            (refused.length > 0 ? ` (not allowed for ${refused.length}: ${[...new Set(refused)].join('; ')})` : ''),
        );
      } else if (rows.length > 0) {
        report.warnings.push(
          `${rows.length} session(s) opened before keep writing until they reconnect: ${report.others.join(', ')}; ` +
            'stop those applications, or re-run with --terminate-sessions to end them',
        );
      }
      report.warnings.push(
        'default_transaction_read_only is a default, not a lock: a session may still switch it off for itself',
      );
      return report;
    },

    async currentPosition(): Promise<FinalPosition> {
      const rows = await db.query('SELECT pg_current_wal_lsn()::text');
      return { kind: 'postgres', lsn: str(rows[0]?.[0]) };
    },

    async nudge() {
      const rows = await db.query('SELECT pg_logical_emit_message(true, $1::text, $2::text)::text', [
        HEARTBEAT_PREFIX,
        slot,
      ]);
      return str(rows[0]?.[0]) || null;
    },

    async published(stored, final): Promise<PublishedCheck> {
      if (final.kind !== 'postgres') throw new Error('a PostgreSQL source needs an LSN');
      if (!stored) return { done: false, detail: 'the source has stored no position yet (is the pipeline running?)' };
      if (stored.phase !== 'stream') return { done: false, detail: 'the initial snapshot is still running' };
      const at = storedLsn(stored.position);
      const where = `stored ${stored.describe ?? String(stored.position['lsn'] ?? '?')}, final ${final.lsn}`;
      if (at === null) return { done: false, detail: `${where}: not an LSN` };
      return lsnReached(stored.position, final.lsn)
        ? { done: true, detail: `${where}: reached` }
        : { done: false, detail: `${where}: waiting for the source` };
    },

    bytesBehind(stored, server) {
      return server.kind === 'postgres' ? lsnBytesBehind(stored?.position, server.lsn) : null;
    },

    async autoColumns(tables: TableId[]): Promise<SourceAutoColumn[]> {
      const out: SourceAutoColumn[] = [];
      for (const t of tables) {
        const cols = await db.query(
          `SELECT a.attname, a.attidentity
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
              AND (a.attidentity <> '' OR pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%')
            ORDER BY a.attnum`,
          [t.db, t.table],
        );
        for (const c of cols) {
          const column = str(c[0]);
          const seq = await readPgSequence(db, t, column);
          const generator = str(c[1]) !== '' ? 'identity' : seq ? `sequence ${seq.qualified}` : 'default nextval()';
          const col: SourceAutoColumn = { table: t, column, generator, highestIssued: seq?.highestIssued ?? null };
          if (seq?.note) col.note = seq.note;
          out.push(col);
        }
      }
      return out;
    },

    close: () => db.close(),
  };
  return admin;
}
