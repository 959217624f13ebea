/**
 * Transaction mode under SIGKILL (docs/transactions.md): the bank-transfer workload runs while
 * the sink process is killed three times in the middle of applying (a target transaction
 * open), each time restarted. A reader polls the target in REPEATABLE READ throughout: every
 * read keeps the bank's rules (whole source transactions only, none applied twice), and at the
 * end `ferry verify` finds the target equal to the source.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bankConfig,
  createBank,
  openAccounts,
  readTarget,
  sourceState,
  startReader,
  startRole,
  startTransfers,
} from '../helpers/bank.js';
import { ensureCliBuilt, type FerryProcess, pipelineEnv, runFerry, testDir } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { pgSuper, uniqueName } from '../helpers/sandbox.js';

describe('transaction mode: sink SIGKILLed mid-apply', () => {
  beforeAll(() => ensureCliBuilt(), 300_000);

  it('holds the invariant in every read across three kills; verify equal at the end', async () => {
    const name = uniqueName('bank_kill');
    const db = `${name}_src`;
    const dir = testDir(name);
    const env = pipelineEnv();
    await createBank(db);
    const config = bankConfig(dir, { name, db, consistency: 'transaction', batchSize: 20 });
    const source = startRole('source', config, env);
    let sink: FerryProcess = startRole('sink', config, env);
    const reader = startReader(db);
    const pgc = await pgSuper();
    let kills = 0;
    let result: Awaited<ReturnType<typeof reader.stop>>;
    try {
      await source.waitForOutput(/snapshot of a table done[\s\S]*snapshot of a table done/, 180_000);
      await openAccounts(db);
      const transfers = startTransfers(db, 4);
      for (let i = 0; i < 3; i++) {
        const before = (await readTarget(pgc, db))?.ledger ?? 0;
        // Wait until the sink applies, then for a moment inside one of its target transactions.
        await pollUntil(
          'the sink to apply more transfers',
          async () => ((await readTarget(pgc, db))?.ledger ?? 0) > before + 20,
          120_000,
          50,
        );
        await pollUntil(
          'the sink inside a target transaction',
          async () => {
            const res = await pgc.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ferry-sink' " +
                "AND xact_start IS NOT NULL AND state <> 'idle'",
            );
            return res.rows[0].n > 0;
          },
          30_000,
          2,
        );
        await sink.stop('SIGKILL');
        kills++;
        sink = startRole('sink', config, env);
      }
      await pollUntil('1000 transfers at the source', async () => (await sourceState(db)).ledger >= 1000, 180_000, 200);
      await transfers.stop();
      const want = await sourceState(db);
      await pollUntil(
        'the target to hold every transfer',
        async () => {
          const r = await readTarget(pgc, db);
          return r !== null && r.ledger === want.ledger && r.touches === want.touches;
        },
        240_000,
        250,
      );
    } finally {
      result = await reader.stop();
      await pgc.end();
      await Promise.all([source.stop('SIGTERM'), sink.stop('SIGTERM')]);
    }
    process.stderr.write(`[bank kill] ${kills} kills, ${result.reads} reads, ${result.bad.length} broke the rules\n`);
    expect(kills).toBe(3);
    expect(result.reads).toBeGreaterThan(20);
    expect(result.bad).toEqual([]);
    const verify = await runFerry(['verify', '-c', config], env, 120_000);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 600_000);
});
