/**
 * What `ferry validate` checks on a Redis target (docs/redis-sink.md#validate), on a connected
 * client: the server version, that the user may write (a probe key set and deleted), persistence
 * (AOF / RDB: without it a restart empties rows and offsets together) and the eviction policy
 * (an evicting policy would drop rows silently).
 */
import type { CheckResult } from '../../src/api/index.js';
import type { RedisClient } from './client.js';
import { classifyRedisError } from './errors.js';

/** `key:value` lines of an INFO section. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

export function persistenceCheck(info: Record<string, string>): CheckResult {
  const aof = info['aof_enabled'] === '1';
  const rdbSaves = info['rdb_saves_configured'];
  const name = 'persistence';
  if (aof) return { name, ok: true, detail: 'AOF on: a restart keeps rows and offsets' };
  return {
    name,
    ok: false,
    detail:
      'AOF off: after a restart Redis holds only what its last RDB snapshot had (or nothing); rows and offsets go back ' +
      `together, so the sink replays from Kafka, which only works while the topics still hold those events` +
      (rdbSaves && rdbSaves !== '0' ? ' (RDB snapshots are configured: a restart goes back to the last one)' : ''),
    fix: 'turn AOF on: CONFIG SET appendonly yes (and appendonly yes in redis.conf)',
  };
}

export function evictionCheck(info: Record<string, string>): CheckResult {
  const policy = info['maxmemory_policy'] ?? 'unknown';
  const maxmemory = info['maxmemory'] ?? '0';
  const evicts = policy !== 'noeviction' && policy !== 'unknown' && maxmemory !== '0';
  return evicts
    ? {
        name: 'eviction policy',
        ok: false,
        detail: `maxmemory ${maxmemory} with ${policy}: Redis may evict rows (and ferry's offsets) silently`,
        fix: 'CONFIG SET maxmemory-policy noeviction (ferry then waits and retries when memory is full)',
      }
    : { name: 'eviction policy', ok: true, detail: `${policy}${maxmemory === '0' ? ' (no maxmemory)' : ''}` };
}

export async function redisChecks(client: RedisClient, probeKey: string): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  try {
    const server = parseInfo(String(await client.sendCommand(['INFO', 'server'])));
    const version = server['redis_version'] ?? 'unknown';
    const major = Number(version.split('.')[0]);
    out.push(
      major >= 6 || Number.isNaN(major)
        ? { name: 'Redis version', ok: true, detail: version }
        : { name: 'Redis version', ok: false, detail: version, fix: 'use Redis 6.0 or newer' },
    );
  } catch (err) {
    out.push({ name: 'Redis version', ok: false, detail: classifyRedisError(err, 'INFO server').message });
  }
  try {
    await client.sendCommand(['SET', probeKey, '1', 'PX', '10000']);
    await client.sendCommand(['DEL', probeKey]);
    out.push({ name: 'writable', ok: true, detail: 'a probe key was written and deleted' });
  } catch (err) {
    out.push({
      name: 'writable',
      ok: false,
      detail: classifyRedisError(err, 'writing a probe key').message,
      fix: 'give the user write access to ferry keys (ACL), and point sink.url at a primary',
    });
  }
  try {
    const info = {
      ...parseInfo(String(await client.sendCommand(['INFO', 'persistence']))),
      ...parseInfo(String(await client.sendCommand(['INFO', 'memory']))),
    };
    out.push(persistenceCheck(info), evictionCheck(info));
  } catch (err) {
    out.push({ name: 'persistence', ok: false, detail: classifyRedisError(err, 'INFO persistence').message });
  }
  return out;
}
