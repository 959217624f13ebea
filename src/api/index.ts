/**
 * The public surface of ferry for connectors. A connector imports from here and nothing else
 * under src/.
 */

export * from '../event/values.js';
export * from './connector.js';
export * from './errors.js';
export * from './event.js';
export * from './filter.js';
export * from './json.js';
export * from './position.js';
export * from './schema.js';
export * from './sql-session.js';
export * from './sql-sink.js';
export * from './sql-sink-dialect.js';
export * from './sql-sink-errors.js';
export * from './sql-sink-rows.js';
