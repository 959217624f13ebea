import { configFields } from './fields.js';
import type { PipelineConfig } from './resolve.js';
import { rawUrlPassword } from './url.js';

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Every secret value of a config, for the logger's redaction (`createLogger({ secrets })`):
 * each field the schema marks secret (source/sink password, SASL password, TLS private keys
 * as read, whole and line by line), and the
 * passwords inside the database URLs, decoded and as written. Empty values are left out.
 */
export function secretsOf(config: PipelineConfig): string[] {
  const out = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length > 0) out.add(value);
  };
  for (const field of configFields()) if (field.secret) add(valueAt(config, field.path));
  // A private key's base64 lines too, so that no part of one can show.
  for (const tls of [config.kafka.tls, config.source.tls, config.sink.tls]) {
    for (const line of tls?.key?.split(/\r?\n/) ?? []) if (line.length >= 40) add(line);
  }
  for (const section of [config.source, config.sink, ...(config.sink.shards ?? [])]) {
    add(section.connection.password);
    if (section.url === undefined) continue;
    const raw = rawUrlPassword(section.url);
    add(raw);
    if (raw !== undefined) add(safeDecode(raw));
  }
  return [...out];
}
