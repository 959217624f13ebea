/** MySQL information_schema column rows for the MySQL source's type-mapping tests. */
import type { InfoColumn } from '../../connectors/mysql-source/types.js';

/** A NULL-able, non-generated column `name` with no length, precision or scale unless `extra` sets them. */
export function infoColumn(
  name: string,
  dataType: string,
  columnType: string,
  extra: Partial<InfoColumn> = {},
): InfoColumn {
  return {
    name,
    dataType,
    columnType,
    nullable: true,
    charMaxLength: null,
    numericPrecision: null,
    numericScale: null,
    datetimePrecision: null,
    generated: false,
    json: false,
    ...extra,
  };
}
