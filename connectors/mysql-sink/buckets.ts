/**
 * Statement sizes of the MySQL sink (docs/sinks.md#mysql-statement-sizes). Each multi-row
 * statement is a server-side prepared statement, one per distinct text, and the connection
 * keeps a bounded number of them: a batch of any row count would prepare a new statement for
 * almost every batch. Row counts are therefore rounded up to a few sizes (1, 2, 3, 4, 6, 8, 12,
 * 16, … : powers of two and 1.5 times them, and the largest size itself) and a statement is
 * filled up to its size by repeating its last row. Repeating the last row of an upsert writes
 * the values that row just wrote to the same key again; repeating the last key of a delete
 * deletes nothing more: the table ends exactly as without the repetition.
 */

/** The size a statement of `rows` rows is sent with: the smallest bucket >= rows, never above `max`. */
export function bucketSize(rows: number, max: number): number {
  if (rows >= max) return max;
  let size = 1;
  for (;;) {
    if (size >= rows) return Math.min(size, max);
    const between = size + size / 2;
    if (Number.isInteger(between) && between >= rows) return Math.min(between, max);
    size *= 2;
  }
}

/**
 * Rows filled up to their bucket size with copies of the last row, unless the copies would take
 * the statement beyond `byteLimit` (`bytes`: the rows' size so far, `lastBytes`: the last
 * row's); then the rows as they are.
 */
export function padToBucket<T>(rows: T[], max: number, bytes: number, lastBytes: number, byteLimit: number): T[] {
  const size = bucketSize(rows.length, max);
  const extra = size - rows.length;
  if (extra <= 0 || rows.length === 0 || bytes + extra * lastBytes > byteLimit) return rows;
  const last = rows[rows.length - 1]!;
  const out = rows.slice();
  for (let i = 0; i < extra; i++) out.push(last);
  return out;
}
