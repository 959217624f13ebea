import type { CheckResult, Logger } from '../api/index.js';
import { type PipelineConfig, tableFilterOf } from '../config/index.js';
import { withAdmin } from '../kafka/admin.js';
import { readSourceOffset } from '../offsets/source-offsets.js';
import { readSinkProgress } from '../runtime/sink/status.js';
import { sinkConnectorFor, sourceConnectorFor } from './connectors.js';
import { kafkaFor } from './pipeline.js';
import { describeEndpoint, endpointsOf, formatTlsReport, probeTls } from './tls-probe.js';

export interface CheckSection {
  title: string;
  checks: CheckResult[];
}

function failed(name: string, err: unknown, fix: string): CheckResult {
  return { name, ok: false, detail: (err as Error)?.message ?? String(err), fix };
}

/**
 * The live preflight behind `ferry validate`: Kafka reachable, the source's own preflight
 * (settings, privileges, keys, stored position), and the target reachable and writable.
 * Changes nothing anywhere (the sink's offsets table is created only if missing).
 */
export async function runChecks(
  config: PipelineConfig,
  logger: Logger,
  onSection?: (section: CheckSection) => void,
): Promise<CheckSection[]> {
  const sections: CheckSection[] = [];
  const add = (section: CheckSection) => {
    sections.push(section);
    onSection?.(section);
  };
  const tlsChecks: CheckResult[] = [];
  for (const e of endpointsOf(config)) {
    const name = `${describeEndpoint(e)} connection`;
    try {
      const report = await probeTls(e);
      tlsChecks.push({
        name,
        ok: true,
        detail: formatTlsReport(e, report),
        ...(report.warning ? { fix: `set ${e.section}.tls (docs/security.md)` } : {}),
      });
    } catch (err) {
      tlsChecks.push(failed(name, err, `fix ${e.section}.tls (docs/security.md)`));
    }
  }
  add({ title: 'TLS', checks: tlsChecks });

  const kafka = kafkaFor(config, logger, 'validate', true);

  const kafkaChecks: CheckResult[] = [];
  let stored = null;
  let kafkaUp = false;
  try {
    const topics = await withAdmin(kafka, (admin) => admin.listTopics());
    kafkaUp = true;
    kafkaChecks.push({
      name: `Kafka reachable at ${config.kafka.brokers.join(', ')}`,
      ok: true,
      detail: `${topics.length} topics`,
    });
    try {
      stored = await readSourceOffset(kafka, config.name);
      kafkaChecks.push({
        name: 'stored source position',
        ok: true,
        detail: stored
          ? `${stored.phase} at ${stored.describe ?? JSON.stringify(stored.position)}`
          : 'none yet (a first run snapshots)',
      });
    } catch (err) {
      kafkaChecks.push(failed('stored source position readable', err, `check the ${config.name}.__offsets topic`));
    }
  } catch (err) {
    kafkaChecks.push(
      failed(
        `Kafka reachable at ${config.kafka.brokers.join(', ')}`,
        err,
        'start Kafka or fix kafka.brokers (host:port of a broker ferry can reach)',
      ),
    );
  }
  add({ title: 'Kafka', checks: kafkaChecks });

  const source = sourceConnectorFor(config);
  const ctl = new AbortController();
  try {
    const checks = await source.preflight(
      { pipeline: config.name, logger, filter: tableFilterOf(config), signal: ctl.signal },
      stored,
    );
    add({
      title: `Source (${config.source.kind} ${config.source.connection.host}:${config.source.connection.port})`,
      checks,
    });
  } catch (err) {
    add({
      title: `Source (${config.source.kind} ${config.source.connection.host}:${config.source.connection.port})`,
      checks: [failed('source preflight', err, 'check source.url and that the server is running')],
    });
  } finally {
    await source.close().catch(() => undefined);
  }

  const sink = sinkConnectorFor(config);
  const sinkChecks: CheckResult[] = [];
  try {
    await sink.start({ pipeline: config.name, group: config.sink.group, logger });
    sinkChecks.push({
      name: `target reachable and writable (${config.sink.kind} ${config.sink.connection.host}:${config.sink.connection.port})`,
      ok: true,
      detail: config.sink.kind === 'redis' ? 'connected and authenticated' : 'connected; ferry_offsets table present',
    });
    if (sink.checks) sinkChecks.push(...(await sink.checks()));
    if (kafkaUp) {
      // The stored offsets of this pipeline's topics against Kafka: how far the sink is.
      const progress = await readSinkProgress({ kafka, connector: sink, pipeline: config.name });
      const topics = new Set(progress.partitions.map((p) => p.topic)).size;
      const applied = progress.partitions.filter((p) => p.nextOffset !== null).length;
      sinkChecks.push({
        name: 'sink offsets readable',
        ok: true,
        detail:
          topics === 0
            ? 'no data topics yet'
            : `${applied} of ${progress.partitions.length} partitions of ${topics} topics applied to, ${progress.totalLag} events pending`,
      });
    } else {
      await sink.readOffsets([]);
      sinkChecks.push({ name: 'sink offsets readable', ok: true });
    }
  } catch (err) {
    sinkChecks.push(
      failed(
        `target reachable and writable (${config.sink.kind})`,
        err,
        'check sink.url, that the server is running, and that the user may create tables in the target',
      ),
    );
  } finally {
    await sink.close().catch(() => undefined);
  }
  add({ title: 'Target', checks: sinkChecks });
  return sections;
}

/** One line per check: ✓/✗, name, what was found, and the fix for failures. */
export function formatChecks(sections: CheckSection[]): string[] {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push(s.title);
    for (const c of s.checks) {
      lines.push(`  ${c.ok ? '✓' : '✗'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
      if (!c.ok && c.fix) lines.push(`      fix: ${c.fix}`);
    }
  }
  return lines;
}
