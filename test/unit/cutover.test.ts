import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { runCli } from '../../src/cli/program.js';
import { configFromObject } from '../../src/config/index.js';
import { maskedTargetUrl, sharedServerReason, sourceAdminEndpoint, targetEndpoint } from '../../src/cutover/cutover.js';
import { isPrivilegeError } from '../../src/cutover/db.js';
import {
  binlogEventTouchesCapture,
  compareBinlog,
  describeFinal,
  lsnBytesBehind,
  lsnReached,
  mentionsName,
  storedBinlogPosition,
  tableMapNames,
} from '../../src/cutover/positions.js';
import { cutoverJson, formatCutover, formatStep } from '../../src/cutover/report.js';
import {
  type MysqlTargetColumn,
  maxOf,
  nextAfter,
  type PgTargetColumn,
  planMysqlColumn,
  planPostgresColumn,
  sequenceNameFor,
} from '../../src/cutover/sequences.js';
import type { SourceAutoColumn } from '../../src/cutover/source.js';
import { bypassPrivileges, granteeOf } from '../../src/cutover/source-mysql.js';
import { parseTextArray, readOnlyInSettings } from '../../src/cutover/source-postgres.js';
import type { CutoverOutcome } from '../../src/cutover/types.js';
import { captureIo } from '../helpers/capture-io.js';

const filter = (include: string[], exclude: string[] = []) => ({
  include,
  exclude,
  excludeColumns: [],
  keyColumns: {},
});

describe('cutover positions', () => {
  it('compares binlog positions across files of one base name only', () => {
    expect(compareBinlog({ file: 'binlog.000003', pos: 10 }, { file: 'binlog.000003', pos: 10 })).toBe(0);
    expect(compareBinlog({ file: 'binlog.000003', pos: 9 }, { file: 'binlog.000003', pos: 10 })).toBe(-1);
    expect(compareBinlog({ file: 'binlog.000004', pos: 4 }, { file: 'binlog.000003', pos: 900 })).toBe(1);
    expect(compareBinlog({ file: 'binlog.000009', pos: 4 }, { file: 'binlog.000010', pos: 4 })).toBe(-1);
    expect(compareBinlog({ file: 'mysql-bin.000009', pos: 4 }, { file: 'binlog.000010', pos: 4 })).toBeNull();
  });

  it('reads a stored MySQL position and PostgreSQL LSNs', () => {
    expect(storedBinlogPosition({ file: 'binlog.000001', pos: 42, gtid: null })).toEqual({
      file: 'binlog.000001',
      pos: 42,
    });
    expect(storedBinlogPosition({ lsn: '0/16B3748' })).toBeNull();
    expect(lsnReached({ lsn: '0/16B3748' }, '0/16B3748')).toBe(true);
    expect(lsnReached({ lsn: '1/0' }, '0/FFFFFFFF')).toBe(true);
    expect(lsnReached({ lsn: '0/16B3747' }, '0/16B3748')).toBe(false);
    expect(lsnReached({ file: 'x' }, '0/1')).toBe(false);
    expect(lsnBytesBehind({ lsn: '0/100' }, '0/180')).toBe(128);
    expect(lsnBytesBehind({ lsn: '0/200' }, '0/180')).toBe(0);
    expect(describeFinal({ kind: 'mysql', file: 'binlog.000002', pos: 7, gtid: '0-1-5' })).toBe(
      'binlog.000002:7 (GTID 0-1-5)',
    );
    expect(describeFinal({ kind: 'postgres', lsn: '0/5' })).toBe('LSN 0/5');
  });

  it('names the tables of a Table_map event, dots and all', () => {
    expect(tableMapNames('table_id: 22 (shop.orders)')).toEqual([{ db: 'shop', table: 'orders' }]);
    expect(tableMapNames('table_id: 22 (a.b.c)')).toEqual([
      { db: 'a', table: 'b.c' },
      { db: 'a.b', table: 'c' },
    ]);
    expect(tableMapNames('no parentheses')).toEqual([]);
  });

  it('tells binlog events that may carry captured changes from the rest', () => {
    const f = filter(['shop.*'], ['shop.tmp_*']);
    const ev = (type: string, info: string) => ({ file: 'binlog.000001', pos: 4, endPos: 10, type, info });
    expect(binlogEventTouchesCapture(ev('Table_map', 'table_id: 1 (shop.orders)'), f)).toBe(true);
    expect(binlogEventTouchesCapture(ev('Table_map', 'table_id: 1 (shop.tmp_x)'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Table_map', 'table_id: 1 (other.orders)'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Table_map', 'table_id: 1'), f)).toBe(true);
    expect(binlogEventTouchesCapture(ev('Write_rows_v1', 'table_id: 1 flags: STMT_END_F'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Query', 'BEGIN'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Query', 'COMMIT'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Query', 'ALTER TABLE shop.orders ADD c INT'), f)).toBe(true);
    expect(binlogEventTouchesCapture(ev('Query', 'use `shop`; TRUNCATE orders'), f)).toBe(true);
    expect(binlogEventTouchesCapture(ev('Query', 'CREATE TABLE shop_archive.t (id INT)'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Query', 'CREATE USER x'), f)).toBe(false);
    expect(binlogEventTouchesCapture(ev('Xid', 'COMMIT /* xid=5 */'), f)).toBe(false);
    // A wildcard database: any table DDL may concern a captured table.
    expect(binlogEventTouchesCapture(ev('Query', 'CREATE TABLE x.t (id INT)'), filter(['*.orders']))).toBe(true);
  });

  it('matches names as whole identifiers', () => {
    expect(mentionsName('ALTER TABLE `shop`.t', 'shop')).toBe(true);
    expect(mentionsName('ALTER TABLE shop_2.t', 'shop')).toBe(false);
    expect(mentionsName('ALTER TABLE my.shop', 'shop')).toBe(true);
    expect(mentionsName('x', 'a.b')).toBe(false);
  });
});

const src = (column: string, highestIssued: string | null, generator = 'auto_increment'): SourceAutoColumn => ({
  table: { db: 'shop', table: 'orders' },
  column,
  generator,
  highestIssued,
});

function pgCol(over: Partial<PgTargetColumn> = {}): PgTargetColumn {
  return {
    type: 'integer',
    notNull: true,
    identity: false,
    defaultExpr: null,
    sequence: null,
    max: '41',
    freeSequenceName: 'orders_id_seq',
    ...over,
  };
}

describe('cutover: PostgreSQL target keys', () => {
  const target = { db: 'shop', table: 'orders' };

  it('adds an identity past the highest id to an integer NOT NULL column', () => {
    const a = planPostgresColumn(src('id', '45'), target, pgCol());
    expect(a.kind).toBe('add-identity');
    expect(a.highest).toBe('45');
    expect(a.next).toBe('46');
    expect(a.statements.map((s) => s.sql)).toEqual([
      'ALTER TABLE "shop"."orders" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 46)',
    ]);
  });

  it('starts at 1 on an empty table whose source counter was never used', () => {
    const a = planPostgresColumn(src('id', null), target, pgCol({ max: null }));
    expect(a.next).toBe('1');
    expect(a.statements[0]?.sql).toContain('START WITH 1)');
  });

  it('quotes odd identifiers', () => {
    const a = planPostgresColumn(src('i"d', '1'), { db: 'My Shop', table: 'or"ders' }, pgCol());
    expect(a.statements[0]?.sql).toBe(
      'ALTER TABLE "My Shop"."or""ders" ALTER COLUMN "i""d" ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 42)',
    );
  });

  it('creates an owned sequence for numeric(20,0) (MySQL BIGINT UNSIGNED) in one transaction', () => {
    const a = planPostgresColumn(src('id', '10'), target, pgCol({ type: 'numeric(20,0)', max: '9' }));
    expect(a.kind).toBe('create-sequence');
    expect(a.transactional).toBe(true);
    expect(a.next).toBe('11');
    expect(a.statements.map((s) => s.sql)).toEqual([
      'CREATE SEQUENCE "shop"."orders_id_seq" START WITH 11',
      'ALTER SEQUENCE "shop"."orders_id_seq" OWNED BY "shop"."orders"."id"',
      `ALTER TABLE "shop"."orders" ALTER COLUMN "id" SET DEFAULT nextval('"shop"."orders_id_seq"'::regclass)`,
    ]);
  });

  it('moves an existing sequence with setval (parameters, not pasted values), or leaves it when ahead', () => {
    const sequence = {
      schema: 'shop',
      name: 'orders_id_seq',
      qualified: '"shop"."orders_id_seq"',
      lastValue: '20',
      isCalled: true,
      highestIssued: '20',
    };
    const a = planPostgresColumn(src('id', '45'), target, pgCol({ identity: true, sequence }));
    expect(a.kind).toBe('setval');
    expect(a.alreadyDone).toBe(false);
    expect(a.statements[0]).toEqual({
      sql: 'SELECT setval($1::regclass, $2::bigint, true)',
      params: ['"shop"."orders_id_seq"', '45'],
      display: `SELECT setval('"shop"."orders_id_seq"'::regclass, 45, true)`,
    });
    const ahead = planPostgresColumn(
      src('id', '45'),
      target,
      pgCol({ identity: true, sequence: { ...sequence, lastValue: '46', isCalled: false, highestIssued: '45' } }),
    );
    expect(ahead.alreadyDone).toBe(true);
    expect(ahead.statements).toEqual([]);
    expect(ahead.next).toBe('46');
  });

  it('leaves columns it cannot serve alone, saying why', () => {
    expect(planPostgresColumn(src('id', '1'), target, null).kind).toBe('unsupported');
    expect(planPostgresColumn(src('id', '1'), target, pgCol({ defaultExpr: "'x'::text" })).note).toContain(
      'not a sequence',
    );
    expect(planPostgresColumn(src('id', '1'), target, pgCol({ type: 'text' })).kind).toBe('unsupported');
    const full = planPostgresColumn(src('id', '32767'), target, pgCol({ type: 'smallint' }));
    expect(full.kind).toBe('unsupported');
    expect(full.note).toContain('does not fit');
    // A nullable integer cannot take an identity: a sequence default instead.
    expect(planPostgresColumn(src('id', '1'), target, pgCol({ notNull: false })).kind).toBe('create-sequence');
  });

  it('shortens sequence names to 63 bytes', () => {
    expect(sequenceNameFor('orders', 'id')).toBe('orders_id_seq');
    const long = sequenceNameFor('t'.repeat(60), 'id', '2');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long.endsWith('_id_seq2')).toBe(true);
  });

  it('computes highest and next values exactly', () => {
    expect(maxOf('9', null, '18446744073709551615', undefined, 'x')).toBe('18446744073709551615');
    expect(maxOf(null)).toBeNull();
    expect(nextAfter('18446744073709551615')).toBe('18446744073709551616');
    expect(nextAfter('-5')).toBe('1');
    expect(nextAfter(null)).toBe('1');
  });
});

function myCol(over: Partial<MysqlTargetColumn> = {}): MysqlTargetColumn {
  return {
    columnType: 'int(11)',
    notNull: true,
    autoIncrement: false,
    otherAutoColumn: null,
    leadsIndex: true,
    comment: '',
    nextAutoIncrement: null,
    max: '41',
    ...over,
  };
}

describe('cutover: MySQL target keys', () => {
  const target = { db: 'shop', table: 'orders' };

  it('makes an integer key column AUTO_INCREMENT past the highest id, keeping id 0 rows', () => {
    const a = planMysqlColumn(src('id', '50', 'identity'), target, myCol({ comment: "it's" }));
    expect(a.kind).toBe('make-auto-increment');
    expect(a.next).toBe('51');
    expect(a.statements.map((s) => s.sql)).toEqual([
      "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')",
      "ALTER TABLE `shop`.`orders` MODIFY COLUMN `id` int(11) NOT NULL AUTO_INCREMENT COMMENT 'it''s', AUTO_INCREMENT = 51",
    ]);
  });

  it('quotes odd identifiers with backticks', () => {
    const a = planMysqlColumn(
      src('i`d', '1'),
      { db: 'my db', table: 'or`ders' },
      myCol({ columnType: 'bigint(20) unsigned' }),
    );
    expect(a.statements[1]?.sql).toBe(
      'ALTER TABLE `my db`.`or``ders` MODIFY COLUMN `i``d` bigint(20) unsigned NOT NULL AUTO_INCREMENT, AUTO_INCREMENT = 42',
    );
  });

  it('moves an existing AUTO_INCREMENT, or leaves it when ahead', () => {
    const a = planMysqlColumn(src('id', '60'), target, myCol({ autoIncrement: true, nextAutoIncrement: '42' }));
    expect(a.kind).toBe('auto-increment');
    expect(a.statements.map((s) => s.sql)).toEqual(['ALTER TABLE `shop`.`orders` AUTO_INCREMENT = 61']);
    const ahead = planMysqlColumn(src('id', '60'), target, myCol({ autoIncrement: true, nextAutoIncrement: '70' }));
    expect(ahead.alreadyDone).toBe(true);
    expect(ahead.next).toBe('70');
  });

  it('leaves columns it cannot serve alone, saying why', () => {
    expect(planMysqlColumn(src('id', '1'), target, null).kind).toBe('unsupported');
    expect(planMysqlColumn(src('id', '1'), target, myCol({ columnType: 'decimal(20,0)' })).note).toContain(
      'cannot be AUTO_INCREMENT',
    );
    expect(planMysqlColumn(src('id', '1'), target, myCol({ leadsIndex: false })).kind).toBe('unsupported');
    expect(planMysqlColumn(src('id', '1'), target, myCol({ otherAutoColumn: 'seq' })).note).toContain('seq');
  });

  it('an empty table and an unused source counter: AUTO_INCREMENT without a start value', () => {
    const a = planMysqlColumn(src('id', null), target, myCol({ max: null }));
    expect(a.statements[1]?.sql).toBe('ALTER TABLE `shop`.`orders` MODIFY COLUMN `id` int(11) NOT NULL AUTO_INCREMENT');
  });
});

describe('cutover: sources', () => {
  it('MySQL grantees and the privileges that bypass read_only', () => {
    expect(granteeOf('root@%')).toBe("'root'@'%'");
    expect(granteeOf('app@10.0.0.1')).toBe("'app'@'10.0.0.1'");
    expect(bypassPrivileges('mariadb')).toContain('READ_ONLY ADMIN');
    expect(bypassPrivileges('mysql')).toContain('SUPER');
  });

  it('PostgreSQL database settings', () => {
    expect(parseTextArray('{default_transaction_read_only=on,"search_path=a, b"}')).toEqual([
      'default_transaction_read_only=on',
      'search_path=a, b',
    ]);
    expect(parseTextArray('{}')).toEqual([]);
    expect(readOnlyInSettings(['search_path=x', 'default_transaction_read_only=on'])).toBe(true);
    expect(readOnlyInSettings(['default_transaction_read_only=off'])).toBe(false);
  });

  it('privilege errors are told from others', () => {
    expect(isPrivilegeError(new FerryError('FERRY_AUTH', 'x', { details: { errno: 1227 } }))).toBe(true);
    expect(isPrivilegeError(new FerryError('FERRY_AUTH', 'x', { details: { code: '42501' } }))).toBe(true);
    expect(isPrivilegeError(new FerryError('FERRY_PREFLIGHT', 'x', { details: { code: '25006' } }))).toBe(false);
    expect(isPrivilegeError(new Error('x'))).toBe(false);
  });
});

function config(source: string, sink: string, extra: Record<string, unknown> = {}) {
  return configFromObject({
    name: 'shop-move',
    kafka: { brokers: ['127.0.0.1:9092'] },
    source: { kind: source.startsWith('mysql') ? 'mysql' : 'postgres', url: source, tables: ['shop.*'] },
    sink: { kind: sink.startsWith('mysql') ? 'mysql' : 'postgres', url: sink, ...extra },
  });
}

describe('cutover: connections', () => {
  it('refuses read-only when it would stop the sink too', () => {
    expect(sharedServerReason(config('mysql://a:b@localhost:3306/shop', 'mysql://a:b@127.0.0.1:3306/x'))).toContain(
      'same MySQL server',
    );
    expect(sharedServerReason(config('mysql://a:b@db1:3306/shop', 'mysql://a:b@db2:3306/shop'))).toBeNull();
    expect(sharedServerReason(config('mysql://a:b@db1:3306/shop', 'postgres://a:b@db1:5432/shop'))).toBeNull();
    expect(sharedServerReason(config('postgres://a:b@db1:5432/shop', 'postgres://a:b@db1:5432/shop'))).toContain(
      'same PostgreSQL database',
    );
    expect(sharedServerReason(config('postgres://a:b@db1:5432/shop', 'postgres://a:b@db1:5432/new'))).toBeNull();
  });

  it('takes the admin user from --source-admin-url, the database from source.url for PostgreSQL', () => {
    const my = config('mysql://ferry:pw@db1:3306/shop', 'postgres://t:pw@db2:5432/shop');
    expect(sourceAdminEndpoint(my)).toMatchObject({ user: 'ferry', password: 'pw', host: 'db1', database: 'shop' });
    expect(sourceAdminEndpoint(my, 'mysql://root:s%40cret@db1:3307/')).toMatchObject({
      user: 'root',
      password: 's@cret',
      port: 3307,
      database: undefined,
    });
    const pg = config('postgres://ferry:pw@db1:5432/shop', 'mysql://t:pw@db2:3306/shop');
    expect(sourceAdminEndpoint(pg, 'postgres://postgres:x@db1:5432/postgres')).toMatchObject({
      user: 'postgres',
      database: 'shop',
    });
    expect(() => sourceAdminEndpoint(pg, 'mysql://root:x@db1/')).toThrow(/--source-admin-url/);
    expect(targetEndpoint(pg)).toMatchObject({ kind: 'mysql', host: 'db2', database: 'shop' });
  });

  it('prints the target URL with the password masked', () => {
    const c = config('mysql://ferry:pw@db1:3306/shop', 'postgres://app:T0p-secret@db2:5432/shop?sslmode=require');
    const url = maskedTargetUrl(c);
    expect(url).toBe('postgres://app:***@db2:5432/shop?sslmode=require');
  });
});

describe('cutover: report', () => {
  const outcome: CutoverOutcome = {
    pipeline: 'shop-move',
    ok: false,
    dryRun: true,
    error: null,
    source: { kind: 'mysql', server: 'mysql root@db1:3306', readOnly: 'planned' },
    finalPosition: null,
    lagEvents: 3,
    sequences: [],
    verify: null,
    target: { kind: 'postgres', url: 'postgres://app:***@db2:5432/shop', tables: ['shop.orders'] },
    steps: [
      {
        n: 2,
        title: 'source read-only',
        status: 'planned',
        lines: ['privileges: root@% has READ_ONLY ADMIN'],
        statements: ['SET GLOBAL read_only = ON'],
        warnings: ['sessions of users that read_only does not stop: root@% (1)'],
        seconds: 0.01,
      },
    ],
    next: ['run `ferry cutover -c p.yaml` to do it'],
    seconds: 1,
  };

  it('prints each step with what it would run and its warnings', () => {
    expect(formatStep(outcome.steps[0]!)).toEqual([
      '2. source read-only — plan',
      '   would run: SET GLOBAL read_only = ON',
      '   privileges: root@% has READ_ONLY ADMIN',
      '   ! sessions of users that read_only does not stop: root@% (1)',
    ]);
    const text = formatCutover(outcome);
    expect(text).toContain('DRY RUN: nothing was changed');
    expect(text).toContain('→ run `ferry cutover -c p.yaml` to do it');
    expect(JSON.parse(cutoverJson(outcome))).toEqual(outcome);
  });
});

describe('ferry cutover command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cutover-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = captureIo;
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'name: shop-move',
      'kafka: { brokers: ["127.0.0.1:1"] }',
      'source: { kind: mysql, url: "mysql://ferry:pw@127.0.0.1:1/shop", tables: ["shop.*"] }',
      'sink: { kind: postgres, url: "postgres://ferry:pw@127.0.0.1:1/shop" }',
    ].join('\n'),
  );

  it('is listed in ferry --help and documents its options', async () => {
    const a = io();
    expect(await runCli(['--help'], a)).toBe(0);
    expect(a.stdout.join('\n')).toMatch(/^\s+cutover\b/m);
    const b = io();
    expect(await runCli(['cutover', '--help'], b)).toBe(0);
    const help = b.stdout.join('\n');
    for (const opt of [
      '--dry-run',
      '--yes',
      '--no-read-only',
      '--timeout',
      '--json',
      '--source-admin-url',
      '--rollback',
    ]) {
      expect(help).toContain(opt);
    }
  });

  it('without a terminal and without --yes it stops before touching anything (exit 2)', async () => {
    const a = io();
    expect(await runCli(['cutover', '-c', file], a)).toBe(2);
    expect(a.stderr.join('\n')).toContain('pass --yes');
  });

  it('rejects a bad --timeout and a bad --source-admin-url (exit 2), never printing the password', async () => {
    const a = io();
    expect(await runCli(['cutover', '-c', file, '--timeout', 'soon'], a)).toBe(2);
    expect(a.stderr.join('\n')).toContain('--timeout');
    const b = io();
    expect(
      await runCli(['cutover', '-c', file, '--yes', '--source-admin-url', 'postgres://root:Hush-123@x/db'], b),
    ).toBe(2);
    expect(b.stderr.join('\n')).toContain('--source-admin-url');
    expect(b.stderr.join('\n') + b.stdout.join('\n')).not.toContain('Hush-123');
  });
});
