/** MySQL/MariaDB sink connector (docs/sinks.md, docs/type-mapping.md). */
export { qualify, quoteIdent, quoteLiteral } from './dialect.js';
export { classifyMySqlError } from './errors.js';
export { groupByColumns, MySqlSink, type MySqlSinkOptions } from './sink.js';
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
