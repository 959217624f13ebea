/**
 * Tables and columns named with a space, quotes, a backtick, a reserved word, mixed case, unicode
 * and a `?` replicate to PostgreSQL and to MariaDB (every name is quoted by the dialect).
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { qualify as myQualify, quoteIdent as myQuote } from '../../connectors/mysql-sink/dialect.js';
import { qualify as pgQualify, quoteIdent as pgQuote } from '../../connectors/postgres-sink/dialect.js';
import { dataTopic } from '../../src/kafka/topics.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import { dlqCount, sandboxTarget, startSink, useSinkDatabases, waitForCaughtUp } from '../helpers/sink-harness.js';

const TABLES = ['order items', `it's "quoted"`, 'select'];
const COLUMNS = ['from', 'Mixed Case', 'a"b', 'c`d', 'ünïcödé', 'what?'];

describe('sink: nasty names', () => {
  const kafka = kafkaClient('sink-names');
  let my: mysql.Connection;
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  async function run(source: 'mysql' | 'postgresql'): Promise<void> {
    const pipeline = uniqueName(source === 'mysql' ? 'names_m2p' : 'names_p2m');
    const ns = `${pipeline} src`;
    const db: DbConn = source === 'mysql' ? { engine: 'mysql', conn: my } : { engine: 'postgresql', conn: pgc };
    const targetDb: DbConn = source === 'mysql' ? { engine: 'postgresql', conn: pgc } : { engine: 'mysql', conn: my };
    const target = source === 'mysql' ? sandboxTarget('postgres') : sandboxTarget('mysql', `${pipeline}_meta`);
    const q = source === 'mysql' ? myQuote : pgQuote;
    const qualify = source === 'mysql' ? myQualify : pgQualify;
    if (source === 'mysql') await my.query(`CREATE DATABASE ${myQuote(ns)}`);
    else await pgc.query(`CREATE SCHEMA ${pgQuote(ns)}`);
    const writer = new EventWriter(kafka, pipeline, 2);
    const sources: SourceTable[] = [];
    for (const table of TABLES) {
      const defs = COLUMNS.map((c, i) => `${q(c)} ${i === 0 ? 'integer NOT NULL' : 'varchar(40)'}`);
      const ddl = `CREATE TABLE ${qualify(ns, table)} (${defs.join(', ')}, PRIMARY KEY (${q('from')}))`;
      if (source === 'mysql') await my.query(ddl);
      else await pgc.query(ddl);
      const schema = tableSchema(
        ns,
        table,
        COLUMNS.map((c, i) =>
          i === 0
            ? col(c, source === 'mysql' ? 'int' : 'integer', 'int32')
            : col(c, source === 'mysql' ? 'varchar(40)' : 'character varying(40)', 'string', { length: 40 }),
        ),
        ['from'],
      );
      const src = new SourceTable(db, schema);
      await writer.schema(schema);
      const row = (i: number) =>
        Object.fromEntries(COLUMNS.map((c, k) => [c, k === 0 ? i : `${table} ${c} ${i} ? '"\``]));
      await src.insert([row(1), row(2), row(3)]);
      await src.update({ from: 2 }, { 'what?': 'changed ?' });
      await src.update({ from: 3 }, { from: 30 });
      await src.delete({ from: 1 });
      await writer.events(src.take());
      sources.push(src);
    }
    const group = `${pipeline}-sink`;
    const sink = startSink({ pipeline, group, target });
    try {
      const topics = TABLES.map((t) => dataTopic(pipeline, ns, t));
      await waitForCaughtUp(kafka, pipeline, group, target, topics, 60_000, [sink]);
      for (const src of sources) {
        const diff = await compareTables({
          schema: src.schema,
          source: db,
          sourceNamespace: ns,
          target: targetDb,
          targetNamespace: ns,
        });
        expect(diff, src.schema.table).toMatchObject({ equal: true, sourceRows: 2, targetRows: 2 });
      }
      expect(await dlqCount(sink)).toBe(0);
    } finally {
      await sink.stop();
      await writer.close();
    }
  }

  it('MariaDB -> PostgreSQL', () => run('mysql'));
  it('PostgreSQL -> MariaDB', () => run('postgresql'));
});
