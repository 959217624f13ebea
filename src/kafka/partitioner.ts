import { type ICustomPartitioner, Partitioners } from 'kafkajs';

/**
 * The partition of a keyed record, as the Java client and kafkajs' DefaultPartitioner choose it
 * (murmur2 of the key's bytes, sign bit cleared, modulo the partition count), so a key lands on
 * the same partition whichever client produced it (docs/delivery.md). kafkajs computes murmur2
 * with 64-bit Long objects, several allocations per key; this is the same hash in 32-bit integer
 * arithmetic. Records with an explicit partition keep it; records without a key go to kafkajs'
 * own partitioner.
 */
export const keyHashPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return fallback(args);
    return (murmur2(keyBytes(message.key)) & 0x7fffffff) % partitionMetadata.length;
  };
};

/** Scratch space for the UTF-8 bytes of short keys (one thread uses it at a time). */
const scratch = Buffer.allocUnsafe(4096);

function keyBytes(key: Buffer | string): Buffer {
  if (Buffer.isBuffer(key)) return key;
  const text = String(key);
  if (text.length * 3 > scratch.length) return Buffer.from(text);
  return scratch.subarray(0, scratch.write(text));
}

const M = 0x5bd1e995;

/** Kafka's murmur2 (seed 0x9747b28c) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
