import { Kafka, type KafkaConfig, logLevel as KafkaLogLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import { type Logger, type TlsSettings, tlsConnectOptions } from '../api/index.js';
import { guardedSocketFactory } from './fenced-socket.js';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** TLS to every broker (kafka.tls); undefined: plaintext. */
  tls?: TlsSettings | undefined;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** ms; default 10 s. */
  connectionTimeout?: number;
  /**
   * Retries of a failed request before kafkajs gives up; default 8 (about 30 s of backoff).
   * One-shot commands (validate, status) use fewer so an unreachable broker is reported fast.
   */
  retries?: number;
  /**
   * Checked right before every write to a broker socket; false: nothing is written and the
   * connection is closed (the fence of a source instance that lost its leader lease).
   */
  writeGuard?: () => boolean;
}

/**
 * The one place a kafkajs client is made. kafkajs logs go through ferry's logger (so they are
 * redacted and formatted like the rest), at warn level and above only: its info lines are noise.
 */
export function createKafka(settings: KafkaSettings, logger?: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeout ?? 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: settings.retries ?? 8, maxRetryTime: 10_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
      const { message, ...fields } = entry.log;
      const text = `kafka: ${message}`;
      if (entry.level <= KafkaLogLevel.ERROR) logger.error(text, { ...fields, kafkaNamespace: entry.namespace });
      else logger.warn(text, { ...fields, kafkaNamespace: entry.namespace });
    },
  };
  // One options object for every broker: kafkajs adds each broker's host as SNI and identity.
  const ssl = tlsConnectOptions(settings.tls);
  if (ssl) config.ssl = ssl;
  if (settings.writeGuard) config.socketFactory = guardedSocketFactory(settings.writeGuard);
  if (settings.sasl) {
    config.sasl = {
      mechanism: settings.sasl.mechanism,
      username: settings.sasl.username,
      password: settings.sasl.password,
    } as SASLOptions;
  }
  return new Kafka(config);
}
