import { describe, expect, it } from 'vitest';
import { binlogError, convert } from '../../connectors/mysql-source/binlog.js';
import { mysqlSourceConfigFromUrl } from '../../connectors/mysql-source/config.js';
import { binlogIndex, fromSourcePosition, positionAvailable } from '../../connectors/mysql-source/position.js';
import {
  globalPrivileges,
  replicationPrivilegeCheck,
  settingChecks,
  storedPositionCheck,
} from '../../connectors/mysql-source/preflight.js';
import { normalizeRaw } from '../../connectors/mysql-source/rows.js';

const good = {
  logBin: 'ON',
  binlogFormat: 'ROW',
  rowImage: 'FULL',
  rowMetadata: 'FULL',
  serverId: 1,
  version: '10.11.19-MariaDB',
};

describe('MySQL preflight checks', () => {
  it('passes a CDC-ready server', () => {
    expect(settingChecks(good).every((c) => c.ok)).toBe(true);
  });

  it('names each wrong setting with its fix', () => {
    const checks = settingChecks({
      ...good,
      logBin: 'OFF',
      binlogFormat: 'STATEMENT',
      rowImage: 'MINIMAL',
      rowMetadata: null,
    });
    const failed = checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual([
      'binlog enabled',
      'binlog_format',
      'binlog_row_image',
      'binlog_row_metadata',
    ]);
    expect(failed[1]).toMatchObject({ detail: 'binlog_format is STATEMENT' });
    expect(failed[1]!.fix).toContain("SET GLOBAL binlog_format = 'ROW'");
    expect(failed[3]!.fix).toContain('MariaDB 10.5+');
  });

  it('reads replication privileges from SHOW GRANTS (MariaDB names included)', () => {
    const maria = ['GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `ferry`@`%`'];
    expect(replicationPrivilegeCheck(maria).ok).toBe(true);
    expect(replicationPrivilegeCheck(['GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION']).ok).toBe(true);
    const missing = replicationPrivilegeCheck([
      'GRANT SELECT ON *.* TO `u`@`%`',
      'GRANT ALL PRIVILEGES ON `shop`.* TO `u`@`%`',
    ]);
    expect(missing.ok).toBe(false);
    expect(missing.fix).toBe('GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO <user>');
    expect(globalPrivileges(['GRANT USAGE ON *.* TO `u`@`%`'])).toEqual(new Set(['USAGE']));
  });

  it('checks that the stored position is still on the same server', () => {
    const logs = [
      { name: 'binlog.000005', size: 500 },
      { name: 'binlog.000006', size: 900 },
    ];
    const stored = (file: string, pos: number, serverId = 1) => ({
      phase: 'stream' as const,
      position: { file, pos, gtid: '0-1-9', serverId },
      writtenAt: 0,
    });
    expect(storedPositionCheck(stored('binlog.000006', 800), logs, 1).ok).toBe(true);
    const purged = storedPositionCheck(stored('binlog.000002', 300), logs, 1);
    expect(purged.ok).toBe(false);
    expect(purged.detail).toContain(
      'binlog file binlog.000002 is no longer on the server (purged; the oldest binlog is binlog.000005)',
    );
    expect(purged.fix).toContain('--resnapshot');
    expect(storedPositionCheck(stored('binlog.000006', 800, 2), logs, 1).detail).toContain('belongs to server_id 2');
    expect(positionAvailable({ file: 'binlog.000006', pos: 901, gtid: null, serverId: 1 }, logs).ok).toBe(false);
  });

  it('parses positions and config URLs', () => {
    expect(fromSourcePosition({ file: 'binlog.000001', pos: 4 })).toEqual({
      file: 'binlog.000001',
      pos: 4,
      gtid: null,
      serverId: null,
    });
    expect(() => fromSourcePosition({ lsn: '0/1' })).toThrow(/not a MySQL binlog position/);
    expect(binlogIndex('binlog.000012')).toBe(12);
    expect(mysqlSourceConfigFromUrl('mysql://fe%40rry:p%2Fw@db.local:3307/shop', { serverId: 7 })).toEqual({
      host: 'db.local',
      port: 3307,
      user: 'fe@rry',
      password: 'p/w',
      serverId: 7,
    });
  });
});

describe('binlog reader helpers', () => {
  const o = {
    config: { host: 'h', port: 1, user: 'u', serverId: 9 },
    start: { file: 'binlog.000001', pos: 4, gtid: null, serverId: 1 },
  };

  it('sorts errors: lost position and auth stop, connection trouble is retried', () => {
    expect(binlogError(Object.assign(new Error('Could not find first log file'), { errno: 1236 }), o)).toMatchObject({
      code: 'FERRY_POSITION_LOST',
      retriable: false,
    });
    expect(binlogError(Object.assign(new Error('denied'), { errno: 1045 }), o)).toMatchObject({
      code: 'FERRY_AUTH',
      retriable: false,
    });
    expect(
      binlogError(Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), o),
    ).toMatchObject({
      code: 'FERRY_CONNECTION',
      retriable: true,
    });
    expect(binlogError(new Error('Unsupported type "255"'), o)).toMatchObject({
      code: 'FERRY_DECODE',
      retriable: false,
    });
  });

  it('converts zongji events into plain binlog events', () => {
    const keys = new Map<number, string[]>();
    const ev = (name: string, fields: Record<string, unknown>) =>
      ({ getEventName: () => name, timestamp: 1000, nextPosition: 77, ...fields }) as never;
    expect(convert(ev('rotate', { binlogName: 'binlog.000002', position: 4 }), keys)).toEqual({
      type: 'rotate',
      file: 'binlog.000002',
      position: 4,
    });
    expect(convert(ev('tablemap', { tableId: 5, primaryKey: [1], columnNames: ['a', 'id'] }), keys)).toBeNull();
    const tableMap = {
      5: { parentSchema: 'db', tableName: 't', columnSchemas: [{ COLUMN_NAME: 'a', COLUMN_TYPE: 'int' }] },
    };
    expect(convert(ev('writerows', { tableId: 5, tableMap, rows: [{ a: 1 }] }), keys)).toEqual({
      type: 'rows',
      op: 'write',
      db: 'db',
      table: 't',
      columns: [{ name: 'a', type: 'int' }],
      primaryKey: ['id'],
      rows: [{ a: 1 }],
      timestamp: 1000,
    });
    expect(convert(ev('xid', {}), keys)).toEqual({ type: 'xid', timestamp: 1000, nextPosition: 77 });
  });

  it('fixes zongji value quirks before encoding', () => {
    const col = (kind: 'year' | 'enum' | 'uuid') => ({ name: 'c', kind, sourceType: kind, nullable: true });
    expect(normalizeRaw(col('year'), 1900)).toBe(0);
    expect(normalizeRaw(col('enum'), undefined)).toBe('');
    expect(normalizeRaw(col('uuid'), Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'))).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    );
  });
});
