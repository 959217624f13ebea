/**
 * The sandbox's MariaDB (the MySQL-family source and target): its own data dir and port on
 * 127.0.0.1, binlog in ROW format with FULL row image and FULL row metadata (what ferry's binlog
 * source needs), GTIDs strict. Users: root (password, tests) and `ferry`@`%` (CDC privileges plus
 * DDL/DML everywhere, no SUPER). With --skip-name-resolve, TCP clients from 127.0.0.1 match `@'%'`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { FerryError } from '../api/errors.js';
import type { ServerContext, ServerDriver } from './driver.js';
import { logTail, spawnDetached, waitUntilReady } from './process.js';
import { sandboxCa } from './tls.js';
import type { SandboxInfo } from './types.js';

const execFileAsync = promisify(execFile);

const READY_TIMEOUT_MS = 60_000;

/** Global privileges of the `ferry` user. REPLICATION CLIENT is BINLOG MONITOR since 10.5 (SHOW MASTER STATUS, SHOW BINARY LOGS, SHOW BINLOG EVENTS). */
export const FERRY_MYSQL_PRIVILEGES = [
  'SELECT',
  'RELOAD',
  'SHOW DATABASES',
  'REPLICATION SLAVE',
  'BINLOG MONITOR',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'REFERENCES',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
  'EXECUTE',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
];

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/usr/local/mysql/bin'];

/** A MariaDB program: env FERRY_MARIADB_BIN (a dir), then PATH, then the usual sbin dirs. */
function binary(names: string[]): string {
  const dirs = [process.env['FERRY_MARIADB_BIN'], ...(process.env['PATH'] ?? '').split(':'), ...SEARCH_DIRS].filter(
    (d): d is string => !!d,
  );
  for (const name of names) {
    for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new FerryError(
    'FERRY_SANDBOX',
    `${names[0]} not found (looked in FERRY_MARIADB_BIN, PATH, ${SEARCH_DIRS.join(', ')}); install MariaDB (apt-get install mariadb-server) or set FERRY_MARIADB_BIN.`,
  );
}

const isRoot = () => process.getuid?.() === 0;

export function mariadbArgs(o: {
  dataDir: string;
  socket: string;
  port: number;
  binlogBase: string;
  logFile: string;
  /** A `--tls` sandbox: the server certificate, and TCP clients must use TLS (the unix socket counts as secure). */
  tls?: { ca: string; cert: string; key: string } | undefined;
}): string[] {
  return [
    '--no-defaults', // must come first: ignore /etc/mysql/my.cnf of the system server
    ...(isRoot() ? ['--user=root'] : []),
    `--datadir=${o.dataDir}`,
    `--socket=${o.socket}`,
    `--port=${o.port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    `--pid-file=${join(o.dataDir, 'mariadbd.pid')}`,
    `--log-error=${o.logFile}`,
    '--server-id=1',
    `--log-bin=${o.binlogBase}`,
    '--binlog-format=ROW',
    '--binlog-row-image=FULL',
    '--binlog-row-metadata=FULL',
    '--log-slave-updates',
    '--gtid-strict-mode=ON',
    '--innodb-flush-log-at-trx-commit=2',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    '--max-connections=300',
    ...(o.tls
      ? [`--ssl-ca=${o.tls.ca}`, `--ssl-cert=${o.tls.cert}`, `--ssl-key=${o.tls.key}`, '--require-secure-transport=ON']
      : []),
  ];
}

async function installDb(ctx: ServerContext): Promise<void> {
  const m = ctx.info.sandbox.servers.mysql;
  // A data dir without mysql/ is the rest of an interrupted install: start over.
  rmSync(m.dataDir, { recursive: true, force: true });
  mkdirSync(m.dataDir, { recursive: true });
  ctx.log(`mysql: mariadb-install-db ${m.dataDir}`);
  const args = [
    '--no-defaults',
    ...(isRoot() ? ['--user=root'] : []),
    `--datadir=${m.dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
  ];
  try {
    await execFileAsync(binary(['mariadb-install-db', 'mysql_install_db']), args, {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new FerryError(
      'FERRY_SANDBOX',
      `mariadb-install-db failed for ${m.dataDir}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      { cause: err },
    );
  }
}

const ACCESS_DENIED = 1045;
const IP_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '%']);

/** A root connection over the unix socket: with the sandbox password, or the empty one of a fresh install. */
async function rootConnection(info: SandboxInfo): Promise<mysql.Connection> {
  const socketPath = info.sandbox.servers.mysql.socket;
  try {
    return await mysql.createConnection({
      socketPath,
      user: 'root',
      password: info.mysql.rootPassword,
      connectTimeout: 3000,
    });
  } catch (err) {
    if ((err as { errno?: number }).errno !== ACCESS_DENIED) throw err;
  }
  try {
    return await mysql.createConnection({ socketPath, user: 'root', password: '', connectTimeout: 3000 });
  } catch (err) {
    if ((err as { errno?: number }).errno !== ACCESS_DENIED) throw err;
    throw new FerryError(
      'FERRY_SANDBOX',
      `MariaDB refused root with the password in sandbox.json: the data dir ${info.sandbox.servers.mysql.dataDir} was made for another sandbox.json. Run \`ferry sandbox down\` and delete the sandbox dir to start over.`,
      { cause: err },
    );
  }
}

/** Sets the root passwords and creates/refreshes the users (idempotent, kept out of the binlog). */
async function ensureUsers(conn: mysql.Connection, info: SandboxInfo): Promise<void> {
  const q = (sql: string, values: string[] = []) => conn.query(mysql.format(sql, values));
  await q('SET SESSION sql_log_bin = 0'); // account maintenance is not a change ferry should see
  const [roots] = (await q("SELECT Host FROM mysql.user WHERE User = 'root'")) as unknown as [Array<{ Host: string }>];
  for (const { Host } of roots) {
    // Host-name accounts (mariadb-install-db adds root@<hostname>) are unusable with
    // --skip-name-resolve, and ALTER USER fails on them (ER_CANNOT_USER): drop them.
    if (IP_HOSTS.has(Host)) await q('ALTER USER ?@? IDENTIFIED BY ?', ['root', Host, info.mysql.rootPassword]);
    else await q('DROP USER ?@?', ['root', Host]);
  }
  await q("CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ?", [info.mysql.rootPassword]);
  await q("ALTER USER 'root'@'%' IDENTIFIED BY ?", [info.mysql.rootPassword]);
  await q("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
  const [anonymous] = (await q("SELECT Host FROM mysql.user WHERE User = ''")) as unknown as [Array<{ Host: string }>];
  for (const { Host } of anonymous) await q("DROP USER ''@?", [Host]);
  await q('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [info.mysql.user, '%', info.mysql.password]);
  await q('ALTER USER ?@? IDENTIFIED BY ?', [info.mysql.user, '%', info.mysql.password]);
  await q(`GRANT ${FERRY_MYSQL_PRIVILEGES.join(', ')} ON *.* TO ?@?`, [info.mysql.user, '%']);
}

export const mariadbDriver: ServerDriver = {
  name: 'mysql',
  label: 'MariaDB',
  stopSignal: 'SIGTERM',
  marker: (info) => `--datadir=${info.sandbox.servers.mysql.dataDir}`,

  async launch(ctx) {
    const m = ctx.info.sandbox.servers.mysql;
    if (!existsSync(join(m.dataDir, 'mysql'))) await installDb(ctx);
    m.initialized = true;
    ctx.save();
    const binlogDir = join(ctx.layout.mariadbDir, 'binlog');
    mkdirSync(binlogDir, { recursive: true });
    mkdirSync(join(m.socket, '..'), { recursive: true });
    return spawnDetached(
      binary(['mariadbd', 'mysqld']),
      mariadbArgs({
        dataDir: m.dataDir,
        socket: m.socket,
        port: ctx.info.mysql.port,
        binlogBase: join(binlogDir, 'binlog'),
        logFile: m.logFile,
        tls: ctx.info.tls
          ? { ca: ctx.info.tls.caFile, cert: ctx.info.tls.certFile, key: ctx.info.tls.keyFile }
          : undefined,
      }),
      { logFile: m.logFile, pidFile: m.pidFile, cwd: ctx.layout.mariadbDir },
    );
  },

  async ready(ctx, pid) {
    const m = ctx.info.sandbox.servers.mysql;
    let root: mysql.Connection | undefined;
    await waitUntilReady({
      pid,
      timeoutMs: READY_TIMEOUT_MS,
      probe: async () => {
        root = await rootConnection(ctx.info);
        return true;
      },
      fail: (reason, lastError) =>
        new FerryError(
          'FERRY_SANDBOX',
          `MariaDB ${reason === 'died' ? 'exited while starting' : `did not accept connections on ${m.socket} within ${READY_TIMEOUT_MS / 1000} s`}` +
            ` (last error: ${(lastError as Error | undefined)?.message ?? 'none'}). See ${m.logFile}:\n${logTail(m.logFile)}`,
          { cause: lastError },
        ),
    });
    try {
      await ensureUsers(root!, ctx.info);
    } finally {
      await root?.end().catch(() => undefined);
    }
    const { host, port, user, password } = ctx.info.mysql;
    const ferry = await mysql
      .createConnection({
        host,
        port,
        user,
        password,
        connectTimeout: 5000,
        ...(ctx.info.tls ? { ssl: { ca: sandboxCa(ctx.info), rejectUnauthorized: true, verifyIdentity: true } } : {}),
      })
      .catch((err: unknown) => {
        throw new FerryError(
          'FERRY_SANDBOX',
          `MariaDB: the ferry user cannot connect over TCP ${host}:${port}: ${(err as Error).message}`,
          { cause: err },
        );
      });
    await ferry.end();
  },
};
