/**
 * What cutover does on the source database, behind one interface per engine: read-only on/off,
 * who else is connected, the current log position, whether the source runtime has published up
 * to a position, and which columns generate their values (AUTO_INCREMENT, identity, serial).
 */
import type { TableFilter } from '../api/connector.js';
import type { TableId } from '../api/schema.js';
import type { SourceOffsetRecord } from '../offsets/source-offsets.js';
import type { CutoverDb } from './db.js';
import type { FinalPosition } from './positions.js';

export interface ReadOnlyPrivilege {
  /** true / false when known; null when ferry cannot tell (then it just tries). */
  allowed: boolean | null;
  detail: string;
}

export interface SessionReport {
  /** Other client sessions, `user@host (n)`, for the report. */
  others: string[];
  /** Warnings: sessions that read-only does not stop, sessions that keep writing until they reconnect. */
  warnings: string[];
  /** Sessions terminated (PostgreSQL `--terminate-sessions`). */
  terminated: number;
}

export interface PublishedCheck {
  done: boolean;
  /** Where the source stands, for progress lines and the report. */
  detail: string;
}

/** A source column that generates its values, and the highest value it handed out (decimal text). */
export interface SourceAutoColumn {
  table: TableId;
  column: string;
  /** What generates it: `auto_increment`, `identity`, `sequence "s"."t_id_seq"`. */
  generator: string;
  /** Highest value the source's counter handed out, when known; null when unknown or unused. */
  highestIssued: string | null;
  note?: string;
}

export interface SourceAdmin {
  readonly kind: 'mysql' | 'postgres';
  readonly db: CutoverDb;
  /** The statement that switches writes off (`on`) or back on, for the plan and the report. */
  readOnlyStatement(on: boolean): string;
  isReadOnly(): Promise<boolean>;
  canSetReadOnly(): Promise<ReadOnlyPrivilege>;
  /** Waits at most `lockWaitSeconds` for running transactions (MySQL). */
  setReadOnly(on: boolean, lockWaitSeconds: number): Promise<void>;
  /** `pipelineUser`: the source.url user, whose sessions are marked as (possibly) the pipeline's own. */
  sessions(terminate: boolean, pipelineUser?: string): Promise<SessionReport>;
  currentPosition(): Promise<FinalPosition>;
  /** After recording the final position: make the source produce a checkpoint past it (PostgreSQL). */
  nudge(final: FinalPosition): Promise<string | null>;
  published(stored: SourceOffsetRecord | null, final: FinalPosition, filter: TableFilter): Promise<PublishedCheck>;
  /** Source lag in bytes of log between the stored position and `server`, when computable. */
  bytesBehind(stored: SourceOffsetRecord | null, server: FinalPosition): number | null;
  autoColumns(tables: TableId[]): Promise<SourceAutoColumn[]>;
  close(): Promise<void>;
}
