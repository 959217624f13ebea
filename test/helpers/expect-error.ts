/** Assertions on the FerryErrors that value encoding throws. */
import { expect } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import type { ColumnKind } from '../../src/api/schema.js';
import type { ValueColumn } from '../../src/api/values/encode.js';

/** Asserts a FerryError with `code` whose message contains every one of `parts`. */
export function expectError(fn: () => unknown, code: string, ...parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FerryError);
  expect((caught as FerryError).code).toBe(code);
  for (const part of parts) expect((caught as FerryError).message).toContain(part);
}

/** Asserts a FERRY_ENCODE error naming the column and its kind, and containing `parts`. */
export function expectEncodeError(fn: () => unknown, column: ValueColumn, ...parts: string[]): void {
  expectError(fn, 'FERRY_ENCODE', `"${column.name}"`, `(${column.kind})`, ...parts);
}

/** A value column `c_<kind>` of `kind`. */
export const kindColumn = (kind: ColumnKind, extra: Partial<ValueColumn> = {}): ValueColumn => ({
  name: `c_${kind}`,
  kind,
  ...extra,
});
