/**
 * Every connector ferry ships, by role and kind. The pipeline (src/pipeline/connectors.ts) and
 * the sink process entry look kinds up here; a new connector is one folder exporting a
 * descriptor (src/api/descriptor.ts) plus one line below (and its kind in the config schema).
 */
import type { SinkConnectorDescriptor, SourceConnectorDescriptor } from '../src/api/index.js';
import { mysqlSinkDescriptor } from './mysql-sink/descriptor.js';
import { mysqlSourceDescriptor } from './mysql-source/descriptor.js';
import { postgresSinkDescriptor } from './postgres-sink/descriptor.js';
import { postgresSourceDescriptor } from './postgres-source/descriptor.js';
import { redisSinkDescriptor } from './redis-sink/descriptor.js';

// biome-ignore lint/suspicious/noExplicitAny: each descriptor reads its own section type; the config resolves it per kind.
export const SOURCE_CONNECTORS: ReadonlyArray<SourceConnectorDescriptor<any>> = [
  mysqlSourceDescriptor,
  postgresSourceDescriptor,
];

// biome-ignore lint/suspicious/noExplicitAny: as above, per kind.
export const SINK_CONNECTORS: ReadonlyArray<SinkConnectorDescriptor<any, any>> = [
  postgresSinkDescriptor,
  mysqlSinkDescriptor,
  redisSinkDescriptor,
];
