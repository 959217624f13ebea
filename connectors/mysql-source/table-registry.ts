import { FerryError, type TableFilter, type TableSchema } from '../../src/api/index.js';
import type { DdlRenames } from './ddl-renames.js';
import { RenameMarks } from './rename-marks.js';
import { buildTableSchema, type CapturedTable, type TableProblem } from './schema.js';
import { type InfoColumn, mapMysqlColumn } from './types.js';

export type { CapturedTable };

export interface ColumnHint {
  name: string;
  /** Approximate COLUMN_TYPE from the binlog metadata, e.g. `int`, `varchar(20)`. */
  type: string;
}

/**
 * The schemas the binlog decoder uses (pure). Filled from information_schema at stream start and
 * after every DDL. A row event whose columns (names from FULL row metadata) differ from the
 * current table shape was written under an older shape, e.g. when the stream replays events from
 * before an ALTER: its schema is derived from the binlog metadata, taking each column's details
 * from information_schema where the column still exists.
 */
export class TableRegistry {
  private readonly filter: TableFilter;
  private readonly tables = new Map<string, CapturedTable>();
  private readonly problems = new Map<string, TableProblem>();
  private readonly derived = new Map<string, CapturedTable>();
  private readonly announced = new Set<string>();
  private gone: string[] = [];
  private readonly marks = new RenameMarks();
  /** Every table's entry as last read, kept when a later read misses it. */
  private readonly lastKnown = new Map<string, CapturedTable>();

  constructor(filter: TableFilter) {
    this.filter = filter;
  }

  /**
   * Replaces the known tables; returns the schemas that are new or changed. `dropped()` then names
   * the captured tables that are gone.
   */
  replace(tables: CapturedTable[], problems: TableProblem[]): TableSchema[] {
    const changed: TableSchema[] = [];
    const previous = new Map(this.tables);
    this.tables.clear();
    this.problems.clear();
    for (const t of tables) {
      const name = `${t.schema.db}.${t.schema.table}`;
      this.tables.set(name, t);
      this.lastKnown.set(name, t);
      this.marks.seed(previous.get(name)?.schema ?? t.schema);
      if (previous.get(name)?.schema.version !== t.schema.version) changed.push(this.marks.incarnate(t.schema));
    }
    for (const [name, t] of previous) if (!this.tables.has(name)) this.marks.seed(t.schema);
    for (const p of problems) this.problems.set(p.table, p);
    this.gone = [...previous.keys()].filter((n) => !this.tables.has(n) && !this.problems.has(n));
    return changed;
  }

  /** The renames of a DDL statement just read at `at` (`file:pos`; applied to the next row events, see RenameMarks). */
  noteRenames(renames: DdlRenames, at?: string): void {
    this.marks.note(renames, at);
  }

  /** What the schema history says of table names freed by a RENAME before `start` (RenameMarks). */
  seedIncarnations(history: readonly TableSchema[], start: string): void {
    this.marks.seedIncarnations(history, start);
  }

  /** Captured tables that the last replace() no longer found. */
  dropped(): string[] {
    return this.gone;
  }

  /** Marks a version as published in this stream; true when it was not yet (yield a schema item). */
  announce(schema: TableSchema): boolean {
    const key = versionKey(schema);
    if (this.announced.has(key)) return false;
    this.announced.add(key);
    return true;
  }

  get(db: string, table: string): CapturedTable | undefined {
    return this.tables.get(`${db}.${table}`);
  }

  all(): CapturedTable[] {
    return [...this.tables.values()];
  }

  /** The table shape a row event was written under; `announce` when its schema is not yet published. */
  resolve(
    db: string,
    table: string,
    columns: ColumnHint[],
    binlogKey: string[] = [],
  ): { table: CapturedTable; announce: boolean } {
    const name = `${db}.${table}`;
    // A table missing from the last read (e.g. read while an ALTER was copying it) keeps the
    // details it had before, for the columns that still match.
    const current = this.tables.get(name) ?? this.lastKnown.get(name);
    let entry: CapturedTable;
    if (current && sameShape(current.info, columns)) {
      entry = current;
    } else {
      entry = this.derive(db, table, columns, binlogKey, current);
    }
    entry = this.marks.mark(entry);
    return { table: entry, announce: this.announce(entry.schema) };
  }

  private derive(
    db: string,
    table: string,
    columns: ColumnHint[],
    binlogKey: string[],
    current: CapturedTable | undefined,
  ): CapturedTable {
    const name = `${db}.${table}`;
    const cacheKey = `${name}|${JSON.stringify(columns)}|${binlogKey.join(',')}`;
    const cached = this.derived.get(cacheKey);
    if (cached) return cached;
    if (columns.length === 0 || columns.every((c) => c.name === '')) {
      throw new FerryError(
        'FERRY_PREFLIGHT',
        `the binlog has no column names for ${name}; set binlog_row_metadata = FULL on the server`,
      );
    }
    // A column whose type changed since the event was written (MODIFY) is decoded with the type
    // the binlog's table map gives for it, not with today's.
    const info = columns.map((c) => {
      const now = current?.info.find((i) => i.name === c.name);
      return now && sameType(now, c) ? now : hintToInfo(c);
    });
    const currentKey = current?.schema.primaryKey ?? [];
    const key = binlogKey.length > 0 ? binlogKey : currentKey.filter((k) => columns.some((c) => c.name === k));
    const built = buildTableSchema(db, table, info, key, this.filter);
    if (!built.ok) {
      const problem = this.problems.get(name) ?? built.problem;
      throw new FerryError('FERRY_SCHEMA', `cannot capture ${name}: ${problem.reason}; ${problem.fix}`, {
        details: { table: name },
      });
    }
    const entry = { schema: built.schema, info };
    this.derived.set(cacheKey, entry);
    return entry;
  }
}

function versionKey(s: TableSchema): string {
  return `${s.db}.${s.table}@${s.version}`;
}

/** Same column names in the same order, each of a type that decodes the same way. */
function sameShape(info: InfoColumn[], columns: ColumnHint[]): boolean {
  return (
    info.length === columns.length && info.every((c, i) => c.name === columns[i]!.name && sameType(c, columns[i]!))
  );
}

const TEMPORAL = new Set(['time', 'timestamp', 'timestamptz']);

/**
 * Whether a row written with the table map's column type `hint` decodes like today's column
 * `info`: the same kind (and signedness, scale, fractional digits). Types the table map cannot
 * tell apart from others (MariaDB JSON, UUID, INET) count as the same.
 */
export function sameType(info: InfoColumn, hint: ColumnHint): boolean {
  if (info.json || ['uuid', 'inet4', 'inet6'].includes(info.dataType.toLowerCase())) return true;
  const now = mapMysqlColumn(info);
  const then = mapMysqlColumn(hintToInfo(hint));
  if (!now.ok || !then.ok) return true;
  const a = now.column;
  const b = then.column;
  if (a.kind !== b.kind || (a.unsigned ?? false) !== (b.unsigned ?? false)) return false;
  if (TEMPORAL.has(a.kind) && (a.fsp ?? 0) !== (b.fsp ?? 0)) return false;
  if (a.kind === 'decimal' && a.scale !== b.scale) return false;
  return true;
}

/** An information_schema-like column from binlog metadata alone (nullability unknown: nullable). */
export function hintToInfo(c: ColumnHint): InfoColumn {
  const type = c.type.toLowerCase();
  const dataType = /^[a-z]+/.exec(type)?.[0] ?? type;
  const len = /\((\d+)(?:,(\d+))?\)/.exec(type);
  const first = len ? Number(len[1]) : null;
  const second = len?.[2] === undefined ? null : Number(len[2]);
  const isDecimal = dataType === 'decimal' || dataType === 'numeric';
  const isTemporal = ['time', 'datetime', 'timestamp'].includes(dataType);
  return {
    name: c.name,
    dataType,
    columnType: type,
    nullable: true,
    charMaxLength: !isDecimal && !isTemporal && dataType !== 'bit' ? first : null,
    numericPrecision: isDecimal || dataType === 'bit' ? first : null,
    numericScale: isDecimal ? second : null,
    datetimePrecision: isTemporal ? (first ?? 0) : null,
    generated: false,
    json: dataType === 'json',
  };
}
