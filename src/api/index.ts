/**
 * The public surface of ferry for connectors. A connector imports from here and nothing else
 * under src/.
 */

export * from './connector.js';
export * from './descriptor.js';
export * from './errors.js';
export * from './event.js';
export * from './filter.js';
export * from './json.js';
export * from './key-bounds.js';
export * from './network.js';
export * from './position.js';
export * from './queue.js';
export * from './schema.js';
export * from './tls.js';
export * from './values/encode.js';
