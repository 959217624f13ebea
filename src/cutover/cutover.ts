/**
 * `ferry cutover`: the guided end of a move (docs/cutover.md).
 *
 *   1. lag             how far the source runtime and the sink are behind (read only)
 *   2. read-only       switch writes off at the source, or have the user confirm they stopped
 *   3. final position  the source's log position once writes stopped
 *   4. wait            until the stored source position reaches it and the sink lag is 0
 *   5. sequences       move generated keys on the target past the highest id
 *   6. verify          compare every captured table
 *   7. outcome         what to switch, or why not yet
 *
 * No state file: every step reads its state from the systems themselves, so a re-run continues
 * where a previous one stopped. Read-only already on → step 2 says so and moves on; the final
 * position is read again (writes are off, so it is the same or only later); the wait returns at
 * once when everything is applied; counters already ahead are left alone; verify runs again.
 */
import type { Kafka } from 'kafkajs';
import { FerryError } from '../api/errors.js';
import type { TableId } from '../api/schema.js';
import { type PipelineConfig, parseDbUrl, secretsOf, tableFilterOf } from '../config/index.js';
import { redactString } from '../log/index.js';
import { readSourceOffset } from '../offsets/source-offsets.js';
import { sinkConnectorFor } from '../pipeline/connectors.js';
import { kafkaFor } from '../pipeline/pipeline.js';
import { collectStatus } from '../pipeline/status.js';
import { readSinkProgress } from '../runtime/sink-status.js';
import { resolveTablePairs, type TablePair, verifyPipeline } from '../verify/index.js';
import { type CutoverDb, type CutoverEndpoint, connectCutoverDb, describeEndpoint, isPrivilegeError } from './db.js';
import { describeFinal, type FinalPosition } from './positions.js';
import { applySequenceAction, planSequences, type SequenceAction } from './sequences.js';
import type { SourceAdmin } from './source.js';
import { mysqlSourceAdmin } from './source-mysql.js';
import { postgresSourceAdmin } from './source-postgres.js';
import type { CutoverOptions, CutoverOutcome, CutoverStep, ReadOnlyState, RollbackOutcome } from './types.js';

export const DEFAULT_TIMEOUT_MS = 300_000;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const hostKey = (h: string) => (LOOPBACK.has(h.toLowerCase()) ? 'loopback' : h.toLowerCase());

/**
 * Why read-only on the source would also stop the sink, or null: a MySQL source and target on
 * the same server (read_only is global), or a PostgreSQL source and target in the same database.
 */
export function sharedServerReason(config: PipelineConfig): string | null {
  const s = config.source.connection;
  const t = config.sink.connection;
  if (config.source.kind !== config.sink.kind || hostKey(s.host) !== hostKey(t.host) || s.port !== t.port) return null;
  if (config.source.kind === 'mysql') {
    return 'the source and the target are the same MySQL server: read_only is global and would stop the sink too';
  }
  return s.database === t.database
    ? 'the source and the target are the same PostgreSQL database: read-only would stop the sink too'
    : null;
}

/** The source connection for admin actions: `--source-admin-url`, else the pipeline's source user. */
export function sourceAdminEndpoint(config: PipelineConfig, adminUrl?: string): CutoverEndpoint {
  const c = adminUrl ? parseDbUrl(adminUrl, config.source.kind, '--source-admin-url') : config.source.connection;
  return {
    kind: config.source.kind,
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    // PostgreSQL: the captured database, whatever the admin URL names (catalogs are per database).
    database: config.source.kind === 'postgres' ? config.source.connection.database : c.database,
  };
}

export function targetEndpoint(config: PipelineConfig): CutoverEndpoint {
  const c = config.sink.connection;
  return {
    kind: config.sink.kind,
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
  };
}

/** The target URL to print: password masked, known secrets replaced. */
export function maskedTargetUrl(config: PipelineConfig): string {
  return redactString(config.sink.url, secretsOf(config));
}

function adminFor(config: PipelineConfig, db: CutoverDb): SourceAdmin {
  if (config.source.kind === 'mysql') return mysqlSourceAdmin(db);
  return postgresSourceAdmin(db, config.source.connection.database ?? 'postgres', config.source.slot);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nf = new Intl.NumberFormat('en-US');

interface WaitResult {
  ok: boolean;
  lagEvents: number | null;
  detail: string;
}

/**
 * Waits until the source runtime stored a position at or past `final` (or nothing captured lies
 * between) and then the sink has applied everything Kafka holds. Reports every few seconds.
 */
async function waitCaughtUp(
  config: PipelineConfig,
  admin: SourceAdmin,
  kafka: Kafka,
  final: FinalPosition,
  deadline: number,
  opts: CutoverOptions,
): Promise<WaitResult> {
  const filter = tableFilterOf(config);
  const poll = opts.pollMs ?? 500;
  const say = opts.progress ?? (() => undefined);
  let lastSaid = 0;
  let published = false;
  let publishedDetail = '';
  let lagEvents: number | null = null;
  const sink = sinkConnectorFor(config);
  await sink.start({ pipeline: config.name, group: config.sink.group, logger: opts.logger });
  try {
    for (;;) {
      let detail: string;
      if (!published) {
        const stored = await readSourceOffset(kafka, config.name);
        const check = await admin.published(stored, final, filter);
        published = check.done;
        publishedDetail = check.detail;
        detail = `source: ${check.detail}`;
      } else {
        detail = `source: ${publishedDetail}`;
      }
      if (published) {
        const progress = await readSinkProgress({ kafka, connector: sink, pipeline: config.name });
        lagEvents = progress.totalLag;
        if (lagEvents === 0) return { ok: true, lagEvents, detail: `${detail}; sink: lag 0` };
        detail += `; sink: ${nf.format(lagEvents)} event(s) to apply`;
      }
      if (Date.now() >= deadline) return { ok: false, lagEvents, detail };
      if (Date.now() - lastSaid >= 5000) {
        say(`cutover: waiting — ${detail}`);
        lastSaid = Date.now();
      }
      await sleep(poll);
    }
  } finally {
    await sink.close().catch(() => undefined);
  }
}

class Steps {
  readonly list: CutoverStep[] = [];
  constructor(private readonly onStep?: (s: CutoverStep) => void) {}

  begin(n: number, title: string): CutoverStep & { started: number } {
    return { n, title, status: 'done', lines: [], statements: [], warnings: [], seconds: 0, started: Date.now() };
  }

  end(step: CutoverStep & { started: number }): CutoverStep {
    const { started, ...rest } = step;
    const done: CutoverStep = { ...rest, seconds: (Date.now() - started) / 1000 };
    this.list.push(done);
    this.onStep?.(done);
    return done;
  }
}

function publicAction(a: SequenceAction): CutoverOutcome['sequences'][number] {
  return { ...a, statements: a.statements.map((s) => s.display) };
}

function tableName(t: TableId): string {
  return `${t.db}.${t.table}`;
}

/**
 * Runs the cutover (or, with `dryRun`, prints what it would do). Resolves with the outcome in
 * every case the user should read about (timeout, verify mismatch, "no" to a question); throws
 * for configuration and usage errors and for failures that leave nothing to report.
 */
export async function runCutover(config: PipelineConfig, opts: CutoverOptions): Promise<CutoverOutcome> {
  const started = Date.now();
  const dryRun = opts.dryRun === true;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const configArg = opts.configFile ?? '<pipeline.yaml>';
  if (!dryRun && !opts.yes && !opts.confirm) {
    throw new FerryError(
      'FERRY_USAGE',
      'cutover makes the source read-only and changes sequences on the target; there is no terminal to ask on, ' +
        'so pass --yes to go ahead (or --dry-run to see the plan first)',
    );
  }
  const adminEndpoint = sourceAdminEndpoint(config, opts.sourceAdminUrl);
  const steps = new Steps(opts.onStep);
  const outcome: CutoverOutcome = {
    pipeline: config.name,
    ok: false,
    dryRun,
    error: null,
    source: { kind: config.source.kind, server: describeEndpoint(adminEndpoint), readOnly: 'not set' },
    finalPosition: null,
    lagEvents: null,
    sequences: [],
    verify: null,
    target: { kind: config.sink.kind, url: maskedTargetUrl(config), tables: [] },
    steps: steps.list,
    next: [],
    seconds: 0,
  };
  const finish = (error: string | null): CutoverOutcome => {
    outcome.error = error;
    outcome.seconds = (Date.now() - started) / 1000;
    outcome.next = nextSteps(outcome, configArg);
    return outcome;
  };
  const skipRest = (from: number) => {
    const titles = STEP_TITLES.slice(from - 1);
    titles.forEach((title, i) => {
      const s = steps.begin(from + i, title);
      s.status = 'skipped';
      steps.end(s);
    });
  };

  const sourceDb = await connectCutoverDb(adminEndpoint);
  let targetDb: CutoverDb | null = null;
  const admin = adminFor(config, sourceDb);
  try {
    targetDb = await connectCutoverDb(targetEndpoint(config));
    const kafka = kafkaFor(config, opts.logger, 'cutover');
    const pairs: TablePair[] = await resolveTablePairs(config, sourceDb);
    outcome.target.tables = pairs.map((p) => tableName(p.target));

    // 1. lag
    const s1 = steps.begin(1, STEP_TITLES[0]!);
    const stored = await readSourceOffset(kafka, config.name);
    const server = await admin.currentPosition();
    const status = await collectStatus(config, opts.logger);
    const behind = admin.bytesBehind(stored, server);
    const storedText = stored
      ? `${stored.phase} at ${stored.describe ?? JSON.stringify(stored.position)}`
      : 'not started';
    s1.lines.push(
      `source: stored ${storedText}; server at ${describeFinal(server)}` +
        (behind === null ? '' : ` (${nf.format(behind)} bytes of log behind)`),
      `sink: ${nf.format(status.lagEvents)} event(s) behind Kafka${
        status.lagSeconds === null ? '' : `, ${status.lagSeconds.toFixed(1)} s`
      }`,
      `${pairs.length} captured table(s): ${pairs.map((p) => tableName(p.source)).join(', ') || '(none)'}`,
    );
    for (const t of status.tables.filter((x) => x.lagEvents > 0)) {
      s1.lines.push(`  ${t.table}: ${nf.format(t.lagEvents)} event(s) to apply`);
    }
    if (stored?.phase !== 'stream') {
      s1.warnings.push(
        stored?.phase === 'snapshot'
          ? 'the initial snapshot is still running; cutover will wait for it to finish'
          : 'the source has not started yet: is the pipeline running (ferry run)?',
      );
    }
    if (pairs.length === 0) s1.warnings.push(`source.tables (${config.source.tables.join(', ')}) matches no table`);
    outcome.lagEvents = status.lagEvents;
    steps.end(s1);

    if (!dryRun && !opts.yes) {
      const go = await opts.confirm!(
        opts.readOnly === false
          ? 'Wait for the sink, move sequences on the target and verify (the source writers must be stopped)? [y/N] '
          : `Make the source ${describeEndpoint(adminEndpoint)} read-only, wait for the sink, move sequences on ` +
              'the target and verify? [y/N] ',
      );
      if (!go) {
        skipRest(2);
        return finish('stopped: you answered no; nothing was changed');
      }
    }

    // 2. read-only
    const s2 = steps.begin(2, STEP_TITLES[1]!);
    let confirmReason: string | null = null;
    let readOnly: ReadOnlyState = 'not set';
    const shared = sharedServerReason(config);
    if (opts.readOnly === false) confirmReason = 'read-only not switched (--no-read-only)';
    else if (shared) confirmReason = shared;
    else if (await admin.isReadOnly()) {
      readOnly = 'already';
      s2.status = 'already done';
      s2.lines.push('the source is read-only already');
    } else if (dryRun) {
      readOnly = 'planned';
      s2.status = 'planned';
      s2.statements.push(admin.readOnlyStatement(true));
      const privilege = await admin.canSetReadOnly();
      s2.lines.push(`privileges: ${privilege.detail}`);
      if (privilege.allowed === false) {
        s2.warnings.push(
          'this user may not switch read-only: cutover would ask you to confirm that writes stopped instead ' +
            '(or pass --source-admin-url with an admin user)',
        );
      }
    } else {
      try {
        await admin.setReadOnly(true, Math.min(60, Math.max(1, timeoutMs / 1000)));
        readOnly = 'set';
        s2.statements.push(admin.readOnlyStatement(true));
        s2.lines.push('writes are off at the source');
      } catch (err) {
        if (err instanceof FerryError && err.details['errno'] === 1205) {
          throw new FerryError(
            'FERRY_CONNECTION',
            'switching the source read-only waited too long for running transactions or table locks ' +
              `(${(err as Error).message}); let them finish (SHOW PROCESSLIST) and run cutover again`,
            { cause: err },
          );
        }
        if (!isPrivilegeError(err)) throw err;
        confirmReason =
          `${adminEndpoint.user} may not switch the source read-only (${(err as Error).message}); ` +
          'pass --source-admin-url with a user that may';
      }
    }
    if (confirmReason !== null) {
      s2.lines.push(confirmReason);
      if (dryRun) {
        s2.status = 'planned';
        s2.lines.push('would ask you to confirm that every writer to the source stopped');
      } else if (opts.yes) {
        readOnly = 'confirmed';
        s2.status = 'confirmed';
        s2.lines.push('writes to the source assumed stopped (--yes)');
      } else {
        const stopped = await opts.confirm!('Have all writes to the source stopped? [y/N] ');
        if (!stopped) {
          s2.status = 'failed';
          steps.end(s2);
          skipRest(3);
          return finish('stopped: writes to the source have not stopped; nothing was changed');
        }
        readOnly = 'confirmed';
        s2.status = 'confirmed';
        s2.lines.push('writes to the source confirmed stopped');
      }
    }
    outcome.source.readOnly = readOnly;
    try {
      const sessions = await admin.sessions(
        !dryRun && (readOnly === 'set' || readOnly === 'already') && opts.terminateSessions === true,
        config.source.connection.user,
      );
      if (sessions.others.length > 0) s2.lines.push(`other sessions: ${sessions.others.join(', ')}`);
      s2.warnings.push(...sessions.warnings);
    } catch (err) {
      s2.warnings.push(`cannot list the other sessions: ${(err as Error).message}`);
    }
    steps.end(s2);

    // 3. final position
    const s3 = steps.begin(3, STEP_TITLES[2]!);
    const final = await admin.currentPosition();
    if (dryRun) {
      s3.status = 'planned';
      s3.lines.push(`would record the source position once writes are off (now ${describeFinal(final)})`);
    } else {
      outcome.finalPosition = { ...final, describe: describeFinal(final) };
      s3.lines.push(describeFinal(final));
      try {
        const marker = await admin.nudge(final);
        if (marker) s3.lines.push(`wrote a heartbeat message at ${marker} so the source stores a position past it`);
      } catch (err) {
        s3.warnings.push(`cannot write a heartbeat message (${(err as Error).message}); waiting for the source's own`);
      }
    }
    steps.end(s3);

    // 4. wait
    const s4 = steps.begin(4, STEP_TITLES[3]!);
    if (dryRun) {
      s4.status = 'planned';
      s4.lines.push(
        `would wait up to ${Math.round(timeoutMs / 1000)} s until the source stored a position at or past it ` +
          'and the sink applied everything in Kafka',
      );
    } else {
      const waited = await waitCaughtUp(config, admin, kafka, final, Date.now() + timeoutMs, opts);
      outcome.lagEvents = waited.lagEvents;
      s4.lines.push(waited.detail);
      if (!waited.ok) {
        s4.status = 'failed';
        steps.end(s4);
        skipRest(5);
        return finish(
          `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the pipeline (${waited.detail}); ` +
            'is `ferry run` running? Re-run cutover to continue (raise --timeout)',
        );
      }
    }
    steps.end(s4);

    // 5. sequences / AUTO_INCREMENT
    const s5 = steps.begin(5, STEP_TITLES[4]!);
    const autoColumns = await admin.autoColumns(pairs.map((p) => p.source));
    const actions = await planSequences(targetDb, pairs, autoColumns);
    let failed = false;
    for (const a of actions) {
      const where = `${a.target}.${a.column} (${a.generator} at the source)`;
      if (a.kind === 'unsupported') {
        s5.warnings.push(`${where}: ${a.note}`);
        continue;
      }
      s5.statements.push(...a.statements.map((s) => s.display));
      if (a.alreadyDone) {
        s5.lines.push(`${where}: ${a.note}`);
      } else if (dryRun) {
        s5.lines.push(`${where}: planned — ${a.note} (values as of now)`);
      } else {
        try {
          await applySequenceAction(targetDb, a);
          s5.lines.push(`${where}: ${a.note}`);
        } catch (err) {
          failed = true;
          s5.warnings.push(`${where}: failed: ${(err as Error).message}`);
        }
      }
    }
    for (const c of autoColumns) if (c.note) s5.warnings.push(`${tableName(c.table)}.${c.column}: ${c.note}`);
    if (actions.length === 0) s5.lines.push('no captured column generates its values at the source');
    const pending = actions.filter((a) => !a.alreadyDone && a.kind !== 'unsupported');
    s5.status = failed
      ? 'failed'
      : dryRun && pending.length > 0
        ? 'planned'
        : pending.length === 0 && actions.length > 0
          ? 'already done'
          : 'done';
    outcome.sequences = actions.map(publicAction);
    steps.end(s5);
    if (failed) {
      skipRest(6);
      return finish('moving sequences / AUTO_INCREMENT on the target failed (see step 5)');
    }

    // 6. verify
    const s6 = steps.begin(6, STEP_TITLES[5]!);
    if (dryRun) {
      s6.status = 'planned';
      s6.lines.push(`would run ferry verify on ${pairs.length} table(s)`);
      steps.end(s6);
      return finish(null);
    }
    const recheckDeadline = () => Date.now() + Math.max(30_000, timeoutMs / 4);
    const report = await verifyPipeline(config, {
      ...opts.verify,
      logger: opts.logger,
      waitFor: async () => {
        await waitCaughtUp(config, admin, kafka, final, recheckDeadline(), opts);
      },
    });
    outcome.verify = report;
    const differ = report.tables.filter((t) => !t.equal);
    s6.status = report.equal ? 'done' : 'failed';
    s6.lines.push(
      report.equal
        ? `${report.tables.length} table(s) equal`
        : `${differ.length} of ${report.tables.length} table(s) differ: ${differ.map((t) => t.source).join(', ')}`,
    );
    steps.end(s6);
    outcome.ok = report.equal;
    return finish(report.equal ? null : 'the target differs from the source (see the verify report)');
  } finally {
    await targetDb?.close();
    await admin.close();
  }
}

export const STEP_TITLES = [
  'lag',
  'source read-only',
  'final source position',
  'wait for the pipeline',
  'sequences / AUTO_INCREMENT on the target',
  'verify',
] as const;

function nextSteps(o: CutoverOutcome, configArg: string): string[] {
  const undo = `ferry cutover -c ${configArg} --rollback`;
  const readOnly = o.source.readOnly === 'set' || o.source.readOnly === 'already';
  if (o.dryRun) return [`run \`ferry cutover -c ${configArg}\` (with --yes without a terminal) to do it`];
  if (o.ok) {
    return [
      `switch the application to the target: ${o.target.url}`,
      `tables: ${o.target.tables.join(', ')}`,
      'the pipeline can be stopped now (Ctrl-C or SIGTERM to `ferry run`; offsets are stored)',
      readOnly
        ? `the source stays read-only; to make it writable again: ${undo}`
        : 'the source was not switched read-only: keep its writers stopped',
    ];
  }
  const lines = ['do not switch the application yet'];
  if (readOnly)
    lines.push(`the source stays read-only; re-run cutover to continue, or make it writable again: ${undo}`);
  else lines.push('re-run cutover to continue');
  if (o.verify && !o.verify.equal) lines.push(`look at the differences with \`ferry verify -c ${configArg}\``);
  return lines;
}

/** `ferry cutover --rollback`: switches read-only off on the source again. */
export async function rollbackReadOnly(
  config: PipelineConfig,
  opts: { sourceAdminUrl?: string; dryRun?: boolean },
): Promise<RollbackOutcome> {
  const endpoint = sourceAdminEndpoint(config, opts.sourceAdminUrl);
  const db = await connectCutoverDb(endpoint);
  const admin = adminFor(config, db);
  try {
    const statement = admin.readOnlyStatement(false);
    const base = {
      pipeline: config.name,
      ok: true,
      dryRun: opts.dryRun === true,
      source: { kind: config.source.kind, server: describeEndpoint(endpoint) },
      statement,
    };
    if (!(await admin.isReadOnly())) {
      return { ...base, result: 'already writable', lines: ['the source is not read-only; nothing to do'] };
    }
    if (opts.dryRun) return { ...base, result: 'planned', lines: [`would run: ${statement}`] };
    try {
      await admin.setReadOnly(false, 60);
    } catch (err) {
      if (isPrivilegeError(err)) {
        throw new FerryError(
          'FERRY_AUTH',
          `${endpoint.user} may not switch read-only off (${(err as Error).message}); pass --source-admin-url ` +
            'with a user that may',
          { cause: err },
        );
      }
      throw err;
    }
    const lines = [`ran: ${statement}`, 'the source accepts writes again'];
    if (config.source.kind === 'postgres')
      lines.push('sessions opened while it was read-only stay read-only until they reconnect');
    return { ...base, result: 'writable', lines };
  } finally {
    await admin.close();
  }
}
