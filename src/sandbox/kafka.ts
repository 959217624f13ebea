/**
 * The sandbox's Kafka broker: single-node KRaft, started from the Maven Central jars. 3.9.1 by
 * default; FERRY_KAFKA_VERSION=4.1.1 starts the 4.x line (log4j2 instead of reload4j).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { FerryError } from '../api/errors.js';
import type { ServerContext, ServerDriver } from './driver.js';
import { renderLog4j2Properties, renderLog4jProperties, renderServerProperties } from './kafka-config.js';
import { ensureKafkaLibs, isKafka4, type KafkaVersion, kafkaVersion } from './kafka-libs.js';
import { logTail, spawnDetached, waitUntilReady } from './process.js';
import { serverPort } from './state.js';
import { sandboxCa } from './tls.js';
import type { SandboxInfo } from './types.js';

const execFileAsync = promisify(execFile);

const READY_TIMEOUT_MS = 90_000;

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

function log4jFile(info: SandboxInfo, version: KafkaVersion): string {
  return join(
    info.sandbox.servers.kafka.configFile,
    '..',
    isKafka4(version) ? 'log4j2.properties' : 'log4j.properties',
  );
}

/** The file that records which Kafka version formatted the data directory. */
function versionFile(info: SandboxInfo): string {
  return join(info.sandbox.servers.kafka.configFile, '..', 'kafka-version');
}

/** A data directory formatted by another Kafka version is not started (an upgrade or downgrade in place). */
function checkVersion(info: SandboxInfo, version: KafkaVersion): void {
  const k = info.sandbox.servers.kafka;
  const file = versionFile(info);
  const formatted = existsSync(join(k.dataDir, 'meta.properties'));
  const recorded = existsSync(file) ? readFileSync(file, 'utf8').trim() : formatted ? '3.9.1' : null;
  if (formatted && recorded !== version) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `the sandbox in ${info.sandbox.dir} holds Kafka ${recorded} data, but Kafka ${version} was asked for ` +
        '(FERRY_KAFKA_VERSION); use another sandbox directory (--dir, FERRY_TEST_SANDBOX_DIR) or remove this one.',
    );
  }
  mkdirSync(join(k.configFile, '..'), { recursive: true });
  writeFileSync(file, `${version}\n`);
}

function jvmArgs(info: SandboxInfo, libs: string, version: KafkaVersion): string[] {
  const logConfig = isKafka4(version)
    ? `-Dlog4j2.configurationFile=${log4jFile(info, version)}`
    : `-Dlog4j.configuration=file:${log4jFile(info, version)}`;
  return [
    '-Xms256m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    logConfig,
    `-Dkafka.logs.dir=${join(info.sandbox.servers.kafka.logFile, '..')}`,
    '-cp',
    `${libs}/*`,
  ];
}

/** A `--tls` sandbox: the broker's PEM key store (key, then certificate) next to its config. */
function keystoreFile(info: SandboxInfo): string {
  return join(info.sandbox.servers.kafka.configFile, '..', 'keystore.pem');
}

function writeConfig(info: SandboxInfo, version: KafkaVersion): void {
  const k = info.sandbox.servers.kafka;
  mkdirSync(join(k.configFile, '..'), { recursive: true });
  mkdirSync(k.dataDir, { recursive: true });
  if (info.tls) {
    const pem = readFileSync(info.tls.keyFile, 'utf8') + readFileSync(info.tls.certFile, 'utf8');
    writeFileSync(keystoreFile(info), pem, { mode: 0o600 });
  }
  writeFileSync(
    k.configFile,
    renderServerProperties({
      nodeId: 1,
      host: '127.0.0.1',
      port: serverPort(info, 'kafka'),
      controllerPort: k.controllerPort,
      dataDir: k.dataDir,
      tls:
        info.tls && k.saslPort
          ? { saslPort: k.saslPort, keystoreFile: keystoreFile(info), caFile: info.tls.caFile }
          : undefined,
    }),
  );
  writeFileSync(
    log4jFile(info, version),
    isKafka4(version) ? renderLog4j2Properties(k.logFile) : renderLog4jProperties(k.logFile),
  );
}

/** `kafka-storage format` once per data dir, with the cluster id kept in sandbox.json. */
async function formatStorage(ctx: ServerContext, libs: string, version: KafkaVersion): Promise<void> {
  const k = ctx.info.sandbox.servers.kafka;
  if (existsSync(join(k.dataDir, 'meta.properties'))) return;
  ctx.log(`kafka: formatting ${k.dataDir} (cluster id ${k.clusterId})`);
  const args = [
    ...jvmArgs(ctx.info, libs, version),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    k.clusterId,
    '-c',
    k.configFile,
    '--ignore-formatted',
    // The SASL user of a --tls sandbox (SCRAM credentials live in the cluster metadata).
    ...(ctx.info.tls
      ? ['--add-scram', `SCRAM-SHA-512=[name=${ctx.info.tls.saslUser},password=${ctx.info.tls.saslPassword}]`]
      : []),
  ];
  try {
    await execFileAsync(javaBin(), args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    const hint =
      e.code === 'ENOENT' ? ' Install Java 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME.' : '';
    throw new FerryError(
      'FERRY_SANDBOX',
      `cannot format Kafka storage ${k.dataDir}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}${hint}`,
      { cause: err },
    );
  }
}

/** The sandbox's own clients use the SSL listener of a --tls sandbox, trusting its CA. */
function sslOf(info: SandboxInfo): { ssl?: { ca: string; rejectUnauthorized: true } } {
  const ca = sandboxCa(info);
  return ca ? { ssl: { ca, rejectUnauthorized: true } } : {};
}

async function listTopics(info: SandboxInfo): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'ferry-sandbox',
    brokers: info.kafka.brokers,
    ...sslOf(info),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Makes the broker create __consumer_offsets now (FindCoordinator does that), so the first consumer
 * group of a test or the demo does not meet "group coordinator not available".
 */
async function warmUpGroupCoordinator(info: SandboxInfo, logFile: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'ferry-sandbox',
    brokers: info.kafka.brokers,
    ...sslOf(info),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeGroups(['ferry-sandbox-warmup']);
  } catch (err) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `Kafka answers but its group coordinator does not start: ${(err as Error).message}. See ${logFile}:\n${logTail(logFile)}`,
      { cause: err },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export const kafkaDriver: ServerDriver = {
  name: 'kafka',
  label: 'Kafka',
  stopSignal: 'SIGTERM',
  marker: (info) => info.sandbox.servers.kafka.configFile,

  async launch(ctx) {
    const k = ctx.info.sandbox.servers.kafka;
    const version = kafkaVersion();
    checkVersion(ctx.info, version);
    const libs = await ensureKafkaLibs(ctx.log, version);
    writeConfig(ctx.info, version);
    await formatStorage(ctx, libs, version);
    if (!k.initialized) {
      k.initialized = true;
      ctx.save();
    }
    if (version !== '3.9.1') ctx.log(`kafka: Kafka ${version} (FERRY_KAFKA_VERSION)`);
    return spawnDetached(javaBin(), [...jvmArgs(ctx.info, libs, version), 'kafka.Kafka', k.configFile], {
      logFile: k.logFile,
      pidFile: k.pidFile,
      cwd: join(k.configFile, '..'),
    });
  },

  async ready(ctx, pid) {
    const k = ctx.info.sandbox.servers.kafka;
    await waitUntilReady({
      pid,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 500,
      probe: () => listTopics(ctx.info),
      fail: (reason, lastError) =>
        new FerryError(
          'FERRY_SANDBOX',
          `Kafka ${reason === 'died' ? 'exited while starting' : `did not answer on ${ctx.info.kafka.brokers[0]} within ${READY_TIMEOUT_MS / 1000} s`}` +
            ` (last error: ${(lastError as Error | undefined)?.message ?? 'none'}). See ${k.logFile}:\n${logTail(k.logFile)}`,
          { cause: lastError },
        ),
    });
    await warmUpGroupCoordinator(ctx.info, k.logFile);
  },
};
