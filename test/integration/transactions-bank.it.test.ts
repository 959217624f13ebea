/**
 * Transaction mode against row mode on a bank-transfer workload (docs/transactions.md):
 * concurrent MariaDB transactions move amounts between accounts and write a ledger row, while a
 * reader polls the PostgreSQL target in REPEATABLE READ. With sink.consistency: transaction no
 * read ever breaks the bank's rules; the same pipeline in row mode shows a read that does
 * (each event applied in its own target transaction, batchSize 1), so the check can fail.
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
import { ensureCliBuilt, pipelineEnv, runFerry, testDir } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { pgSuper, uniqueName } from '../helpers/sandbox.js';

async function runBank(consistency: 'row' | 'transaction') {
  const name = uniqueName(`bank_${consistency === 'row' ? 'row' : 'txn'}`);
  const db = `${name}_src`;
  const dir = testDir(name);
  const env = pipelineEnv();
  await createBank(db);
  const config = bankConfig(dir, { name, db, consistency, batchSize: 1 });
  const source = startRole('source', config, env);
  const sink = startRole('sink', config, env);
  const reader = startReader(db);
  let result: Awaited<ReturnType<typeof reader.stop>>;
  try {
    // Both (empty) tables snapshotted: the stream captures everything from here on.
    await source.waitForOutput(/snapshot of a table done[\s\S]*snapshot of a table done/, 180_000);
    await openAccounts(db);
    const transfers = startTransfers(db, 4);
    // Enough transfers for many reads in between.
    await pollUntil('300 transfers at the source', async () => (await sourceState(db)).ledger >= 300, 120_000, 200);
    const made = await transfers.stop();
    expect(made).toBeGreaterThanOrEqual(300);
    const want = await sourceState(db);
    const pgc = await pgSuper();
    try {
      await pollUntil(
        'the target to hold every transfer',
        async () => {
          if (sink.child.exitCode !== null) throw new Error(`the sink exited: ${sink.stderr()}`);
          const r = await readTarget(pgc, db);
          return r !== null && r.ledger === want.ledger && r.touches === want.touches;
        },
        180_000,
        250,
        (err) => (err as Error).message.startsWith('the sink exited'),
      );
    } finally {
      await pgc.end();
    }
  } finally {
    result = await reader.stop();
    await Promise.all([source.stop('SIGTERM'), sink.stop('SIGTERM')]);
  }
  const verify = await runFerry(['verify', '-c', config], env, 120_000);
  process.stderr.write(
    `[bank ${consistency}] ${result.reads} reads of the target, ${result.bad.length} broke the rules\n`,
  );
  return { result, verify };
}

describe('sink.consistency on a bank-transfer workload', () => {
  beforeAll(() => ensureCliBuilt(), 300_000);

  it('transaction: every consistent read of the target keeps the total balance and the ledger', async () => {
    const { result, verify } = await runBank('transaction');
    expect(result.reads).toBeGreaterThan(20);
    expect(result.bad).toEqual([]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 420_000);

  it('row: the same workload shows reads the source never had (the check can fail)', async () => {
    const { result, verify } = await runBank('row');
    expect(result.reads).toBeGreaterThan(20);
    expect(result.bad.length).toBeGreaterThan(0);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 420_000);
});
