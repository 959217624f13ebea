/**
 * The Kafka broker's classpath, fetched once from Maven Central with config/kafka/pom.xml into
 * `<cache>/kafka-<version>/libs`. A marker file (with a hash of the pom) makes every later start
 * skip Maven entirely, so nothing is downloaded again.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FerryError } from '../api/errors.js';
import { withLock } from './lock.js';
import { cacheDir, projectRoot } from './paths.js';
import type { LogFn } from './types.js';

const execFileAsync = promisify(execFile);

/** The default broker, and the ones the sandbox can start (FERRY_KAFKA_VERSION; docs/failover.md#kafka-brokers). */
export const DEFAULT_KAFKA_VERSION = '3.9.1';
export const KAFKA_VERSIONS = ['3.9.1', '4.1.1'] as const;
export type KafkaVersion = (typeof KAFKA_VERSIONS)[number];
const MARKER = 'complete.json';

/** The Kafka version the sandbox starts: FERRY_KAFKA_VERSION, or 3.9.1. */
export function kafkaVersion(env: NodeJS.ProcessEnv = process.env): KafkaVersion {
  const wanted = env['FERRY_KAFKA_VERSION']?.trim() || DEFAULT_KAFKA_VERSION;
  if ((KAFKA_VERSIONS as readonly string[]).includes(wanted)) return wanted as KafkaVersion;
  throw new FerryError(
    'FERRY_SANDBOX',
    `FERRY_KAFKA_VERSION=${wanted} is not a Kafka version the sandbox knows; use one of ${KAFKA_VERSIONS.join(', ')} (or unset it for ${DEFAULT_KAFKA_VERSION}).`,
  );
}

/** Kafka 4 and later: log4j2 instead of reload4j, KRaft only. */
export function isKafka4(version: KafkaVersion): boolean {
  return Number(version.split('.')[0]) >= 4;
}

export function kafkaHome(version: KafkaVersion = kafkaVersion()): string {
  return join(cacheDir(), `kafka-${version}`);
}

function pomFile(version: KafkaVersion = kafkaVersion()): string {
  const name = version === DEFAULT_KAFKA_VERSION ? 'pom.xml' : `pom-${version}.xml`;
  return join(projectRoot(), 'config', 'kafka', name);
}

function pomHash(version: KafkaVersion): string {
  const pom = pomFile(version);
  if (!existsSync(pom))
    throw new FerryError('FERRY_SANDBOX', `${pom} is missing; it lists the Kafka jars. Reinstall ferry.`);
  return createHash('sha256').update(readFileSync(pom)).digest('hex');
}

function cachedLibs(home: string, hash: string, version: KafkaVersion): string | null {
  try {
    const marker = JSON.parse(readFileSync(join(home, MARKER), 'utf8')) as { pomSha256?: string };
    const libs = join(home, 'libs');
    if (marker.pomSha256 === hash && existsSync(join(libs, `kafka_2.13-${version}.jar`))) return libs;
  } catch {
    // no marker yet
  }
  return null;
}

/** The directory of the broker's jars, running Maven only when the cache is missing or stale. */
export async function ensureKafkaLibs(log: LogFn, version: KafkaVersion = kafkaVersion()): Promise<string> {
  const home = kafkaHome(version);
  const hash = pomHash(version);
  const ready = cachedLibs(home, hash, version);
  if (ready) return ready;
  mkdirSync(home, { recursive: true });
  return withLock(join(home, 'fetch.lock'), async () => {
    const again = cachedLibs(home, hash, version); // another process may have fetched meanwhile
    if (again) return again;
    log(`kafka: fetching Kafka ${version} jars from Maven Central into ${home} (first start only)`);
    const started = Date.now();
    const tmp = join(home, `libs.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    const mvn = process.env['FERRY_MVN'] ?? 'mvn';
    const args = [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      pomFile(version),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ];
    try {
      await execFileAsync(mvn, args, { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') {
        throw new FerryError(
          'FERRY_SANDBOX',
          `Maven (${mvn}) is not installed; install it (apt-get install maven) or set FERRY_MVN. It fetches the Kafka jars once.`,
          { cause: err },
        );
      }
      const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-3000);
      throw new FerryError(
        'FERRY_SANDBOX',
        `Maven could not fetch the Kafka jars (${mvn} ${args.join(' ')}): ${e.message}\n${output}\nCheck access to Maven Central (proxy settings in ~/.m2/settings.xml).`,
        { cause: err },
      );
    }
    const jars = readdirSync(tmp).filter((f) => f.endsWith('.jar'));
    if (!jars.includes(`kafka_2.13-${version}.jar`)) {
      throw new FerryError(
        'FERRY_SANDBOX',
        `Maven finished but ${tmp} holds no kafka_2.13-${version}.jar; check ${pomFile(version)}.`,
      );
    }
    const libs = join(home, 'libs');
    rmSync(libs, { recursive: true, force: true });
    renameSync(tmp, libs);
    writeFileSync(
      join(home, MARKER),
      `${JSON.stringify({ pomSha256: hash, jars: jars.length, fetchedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    log(`kafka: ${jars.length} jars fetched in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return libs;
  });
}
