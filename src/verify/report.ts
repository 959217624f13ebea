/**
 * The verify report for humans (a table per table, then the keys of every difference) and for
 * machines (`--json`: the report object as is). Pure.
 */
import type { TableReport, VerifyReport } from './types.js';

export interface FormatOptions {
  /** Keys printed per table and kind of difference [20]; the JSON form has them all. */
  maxKeys?: number;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

function result(t: TableReport): string {
  if (t.error) return 'ERROR';
  return t.equal ? 'equal' : 'NOT EQUAL';
}

const COLUMNS: Array<{ title: string; right: boolean; value: (t: TableReport) => string }> = [
  { title: 'TABLE', right: false, value: (t) => (t.source === t.target ? t.source : `${t.source} → ${t.target}`) },
  { title: 'METHOD', right: false, value: (t) => t.method },
  { title: 'SOURCE ROWS', right: true, value: (t) => int(t.sourceRows) },
  { title: 'TARGET ROWS', right: true, value: (t) => int(t.targetRows) },
  { title: 'CHUNKS', right: true, value: (t) => int(t.chunks) },
  { title: 'MISMATCHED', right: true, value: (t) => int(t.mismatchedChunks) },
  { title: 'MISSING', right: true, value: (t) => int(t.missingCount) },
  { title: 'EXTRA', right: true, value: (t) => int(t.extraCount) },
  { title: 'DIFFERENT', right: true, value: (t) => int(t.differentCount) },
  { title: 'ROWS/S', right: true, value: (t) => int(t.rowsPerSecond) },
  { title: 'TIME', right: true, value: (t) => duration(t.seconds) },
  { title: 'RESULT', right: false, value: result },
];

function grid(tables: TableReport[]): string[] {
  const cells = [COLUMNS.map((c) => c.title), ...tables.map((t) => COLUMNS.map((c) => c.value(t)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => [...row[i]!].length)));
  return cells.map((row) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - [...cell].length);
        return COLUMNS[i]!.right ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

function details(t: TableReport, maxKeys: number): string[] {
  const lines: string[] = [];
  const name = t.source === t.target ? t.source : `${t.source} → ${t.target}`;
  if (t.error) lines.push(`${name}: ${t.error}`);
  const list = (label: string, keys: string[], total: number) => {
    for (const k of keys.slice(0, maxKeys)) lines.push(`  ${label.padEnd(9)} ${k}`);
    const more = total - Math.min(keys.length, maxKeys);
    if (more > 0)
      lines.push(
        `  ${label.padEnd(9)} … and ${int(more)} more${keys.length > maxKeys ? ' (all listed keys are in --json)' : ''}`,
      );
  };
  if (!t.equal && !t.error) {
    lines.push(
      `${name}: ${int(t.missingCount)} missing, ${int(t.extraCount)} extra, ${int(t.differentCount)} different`,
    );
  }
  if (!t.shards) {
    list(
      'missing',
      t.missing.map((k) => JSON.stringify(k)),
      t.missingCount,
    );
    list(
      'extra',
      t.extra.map((k) => JSON.stringify(k)),
      t.extraCount,
    );
    list(
      'different',
      t.different.map((d) => `${JSON.stringify(d.key)}  columns: ${d.columns.join(', ')}`),
      t.differentCount,
    );
  }
  if (t.shards) {
    if (lines.length === 0) lines.push(`${name}:`);
    const rows = Object.entries(t.shards.rows).map(([shard, n]) => `${shard} ${int(n)}`);
    lines.push(`  shards (${t.shards.rule}): ${rows.join(', ')}; ${int(t.shards.strayCount ?? 0)} on a wrong shard`);
    for (const f of t.shards.findings.slice(0, maxKeys)) {
      const cols = f.columns ? `  columns: ${f.columns.join(', ')}` : '';
      lines.push(
        `  ${f.kind.padEnd(9)} ${JSON.stringify(f.key)} on ${f.shard} (rule: ${f.expected.join(', ')})${cols}`,
      );
    }
  }
  if (t.notes.length > 0 && lines.length === 0) lines.push(`${name}:`);
  for (const note of t.notes) lines.push(`  note: ${note}`);
  return lines;
}

/** The human-readable report: the summary table, the differences by key, notes, a verdict line. */
export function formatVerifyReport(report: VerifyReport, options: FormatOptions = {}): string {
  const maxKeys = options.maxKeys ?? 20;
  const lines = grid(report.tables);
  for (const t of report.tables) {
    const d = details(t, maxKeys);
    if (d.length > 0) lines.push('', ...d);
  }
  const rows = report.tables.reduce((n, t) => n + t.sourceRows, 0);
  const unequal = report.tables.filter((t) => !t.equal).length;
  const verdict = report.equal
    ? `EQUAL — ${report.tables.length} table(s)`
    : `NOT EQUAL — ${unequal} of ${report.tables.length} table(s) differ`;
  lines.push(
    '',
    `verify: ${verdict} (${int(rows)} source rows in ${duration(report.seconds)}, peak RSS ${megabytes(report.peakRssBytes)})`,
  );
  return lines.join('\n');
}

/** The `--json` form. */
export function verifyReportJson(report: VerifyReport): string {
  return JSON.stringify(report, null, 2);
}
