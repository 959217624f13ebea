/** `ferry cutover --rollback`: switches read-only off on the source again. */
import { FerryError } from '../api/errors.js';
import type { PipelineConfig } from '../config/index.js';
import { connectCutoverDb, describeEndpoint, isPrivilegeError } from './db.js';
import { sourceAdminEndpoint, sourceAdminFor } from './endpoints.js';
import type { RollbackOutcome } from './types.js';

export async function rollbackReadOnly(
  config: PipelineConfig,
  opts: { sourceAdminUrl?: string; dryRun?: boolean },
): Promise<RollbackOutcome> {
  const endpoint = sourceAdminEndpoint(config, opts.sourceAdminUrl);
  const db = await connectCutoverDb(endpoint);
  const admin = sourceAdminFor(config, db);
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
