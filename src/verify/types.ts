/**
 * Shapes of `ferry verify`: what verify() takes and the report it returns. Plain data; the
 * JSON form of the report (`--json`) is this object as is.
 */
import type { Logger } from '../api/connector.js';
import type { JsonObject } from '../api/json.js';
import type { TableId } from '../api/schema.js';
import type { TlsSettings } from '../api/tls.js';

export type EngineKind = 'mysql' | 'postgres';

/** Where one side lives. `database` is required for PostgreSQL (the database holding the schemas). */
export interface VerifyEndpoint {
  kind: EngineKind;
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  database?: string | undefined;
  /** TLS to the endpoint (`source.tls`/`sink.tls`); undefined: plaintext. */
  tls?: TlsSettings | undefined;
}

/** One table to compare: a source table and where the sink writes it. */
export interface TablePair {
  source: TableId;
  target: TableId;
  /** Column names (source side) left out of the comparison, e.g. from `source.excludeColumns`. */
  excludeColumns?: string[];
  /** Key columns for a source table without a primary key (`source.keyColumns`). */
  keyColumns?: string[];
}

export interface RecheckPolicy {
  /** Re-check rounds for rows found different [3]; 0 reports the first finding. */
  attempts: number;
  /** Pause before each round when no `waitFor` hook is given, in ms [2000]. */
  delayMs: number;
}

export interface VerifyOptions {
  source: VerifyEndpoint;
  target: VerifyEndpoint;
  tables: TablePair[];
  /** `db.table` glob patterns (source names, or target names); only matching pairs are verified. */
  tableFilter?: string[];
  /** Rows per checksum chunk [10000]. */
  chunkSize?: number;
  /** Levels of splitting a mismatched chunk before comparing its rows [8]. */
  maxDrillDepth?: number;
  /** A mismatched range this small (rows on the larger side) is compared row by row [256]. */
  leafRows?: number;
  /** Parts a mismatched range is split into per level [8]. */
  splitFactor?: number;
  /** Keys listed per table and kind of difference; beyond it only counted [1000]. */
  maxReportedKeys?: number;
  /** Chunks checked at the same time per table [2]. */
  concurrency?: number;
  /**
   * Rows that differ are fetched again after a pause, so that rows still in flight while
   * replication runs are not reported [3 attempts, 2000 ms apart].
   */
  recheck?: Partial<RecheckPolicy>;
  /**
   * Called before each re-check round instead of the pause, e.g. "wait until the sink has
   * applied everything up to the source position recorded now" (cutover).
   */
  waitFor?: () => Promise<void>;
  logger?: Logger;
  signal?: AbortSignal;
}

/** The resolved options with every default filled in. */
export interface VerifySettings {
  chunkSize: number;
  maxDrillDepth: number;
  leafRows: number;
  splitFactor: number;
  maxReportedKeys: number;
  concurrency: number;
  recheck: RecheckPolicy;
}

export const DEFAULT_SETTINGS: VerifySettings = {
  chunkSize: 10_000,
  maxDrillDepth: 8,
  leafRows: 256,
  splitFactor: 8,
  maxReportedKeys: 1000,
  concurrency: 2,
  recheck: { attempts: 3, delayMs: 2000 },
};

/** A row that exists on both sides with different values: its key and the columns that differ. */
export interface RowDifference {
  key: JsonObject;
  columns: string[];
}

export type VerifyMethod = 'checksum' | 'client';

export type ShardFindingKind = 'missing' | 'extra' | 'stray' | 'different';

/** One difference of a sharded table: the key, the shard it concerns and where the rule puts it. */
export interface ShardFinding {
  kind: ShardFindingKind;
  key: JsonObject;
  shard: string;
  /** Shards the rule names for the key. */
  expected: string[];
  columns?: string[];
}

export interface TableReport {
  /** `db.table` at the source. */
  source: string;
  /** `schema.table` (or `db.table`) at the target. */
  target: string;
  equal: boolean;
  /** COUNT(*) at the start of the table's verification. */
  sourceRows: number;
  targetRows: number;
  /** Key-range chunks compared. */
  chunks: number;
  /** Chunks whose checksum (or rows, for `client`) differed at first sight. */
  mismatchedChunks: number;
  /** Keys in the source but not in the target (at most maxReportedKeys listed). */
  missing: JsonObject[];
  /** Keys in the target but not in the source. */
  extra: JsonObject[];
  /** Rows on both sides whose values differ, with the differing columns. */
  different: RowDifference[];
  /** Totals, which may exceed the listed keys. */
  missingCount: number;
  extraCount: number;
  differentCount: number;
  /** Source rows verified per second. */
  rowsPerSecond: number;
  seconds: number;
  /**
   * `checksum`: chunks hashed inside each database, only mismatched ranges leave the server.
   * `client`: some column has no identical in-database form on both engines, so every range is
   * streamed and compared here (per-row hashes of the other columns are still computed in the
   * databases).
   */
  method: VerifyMethod;
  /** Columns compared client-side, when method is `client`. */
  clientColumns: string[];
  /** Things worth knowing: fallbacks, normalisations, unresolved ranges. */
  notes: string[];
  /** Set when the table could not be verified at all (missing table, unsupported key…). */
  error?: string;
  /** A sharded target (docs/sharding.md#verify): the rule, rows per shard, differences with their shard. */
  shards?: {
    rule: string;
    rows: Record<string, number>;
    /** Listed differences (up to maxReportedKeys); `stray`: on a shard the rule does not name. */
    findings: ShardFinding[];
    /** Rows on a shard the rule does not name (counted in extraCount too). */
    strayCount?: number;
  };
}

export interface VerifyReport {
  equal: boolean;
  tables: TableReport[];
  /** Peak resident set size of this process (its high-water mark), in bytes. */
  peakRssBytes: number;
  seconds: number;
}
