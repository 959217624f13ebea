/**
 * source.failover: two `ferry source` processes of one pipeline (instances a and b) and a
 * `ferry sink`, on config/examples/mariadb-to-postgres.yaml, while an application writes.
 * 1. SIGKILL the active instance: the standby takes over from the stored position (no second
 *    snapshot) and the target ends equal to the source. Then a record of the old epoch is written
 *    into a data partition after records of the new one (what bytes held back by a network
 *    partition would do): the sink skips and counts it, and so does the sink after a restart (the
 *    epoch is stored with its offsets).
 * 2. SIGSTOP the active instance past the session timeout: the standby takes over; after SIGCONT
 *    the old instance steps down, and no record of its epoch lands in the offsets topic or the data
 *    topics after the takeover.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOffsets, withAdmin } from '../../src/kafka/admin.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { type ReadRecord, readTopicToEnd } from '../../src/kafka/read-topic.js';
import { isDataTopic, offsetsTopic } from '../../src/kafka/topics.js';
import { EPOCH_HEADER, epochOf, latestClaim } from '../../src/offsets/leader-epoch.js';
import type { StatusReport } from '../../src/pipeline/status.js';
import { verifyPipeline } from '../../src/verify/index.js';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  fetchText,
  freePort,
  mariadbToPostgresConfig,
  parsedConfig,
  parseMetrics,
  pipelineEnv,
  runFerry,
  startFerry,
  startWriter,
  sum,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { sandboxKafka } from '../helpers/kafka.js';
import { pgSuper, uniqueName } from '../helpers/sandbox.js';

/** Generous: a starved process (this machine is shared) must not miss its heartbeats. */
const SESSION_MS = 15_000;
/** Each test starts four processes and waits for two takeovers: generous under a loaded machine. */
const TEST_TIMEOUT_MS = 300_000;
const created: string[] = [];
const running: Array<{ label: string; proc: FerryProcess }> = [];
const kafka: Kafka = sandboxKafka('failover-test');

interface Instance {
  name: string;
  file: string;
  port: number;
  proc: FerryProcess | null;
}

async function newPipeline(prefix: string) {
  const name = uniqueName(prefix);
  created.push(name);
  await createSourceShop(name, 50, 2000);
  const env = pipelineEnv();
  const dir = testDir(name);
  const config = async (instance: string) => {
    const port = await freePort();
    const text = mariadbToPostgresConfig({
      name,
      sourceDatabase: name,
      metricsPort: port,
      edit: (t) =>
        t.replace(
          /^source:\n/m,
          `source:\n  failover: true\n  failoverSessionTimeoutMs: ${SESSION_MS}\n  instance: ${instance}\n`,
        ),
    });
    return { name: instance, file: writeConfig(dir, `${name}-${instance}`, text), port, proc: null } as Instance;
  };
  const a = await config('a');
  const b = await config('b');
  const sink = await config('sink');
  return { name, env, a, b, sink, config: parsedConfig(a.file, env) };
}

function start(label: string, args: string[], env: Record<string, string>): FerryProcess {
  const p = startFerry(args, env);
  running.push({ label, proc: p });
  return p;
}

async function offsetRecords(pipeline: string): Promise<ReadRecord[]> {
  return readTopicToEnd(kafka, offsetsTopic(pipeline));
}

/**
 * Waits until `instance` holds the latest claim, with an epoch of at least `minEpoch`, and stored a
 * streaming position in it; returns that epoch.
 */
async function activeWith(pipeline: string, instance: string, minEpoch: number): Promise<number> {
  return eventually(
    `instance ${instance} to be active with an epoch >= ${minEpoch} and store a position`,
    async () => {
      const records = await offsetRecords(pipeline);
      const claim = latestClaim(records, pipeline);
      if (claim?.instance !== instance || claim.epoch < minEpoch) return null;
      const stored = records.some(
        (r) => r.key === pipeline && epochOf(r.value) === claim.epoch && r.value?.includes('"stream"'),
      );
      return stored ? claim.epoch : null;
    },
    120_000,
    500,
  );
}

async function dataTopics(pipeline: string): Promise<string[]> {
  return withAdmin(kafka, async (admin) => (await admin.listTopics()).filter((t) => isDataTopic(pipeline, t)));
}

/** End offsets of the data topics and the offsets topic now: `topic:partition` -> offset. */
async function endsNow(pipeline: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  await withAdmin(kafka, async (admin) => {
    for (const topic of [...(await dataTopics(pipeline)), offsetsTopic(pipeline)]) {
      for (const [p, end] of await endOffsets(admin, topic)) out.set(`${topic}:${p}`, end);
    }
  });
  return out;
}

/**
 * Writes into a data partition, with the epoch header `stale`, an older state of a key whose
 * partition already holds records of `newer`: a re-ordered copy sent by the former active
 * instance. Applying it would put that older state in the target.
 */
async function injectStaleRecord(pipeline: string, stale: number, newer: number): Promise<string> {
  const epochOfRecord = (r: ReadRecord) => Number(r.headers?.[EPOCH_HEADER] ?? 0);
  const after = (r: ReadRecord) => JSON.stringify((JSON.parse(r.value!) as { after: unknown }).after);
  for (const topic of await dataTopics(pipeline)) {
    const records = await readTopicToEnd(kafka, topic);
    const newerIn = new Set(records.filter((r) => epochOfRecord(r) === newer).map((r) => r.partition));
    const last = new Map<string, ReadRecord>();
    for (const r of records) if (r.key !== null) last.set(r.key, r);
    const old = records.find((r) => {
      const l = r.key === null ? undefined : last.get(r.key);
      return (
        l !== undefined &&
        newerIn.has(r.partition) &&
        epochOfRecord(r) === stale &&
        r.value !== null &&
        !r.value.includes('"op":"t"') &&
        (l.value === null || after(l) !== after(r))
      );
    });
    if (!old) continue;
    const producer = await createRecordProducer(kafka);
    try {
      await producer.send([
        { topic, key: old.key, value: old.value, partition: old.partition, headers: { [EPOCH_HEADER]: String(stale) } },
      ]);
    } finally {
      await producer.disconnect();
    }
    return topic;
  }
  throw new Error(`no key with a state of epoch ${stale} that changed under epoch ${newer}`);
}

/** ferry_sink_stale_epoch_records_total of a sink process, for one topic or all. */
async function staleCounted(port: number, topic?: string): Promise<number> {
  const m = parseMetrics((await fetchText(`http://127.0.0.1:${port}/metrics`)).text);
  return m
    .filter((x) => x.name === 'ferry_sink_stale_epoch_records_total' && (!topic || x.labels['topic'] === topic))
    .reduce((n, x) => n + x.value, 0);
}

async function targetEqualsSource(config: Parameters<typeof verifyPipeline>[0]): Promise<void> {
  await eventually(
    'the target to equal the source',
    async () => (await verifyPipeline(config, { recheck: { attempts: 0 } })).equal,
    90_000,
    1000,
  );
}

/** Snapshot rows (op r) per key over all data topics: each key at most once means one snapshot. */
async function snapshotReadsPerKey(pipeline: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const topic of await dataTopics(pipeline)) {
    for (const r of await readTopicToEnd(kafka, topic)) {
      if (r.value === null || !r.value.includes('"op":"r"')) continue;
      const k = `${topic} ${r.key}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  return counts;
}

async function startPipeline(p: Awaited<ReturnType<typeof newPipeline>>) {
  const writer = await startWriter(p.name, 5);
  try {
    p.a.proc = start(`${p.name}-a`, ['source', '-c', p.a.file], p.env);
    const epoch = await activeWith(p.name, 'a', 1);
    p.b.proc = start(`${p.name}-b`, ['source', '-c', p.b.file], p.env);
    await p.b.proc.waitForOutput(/standby: waiting to become the active source instance/, 60_000);
    p.sink.proc = start(`${p.name}-sink`, ['sink', '-c', p.sink.file], p.env);
    // b is a standby: not active, no epoch; a is the active one.
    await eventually(
      'instance b to report standby in /metrics',
      async () => {
        const m = parseMetrics((await fetchText(`http://127.0.0.1:${p.b.port}/metrics`)).text);
        return m.some((s) => s.name === 'ferry_source_active') && sum(m, 'ferry_source_active') === 0;
      },
      30_000,
    );
    const active = parseMetrics((await fetchText(`http://127.0.0.1:${p.a.port}/metrics`)).text);
    expect(sum(active, 'ferry_source_active')).toBe(1);
    expect(sum(active, 'ferry_source_leader_epoch')).toBeGreaterThanOrEqual(epoch);
    return { writer, epoch };
  } catch (err) {
    await writer.stop().catch(() => undefined);
    throw err;
  }
}

beforeAll(() => ensureCliBuilt(), 300_000);

afterAll(async () => {
  for (const { label, proc } of running) {
    proc.child.kill('SIGCONT');
    const r = await proc.stop('SIGKILL');
    // The processes' logs, for a look after a failure.
    writeFileSync(join(testDir(label.replace(/-(a|b|sink)$/, '')), `${label}.log`), r.stderr);
  }
  const pg = await pgSuper();
  try {
    for (const db of created) {
      await pg.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(db)} CASCADE`);
      await dropSourceDatabase(db);
    }
  } finally {
    await pg.end();
  }
});

describe('source failover (two ferry source instances, example config)', () => {
  it(
    'SIGKILL of the active instance while writing: the standby resumes; one snapshot; target == source',
    async () => {
      const p = await newPipeline('fo_kill');
      const { writer, epoch: first } = await startPipeline(p);
      let transactions = 0;
      let second = 0;
      try {
        // a streams for a while with writes going on, then dies.
        const before = (await offsetRecords(p.name)).length;
        await eventually('a to store more positions', async () => (await offsetRecords(p.name)).length > before + 3);
        await p.a.proc!.stop('SIGKILL');
        second = await activeWith(p.name, 'b', first + 1);
        const after = (await offsetRecords(p.name)).length;
        await eventually('b to store more positions', async () => (await offsetRecords(p.name)).length > after + 3);
      } finally {
        transactions = await writer.stop();
      }
      expect(transactions).toBeGreaterThan(20);
      await targetEqualsSource(p.config);
      const verified = await runFerry(['verify', '-c', p.sink.file], p.env);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);

      // One snapshot in the pipeline's life: b resumed from the stored position, read no table.
      const reads = await snapshotReadsPerKey(p.name);
      expect(reads.size).toBeGreaterThan(0);
      expect([...reads.values()].filter((n) => n > 1)).toEqual([]);
      expect(p.b.proc!.stderr()).not.toMatch(/snapshot of a table done|taking the initial snapshot/);
      expect(p.b.proc!.stderr()).toMatch(/resuming from the stored position/);
      const bMetrics = parseMetrics((await fetchText(`http://127.0.0.1:${p.b.port}/metrics`)).text);
      expect(sum(bMetrics, 'ferry_snapshot_rows_total')).toBe(0);
      expect(sum(bMetrics, 'ferry_source_active')).toBe(1);
      expect(sum(bMetrics, 'ferry_source_leader_epoch')).toBe(second);

      const status = await runFerry(['status', '-c', p.sink.file, '--json'], p.env);
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout) as StatusReport;
      expect(report.source.leader).toMatchObject({ instance: 'b', epoch: second });
      const text = await runFerry(['status', '-c', p.sink.file], p.env);
      expect(text.stdout).toMatch(new RegExp(`^active {3}b, epoch ${second}, since `, 'm'));

      // A stale record of epoch `first` after records of epoch `second`: skipped, counted, logged.
      const topic = await injectStaleRecord(p.name, first, second);
      await eventually('the sink to skip the stale record', async () => (await staleCounted(p.sink.port, topic)) === 1);
      expect(p.sink.proc!.stderr()).toMatch(/skipped records of a former active source instance/);
      await targetEqualsSource(p.config);
      const pg = await pgSuper();
      try {
        const stored = await pg.query(
          'SELECT max(leader_epoch)::int AS e FROM public.ferry_offsets WHERE pipeline = $1 AND topic = $2',
          [p.name, topic],
        );
        expect(stored.rows[0]?.e).toBe(second);
      } finally {
        await pg.end();
      }
      // The sink restarts: the epoch comes back from ferry_offsets, and the next stale record is
      // skipped too (alone in its batch, only the stored epoch can tell it is stale).
      await p.sink.proc!.stop('SIGTERM');
      p.sink.proc = start(`${p.name}-sink`, ['sink', '-c', p.sink.file], p.env);
      await injectStaleRecord(p.name, first, second);
      await eventually('the restarted sink to skip the stale record', async () => {
        return (await staleCounted(p.sink.port).catch(() => 0)) === 1;
      });
      await targetEqualsSource(p.config);
      const again = await runFerry(['verify', '-c', p.sink.file], p.env);
      expect(again.code, again.stdout + again.stderr).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGSTOP of the active instance past the session timeout: after SIGCONT it steps down, nothing of its epoch lands',
    async () => {
      const p = await newPipeline('fo_stop');
      const { writer, epoch: first } = await startPipeline(p);
      let transactions = 0;
      let second = 0;
      let frozen = new Map<string, bigint>();
      try {
        const before = (await offsetRecords(p.name)).length;
        await eventually('a to store more positions', async () => (await offsetRecords(p.name)).length > before + 3);
        p.a.proc!.child.kill('SIGSTOP');
        second = await activeWith(p.name, 'b', first + 1);
        const after = (await offsetRecords(p.name)).length;
        await eventually('b to store more positions', async () => (await offsetRecords(p.name)).length > after + 3);
        // Everything at or after these offsets was written after the takeover.
        frozen = await endsNow(p.name);
        p.a.proc!.child.kill('SIGCONT');
        await p.a.proc!.waitForOutput(/stepped down: another instance is the active one now/, 60_000);
        await p.a.proc!.waitForOutput(
          /standby: waiting to become the active source instance[\s\S]*standby: waiting/,
          60_000,
        );
        // Writes go on for a while with the old instance awake again.
        const more = (await offsetRecords(p.name)).length;
        await eventually('b to store more positions', async () => (await offsetRecords(p.name)).length > more + 5);
      } finally {
        transactions = await writer.stop();
      }
      expect(transactions).toBeGreaterThan(20);
      await targetEqualsSource(p.config);

      // No record of epoch 1 after the takeover: not in the offsets topic (after b's claim, and
      // after the moment a was woken up), not in any data partition.
      const offsets = await offsetRecords(p.name);
      const claimAt = offsets.findIndex((r) => r.key === `${p.name}.__leader` && epochOf(r.value) === second);
      expect(claimAt).toBeGreaterThan(0);
      const stale = offsets.slice(claimAt).filter((r) => (epochOf(r.value) ?? 0) < second);
      expect(stale).toEqual([]);
      let checked = 0;
      for (const topic of await dataTopics(p.name)) {
        const byPartition = new Map<number, ReadRecord[]>();
        for (const r of await readTopicToEnd(kafka, topic)) {
          const list = byPartition.get(r.partition) ?? [];
          list.push(r);
          byPartition.set(r.partition, list);
        }
        for (const [partition, records] of byPartition) {
          const epochs = records.map((r) => Number(r.headers?.[EPOCH_HEADER] ?? 0));
          expect(
            epochs.every((e) => e >= 1),
            `${topic}:${partition} records without an epoch`,
          ).toBe(true);
          const firstNew = epochs.indexOf(second);
          if (firstNew >= 0) expect(epochs.slice(firstNew).filter((e) => e < second)).toEqual([]);
          const woken = frozen.get(`${topic}:${partition}`) ?? 0n;
          const late = records.filter((r, i) => BigInt(r.offset) >= woken && epochs[i]! < second);
          expect(late, `${topic}:${partition} records of an older epoch after the takeover`).toEqual([]);
          checked += records.length;
        }
      }
      expect(checked).toBeGreaterThan(0);
      const aMetrics = parseMetrics((await fetchText(`http://127.0.0.1:${p.a.port}/metrics`)).text);
      expect(sum(aMetrics, 'ferry_source_active')).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
