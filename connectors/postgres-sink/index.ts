/** PostgreSQL sink connector (docs/sinks.md, docs/type-mapping.md). */
export { qualify, quoteIdent } from './dialect.js';
export { classifyPgError } from './errors.js';
export { groupByColumns, PostgresSink, type PostgresSinkOptions } from './sink.js';
export * from './sql.js';
export { compareTypes, formatPgType, parsePgType, pgColumnType, type TypeComparison } from './types.js';
export { type PgTargetColumn, pgArrayLiteral, toPgParam } from './values.js';
