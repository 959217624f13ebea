/**
 * The shared SQL sink toolkit (docs/sinks.md): the sink core that applies batches in one target
 * transaction with the offsets, the session and dialect contracts, row and error helpers. SQL sink
 * connectors import from here and from src/api, nothing else under src/.
 */

export * from './column-renames.js';
export * from './core.js';
export * from './dialect.js';
export * from './errors.js';
export * from './rows.js';
export * from './session.js';
