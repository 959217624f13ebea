/**
 * Regression: the MySQL sink sent a float32's canonical text (its shortest form, e.g.
 * PostgreSQL real's maximum 3.4028235e38) as the parameter of a FLOAT column. MariaDB reads that
 * text as a double, 3.4028235e38 > FLT_MAX (3.4028234663852886e38), and rejected the row with
 * "Out of range value for column" (found by test/integration/e2e-postgres.it.test.ts). The
 * float's exact double value converts back to the same float without a range error.
 */
import { describe, expect, it } from 'vitest';
import { toMySqlParam } from '../../connectors/mysql-sink/values.js';
import type { ColumnSchema } from '../../src/api/index.js';

const real: ColumnSchema = { name: 'r', kind: 'float32', sourceType: 'real', nullable: true };
const target = (type: string) => ({ name: 'r', type, notNull: false });

describe('MySQL sink: float32 at the edge of its range', () => {
  it('sends the largest float32 as its exact double value, which FLOAT accepts', () => {
    expect(toMySqlParam(real, 3.4028235e38, target('float'))).toBe('3.4028234663852886e+38');
    expect(toMySqlParam(real, -3.4028235e38, target('float'))).toBe('-3.4028234663852886e+38');
    expect(Math.fround(Number(toMySqlParam(real, 3.4028235e38, target('float'))))).toBe(Math.fround(3.4028235e38));
  });

  it('keeps every float32 value the same float', () => {
    for (const v of [0.1, -1.5, 1e-45, 1.1754944e-38, 16777216, 0]) {
      expect(Math.fround(Number(toMySqlParam(real, v, target('float'))))).toBe(Math.fround(v));
    }
  });

  it('leaves doubles and float32 values in a DOUBLE column as they are', () => {
    expect(toMySqlParam({ ...real, kind: 'float64' }, 0.1, target('double'))).toBe('0.1');
    expect(toMySqlParam(real, 0.1, target('double'))).toBe('0.1');
  });
});
