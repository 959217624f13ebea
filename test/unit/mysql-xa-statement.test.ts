/**
 * The MySQL source decoder and XA transactions (rows held until XA COMMIT, dropped on XA
 * ROLLBACK, the stored position held before an open prepared transaction) and DML written as a
 * statement (FERRY_STATEMENT_DML, or a warning with `statementDml: warn`).
 */
import { describe, expect, it } from 'vitest';
import { classifyStatement } from '../../connectors/mysql-source/ddl.js';
import { BinlogDecoder, type BinlogEvent, type DecodeResult } from '../../connectors/mysql-source/decode.js';
import { buildTableSchema } from '../../connectors/mysql-source/schema.js';
import { TableRegistry } from '../../connectors/mysql-source/table-registry.js';
import { parseXid, xidKey } from '../../connectors/mysql-source/xa.js';
import { captureAll, type SourceItem, type TableFilter } from '../../src/api/index.js';
import { infoColumn } from '../helpers/info-column.js';

const COLS = [infoColumn('id', 'int', 'int(11)', { nullable: false })];

function setup(statementDml?: 'fail' | 'warn') {
  const filter: TableFilter = { ...captureAll(), include: ['app.*'] };
  const registry = new TableRegistry(filter);
  const built = buildTableSchema('app', 't', COLS, ['id'], filter);
  if (!built.ok) throw new Error('schema');
  registry.replace([{ schema: built.schema, info: COLS }], []);
  const decoder = new BinlogDecoder({
    filter,
    start: { file: 'bin.000001', pos: 100, gtid: '0-1-1', serverId: 1 },
    serverId: 1,
    heartbeatMs: 0,
    registry,
    ...(statementDml ? { statementDml } : {}),
  });
  const results: DecodeResult[] = [];
  const feed = (...events: BinlogEvent[]): SourceItem[] =>
    events.flatMap((e) => {
      const r = decoder.handle(e);
      results.push(r);
      return r.items;
    });
  return { feed, results };
}

const write = (id: number): BinlogEvent => ({
  type: 'rows',
  op: 'write',
  db: 'app',
  table: 't',
  columns: [{ name: 'id', type: 'int' }],
  primaryKey: ['id'],
  rows: [{ id }],
  timestamp: 1000,
});
const query = (q: string, nextPosition: number): BinlogEvent => ({
  type: 'query',
  query: q,
  db: 'app',
  timestamp: 1000,
  nextPosition,
});
const XID_A = xidKey(1, Buffer.from('a'), Buffer.alloc(0));

/** A prepared XA group as MariaDB writes it. */
function prepared(gtid: string, ids: number[], at: number): BinlogEvent[] {
  return [
    { type: 'gtid', gtid, timestamp: 1000, xa: true },
    ...ids.map(write),
    query("XA END X'61',X'',1", at + 10),
    { type: 'xaprepare', xid: XID_A, onePhase: false, timestamp: 1000, nextPosition: at + 20 },
  ];
}

const ids = (items: SourceItem[]) =>
  items.flatMap((i) => (i.type === 'event' ? [(i.event.after as { id: number }).id] : []));
const positions = (items: SourceItem[]) =>
  items.flatMap((i) => (i.type === 'checkpoint' ? [`${i.position['file']}:${i.position['pos']}`] : []));

describe('MySQL source: XA transactions', () => {
  it('xa transactions: publishes a prepared transaction on XA COMMIT, holding the position until then', () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 });
    const atPrepare = feed(...prepared('0-1-2', [1, 2], 200));
    expect(ids(atPrepare)).toEqual([]);
    // Another transaction commits while the XA one is prepared: the position stays before it.
    const other = feed({ type: 'gtid', gtid: '0-1-3', timestamp: 1000 }, write(3), {
      type: 'xid',
      timestamp: 1000,
      nextPosition: 300,
    });
    expect(ids(other)).toEqual([3]);
    expect(positions(other)).toEqual(['bin.000001:100']);
    const commit = feed({ type: 'gtid', gtid: '0-1-4', timestamp: 1000 }, query("XA COMMIT X'61',X'',1", 400));
    expect(ids(commit)).toEqual([1, 2]);
    expect(positions(commit)).toEqual(['bin.000001:400']);
  });

  it('xa transactions: never publishes a prepared transaction that is rolled back', () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 }, ...prepared('0-1-2', [1], 200));
    const rollback = feed({ type: 'gtid', gtid: '0-1-3', timestamp: 1000 }, query("XA ROLLBACK X'61',X'',1", 300));
    expect(ids(rollback)).toEqual([]);
    expect(positions(rollback)).toEqual(['bin.000001:300']);
  });

  it('xa transactions: a prepared transaction without captured rows holds no position and warns of nothing', () => {
    const { feed, results } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 });
    feed({ type: 'gtid', gtid: '0-1-2', timestamp: 1000, xa: true }, query("XA END X'61',X'',1", 210), {
      type: 'xaprepare',
      xid: XID_A,
      onePhase: false,
      timestamp: 1000,
      nextPosition: 220,
    });
    const other = feed({ type: 'gtid', gtid: '0-1-3', timestamp: 1000 }, write(3), {
      type: 'xid',
      timestamp: 1000,
      nextPosition: 300,
    });
    expect(positions(other)).toEqual(['bin.000001:300']);
    feed({ type: 'gtid', gtid: '0-1-4', timestamp: 1000 }, query("XA COMMIT X'61',X'',1", 400));
    expect(results.at(-1)?.warnings).toBeUndefined();
    // An XA COMMIT of a transaction never seen prepared: a warning.
    feed({ type: 'gtid', gtid: '0-1-5', timestamp: 1000 }, query("XA COMMIT X'62',X'',1", 500));
    expect(results.at(-1)?.warnings).toEqual([
      expect.objectContaining({ code: 'FERRY_DECODE', fields: expect.objectContaining({ xid: '1:62:' }) }),
    ]);
  });

  it("xa transactions: MySQL's XA START group and one-phase prepare event commit at once", () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 });
    const items = feed(
      { type: 'gtid', gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:5', timestamp: 1000 },
      query("XA START X'61',X'',1", 150),
      write(7),
      query("XA END X'61',X'',1", 170),
      { type: 'xaprepare', xid: XID_A, onePhase: true, timestamp: 1000, nextPosition: 200 },
    );
    expect(ids(items)).toEqual([7]);
    expect(positions(items)).toEqual(['bin.000001:200']);
  });

  it('reads XIDs as the server writes them and as typed', () => {
    expect(parseXid("X'7831',X'',1")).toBe('1:7831:');
    expect(parseXid("'x1'")).toBe('1:7831:');
    expect(parseXid("'x1','b',7 ONE PHASE")).toBe('7:7831:62');
    expect(xidKey(7, Buffer.from('x1'), Buffer.from('b'))).toBe('7:7831:62');
  });
});

describe('MySQL source: statement-format DML', () => {
  it('statement-format dml: finds the table a statement writes to', () => {
    const cases: Array<[string, Array<{ db: string; table: string }>]> = [
      ["INSERT INTO t VALUES (1, 'x')", [{ db: 'app', table: 't' }]],
      ['insert low_priority ignore into `o db`.`t 1` (a) values (1)', [{ db: 'o db', table: 't 1' }]],
      ['REPLACE other.t SET a = 1', [{ db: 'other', table: 't' }]],
      ['UPDATE t SET a = 1 WHERE id = 2', [{ db: 'app', table: 't' }]],
      ['UPDATE t AS x SET a = 1', [{ db: 'app', table: 't' }]],
      ['UPDATE a, b SET a.x = b.x', []],
      ['UPDATE a JOIN b ON a.id = b.id SET a.x = 1', []],
      ['DELETE QUICK FROM app.t WHERE id = 1', [{ db: 'app', table: 't' }]],
      ['DELETE t1 FROM t1 JOIN t2 USING (id)', []],
      ["LOAD DATA LOCAL INFILE '/x' REPLACE INTO TABLE t", [{ db: 'app', table: 't' }]],
    ];
    for (const [sql, tables] of cases) {
      expect(classifyStatement(sql, 'app'), sql).toMatchObject({ kind: 'dml', tables });
    }
    expect(classifyStatement("XA END X'61',X'',1", 'app').kind).toBe('other');
  });

  it('statement-format dml: stops with FERRY_STATEMENT_DML naming the table and position', () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 }, { type: 'gtid', gtid: '0-1-2', timestamp: 1 });
    expect(() => feed(query('UPDATE t SET id = 2', 200))).toThrow(
      expect.objectContaining({
        code: 'FERRY_STATEMENT_DML',
        message: expect.stringMatching(/^UPDATE on the captured table app\.t .* at bin\.000001:100 \(GTID 0-1-2\)/),
        details: expect.objectContaining({ table: 'app.t', position: 'bin.000001:100 (GTID 0-1-2)' }),
      }),
    );
  });

  it('statement-format dml: refuses a statement whose table it cannot read, ignores other databases', () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'bin.000001', position: 100 }, { type: 'gtid', gtid: '0-1-2', timestamp: 1 });
    expect(feed(query('INSERT INTO other.t VALUES (1)', 200))).toEqual([]);
    expect(() => feed(query('UPDATE a, b SET a.x = 1', 300))).toThrow(/a table ferry could not read/);
  });

  it('statement-format dml: with statementDml warn, reports it and goes on', () => {
    const { feed, results } = setup('warn');
    feed({ type: 'rotate', file: 'bin.000001', position: 100 }, { type: 'gtid', gtid: '0-1-2', timestamp: 1 });
    expect(feed(query('DELETE FROM t', 200))).toEqual([]);
    expect(results.at(-1)?.warnings).toEqual([
      expect.objectContaining({ code: 'FERRY_STATEMENT_DML', fields: expect.objectContaining({ table: 'app.t' }) }),
    ]);
  });
});
