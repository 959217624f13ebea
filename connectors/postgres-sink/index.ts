/** PostgreSQL sink connector (docs/sinks.md, docs/type-mapping.md). */

/** Kept here for callers of the connector; it lives in src/sql-sink (shared by the SQL sinks). */
export { groupByColumns } from '../../src/sql-sink/index.js';
export { qualify, quoteIdent } from './dialect.js';
export { classifyPgError } from './errors.js';
export { PostgresSink, type PostgresSinkOptions } from './sink.js';
export { PostgresSinkDialect } from './sink-dialect.js';
export * from './sql.js';
export { compareTypes, formatPgType, parsePgType, pgColumnType, type TypeComparison } from './types.js';
export { type PgTargetColumn, pgArrayLiteral, toPgParam } from './values.js';
