import { randomBytes } from 'node:crypto';

/** A random password of URL-safe characters ([A-Za-z0-9_-]), 24 characters = 144 bits. */
export function randomPassword(): string {
  // Never start with '-' so the value cannot be mistaken for a command-line option.
  for (;;) {
    const candidate = randomBytes(18).toString('base64url');
    if (!candidate.startsWith('-')) return candidate;
  }
}

/**
 * A Kafka cluster id made without a JVM: 16 random bytes, base64url without padding (22 chars),
 * the same format as `kafka-storage random-uuid`. Like Kafka's Uuid.randomUuid(), ids starting
 * with '-' are rejected (they break command-line parsing of `format -t <id>`), and so are the two
 * reserved ids (all zero, and the metadata topic id ...AQ).
 */
export function kafkaClusterId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const id = bytes.toString('base64url');
    if (id.startsWith('-')) continue;
    if (id === 'AAAAAAAAAAAAAAAAAAAAAA' || id === 'AAAAAAAAAAAAAAAAAAAAAQ') continue;
    return id;
  }
}

export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/;
