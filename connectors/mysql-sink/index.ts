/** MySQL/MariaDB sink connector (docs/sinks.md, docs/type-mapping.md). */

/** Kept here for callers of the connector; it lives in src/sql-sink (shared by the SQL sinks). */
export { groupByColumns } from '../../src/sql-sink/index.js';
export { qualify, quoteIdent, quoteLiteral } from './dialect.js';
export { classifyMySqlError } from './errors.js';
export { MySqlSink, type MySqlSinkOptions } from './sink.js';
export { MySqlSinkDialect } from './sink-dialect.js';
export * from './sql.js';
export {
  compareMysqlTypes,
  type MySqlColumnType,
  type MySqlTypeOptions,
  mysqlColumnType,
  normalizeMysqlType,
  parseLabels,
} from './types.js';
export { type MySqlParam, type MySqlTargetColumn, toMySqlParam } from './values.js';
