/**
 * Where the PostgreSQL binaries are and which OS user runs them. initdb and postgres refuse to run
 * as root, so when ferry runs as root (CI, containers) they run as the `postgres` OS user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../api/errors.js';

const PG_LIB = '/usr/lib/postgresql';

/**
 * The bin dir holding initdb and postgres: env FERRY_PG_BIN; else the major version a data dir was
 * made with (`preferMajor`), when installed; else the newest /usr/lib/postgresql/<major>/bin; else
 * `pg_config --bindir`.
 */
export function resolvePgBinDir(preferMajor?: string): string {
  const fromEnv = process.env['FERRY_PG_BIN'];
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'postgres')))
      throw new FerryError('FERRY_SANDBOX', `FERRY_PG_BIN=${fromEnv} holds no postgres binary.`);
    return fromEnv;
  }
  const installed = existsSync(PG_LIB)
    ? readdirSync(PG_LIB)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_LIB, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (preferMajor && installed.includes(preferMajor)) return join(PG_LIB, preferMajor, 'bin');
  if (installed[0]) return join(PG_LIB, installed[0], 'bin');
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (dir && existsSync(join(dir, 'postgres'))) return dir;
  } catch {
    // no pg_config either
  }
  throw new FerryError(
    'FERRY_SANDBOX',
    'no PostgreSQL server binaries found (looked in FERRY_PG_BIN, /usr/lib/postgresql/*/bin, pg_config --bindir); install postgresql (e.g. apt-get install postgresql-15) or set FERRY_PG_BIN.',
  );
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The OS user to run PostgreSQL as: `postgres` when this process is root, else null (ourselves). */
export function pgOsUser(): OsUser | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid > 0) return { name: 'postgres', uid, gid };
  } catch {
    // fall through
  }
  throw new FerryError(
    'FERRY_SANDBOX',
    'running as root, PostgreSQL must run as another OS user but there is no `postgres` user; create one (useradd --system postgres) or run ferry as a normal user.',
  );
}

/** Whether `user` can reach (search) `dir`, i.e. every ancestor is traversable for it. */
export function canTraverse(dir: string, user: OsUser): boolean {
  const result = spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}
