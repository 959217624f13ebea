/**
 * What a connector folder exports so that the pipeline can find it by kind (connectors/registry.ts):
 * its kind and a factory from its part of the pipeline config. src/config validates and resolves
 * the config before; the descriptor only maps the resolved section onto the connector's options.
 */
import type { SinkConnector, SourceConnector } from './connector.js';
import type { TlsSettings } from './tls.js';

/** A database endpoint as the resolved pipeline config holds it (`source.url`/`sink.url` taken apart). */
export interface ConnectorConnection {
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  database?: string | undefined;
}

/** The resolved `source` or `sink` section of a pipeline config, as far as every connector reads it. */
export interface ConnectorSection {
  kind: string;
  connection: ConnectorConnection;
  /** TLS to the endpoint (`source.tls`/`sink.tls`, files read); undefined: plaintext. */
  tls?: TlsSettings | undefined;
}

export interface SourceConnectorDescriptor<S extends ConnectorSection = ConnectorSection> {
  role: 'source';
  /** The `source.kind` value that selects this connector. */
  kind: string;
  /** The connector for a resolved `source` section of this kind. */
  fromConfig(section: S): SourceConnector;
}

export interface SinkConnectorDescriptor<S extends ConnectorSection = ConnectorSection, O = unknown> {
  role: 'sink';
  /** The `sink.kind` value that selects this connector. */
  kind: string;
  /** The connector for a resolved `sink` section of this kind. */
  fromConfig(section: S): SinkConnector;
  /** The connector from its own options (the sink process entry, tests). */
  create(options: O): SinkConnector;
}
