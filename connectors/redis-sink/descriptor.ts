import type { ConnectorSection, SinkConnectorDescriptor } from '../../src/api/index.js';
import type { RedisSinkOptions } from './options.js';
import { RedisSink } from './sink.js';

/** The resolved `sink` section of a `kind: redis` pipeline (docs/configuration.md, docs/redis-sink.md). */
export interface RedisSinkSection extends ConnectorSection {
  url: string;
  password?: string | undefined;
  redis: Omit<RedisSinkOptions, 'url' | 'password'>;
}

/** Redis sink options of a resolved section (the URL as written; `sink.password` wins over its password). */
export function redisSinkOptions(sink: RedisSinkSection): RedisSinkOptions {
  return {
    url: sink.url,
    ...(sink.password === undefined ? {} : { password: sink.password }),
    ...(sink.tls === undefined ? {} : { tlsSettings: sink.tls }),
    ...sink.redis,
  };
}

/** `sink.kind: redis`. */
export const redisSinkDescriptor: SinkConnectorDescriptor<RedisSinkSection, RedisSinkOptions> = {
  role: 'sink',
  kind: 'redis',
  fromConfig: (sink) => new RedisSink(redisSinkOptions(sink)),
  create: (options) => new RedisSink(options),
};
