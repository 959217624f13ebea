/**
 * Cutover step 2, read-only: switch writes off at the source or, where ferry may not or must not
 * (--no-read-only, source and target on one server, no privilege), have the user confirm that
 * they stopped. Then lists the other sessions on the source.
 */
import { FerryError } from '../api/errors.js';
import { isPrivilegeError } from './db.js';
import { sharedServerReason } from './endpoints.js';
import { type CutoverRun, STEP_TITLES } from './steps.js';
import type { ReadOnlyState } from './types.js';

export async function readOnlyStep(run: CutoverRun): Promise<string | null> {
  const { config, opts, dryRun, timeoutMs, adminEndpoint, admin, outcome, steps } = run;
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
        return 'stopped: writes to the source have not stopped; nothing was changed';
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
  return null;
}
