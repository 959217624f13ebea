/**
 * verify's SQL building: identifier quoting, parameters, key-range predicates, checksum
 * statements, the canonical expressions per kind and engine, and table plans (type pairs,
 * fallbacks, key handling).
 */
import { describe, expect, it } from 'vitest';
import { clientCanonicaliser } from '../../src/verify/canonical-client.js';
import { mysqlCanonicalText, postgresCanonicalText } from '../../src/verify/canonical-sql.js';
import type { TableShape } from '../../src/verify/catalog.js';
import { mysqlDialect, postgresDialect } from '../../src/verify/dialect.js';
import type { NativeColumn } from '../../src/verify/native-types.js';
import { parseFormatType } from '../../src/verify/native-types.js';
import { resolvePair } from '../../src/verify/pairing.js';
import { boundaryStatement, checksumStatement, countStatement, rowsByKeysStatement } from '../../src/verify/queries.js';
import { buildTablePlan, type SideInfo } from '../../src/verify/table-plan.js';

const my = (name: string, dataType: string, columnType: string, extra: Partial<NativeColumn> = {}): NativeColumn => {
  const kinds: Record<string, NativeColumn['kind']> = {
    int: 'int64',
    bigint: /unsigned/.test(columnType) ? 'uint64' : 'int64',
    tinyint: 'int64',
    decimal: 'decimal',
    varchar: 'string',
    char: 'string',
    text: 'string',
    longtext: 'string',
    double: 'float64',
    float: 'float32',
    datetime: 'timestamp',
    timestamp: 'timestamptz',
    date: 'date',
    set: 'set',
    enum: 'enum',
    bit: 'bit',
    varbinary: 'bytes',
    json: 'json',
  };
  return { name, engine: 'mysql', dataType, columnType, nullable: true, kind: kinds[dataType] ?? 'unknown', ...extra };
};

const pgc = (
  name: string,
  dataType: string,
  columnType = dataType,
  extra: Partial<NativeColumn> = {},
): NativeColumn => {
  const kinds: Record<string, NativeColumn['kind']> = {
    integer: 'int64',
    bigint: 'int64',
    smallint: 'int64',
    numeric: 'decimal',
    'character varying': 'string',
    text: 'string',
    boolean: 'boolean',
    'double precision': 'float64',
    real: 'float32',
    'timestamp without time zone': 'timestamp',
    'timestamp with time zone': 'timestamptz',
    date: 'date',
    'text[]': 'array',
    json: 'json',
    jsonb: 'json',
    bytea: 'bytes',
    bit: 'bit',
    uuid: 'uuid',
    'double precision[]': 'array',
  };
  return {
    name,
    engine: 'postgres',
    dataType,
    columnType,
    nullable: true,
    kind: kinds[dataType] ?? 'string',
    ...extra,
  };
};

const SIDES: { source: SideInfo; target: SideInfo } = {
  source: { dialect: mysqlDialect, flavor: 'mariadb' },
  target: { dialect: postgresDialect, flavor: 'postgres' },
};

const PAIR = { source: { db: 'shop', table: 'orders' }, target: { db: 'public', table: 'orders' } };

function shapes(
  source: NativeColumn[],
  target: NativeColumn[],
  key = ['id'],
): { source: TableShape; target: TableShape } {
  return { source: { columns: source, primaryKey: key }, target: { columns: target, primaryKey: key } };
}

describe('dialects', () => {
  it('quotes identifiers by doubling the quote character', () => {
    expect(mysqlDialect.quoteId('we`ird')).toBe('`we``ird`');
    expect(postgresDialect.quoteId('we"ird')).toBe('"we""ird"');
    expect(mysqlDialect.table({ db: 'a.b', table: 'x`; DROP TABLE y; --' })).toBe('`a.b`.`x``; DROP TABLE y; --`');
    expect(postgresDialect.table({ db: 'S', table: 't"x' })).toBe('"S"."t""x"');
  });

  it('numbers parameters per engine', () => {
    const m = mysqlDialect.params();
    const p = postgresDialect.params();
    expect([m.add(1), m.add('x')]).toEqual(['?', '?']);
    expect([p.add(1), p.add('x')]).toEqual(['$1', '$2']);
    expect(p.values).toEqual([1, 'x']);
  });

  it('escapes each column piece so that NULL, empty and separators cannot collide', () => {
    expect(mysqlDialect.piece('t')).toBe(
      "COALESCE(CONCAT(REPLACE(REPLACE(CAST(t AS BINARY), '~', '~~'), '|', '~|'), '|'), '~N|')",
    );
    expect(postgresDialect.piece('t')).toBe("COALESCE(replace(replace(t, '~', '~~'), '|', '~|') || '|', '~N|')");
  });
});

describe('canonical SQL expressions', () => {
  const opts = { trimDecimal: false };
  it('renders timestamps with T, trimmed fractions, and Z for timestamptz', () => {
    expect(mysqlCanonicalText('timestamp', my('c', 'datetime', 'datetime(6)'), '`c`', opts)).toBe(
      "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM DATE_FORMAT(`c`, '%Y-%m-%dT%H:%i:%s.%f')))",
    );
    expect(mysqlCanonicalText('timestamptz', my('c', 'timestamp', 'timestamp(6)'), '`c`', opts)).toContain("'Z')");
    expect(postgresCanonicalText('timestamp', pgc('c', 'timestamp without time zone'), '"c"', opts)).toBe(
      `replace("c"::text, ' ', 'T')`,
    );
    expect(postgresCanonicalText('timestamptz', pgc('c', 'timestamp with time zone'), '"c"', opts)).toBe(
      `replace(replace("c"::text, '+00', 'Z'), ' ', 'T')`,
    );
  });

  it('renders bytes as lowercase hex on both engines', () => {
    expect(mysqlCanonicalText('bytes', my('b', 'varbinary', 'varbinary(16)'), '`b`', opts)).toBe('LOWER(HEX(`b`))');
    expect(postgresCanonicalText('bytes', pgc('b', 'bytea'), '"b"', opts)).toBe(`encode("b", 'hex')`);
  });

  it('renders booleans from TINYINT(1) as true/false, keeping other values', () => {
    expect(mysqlCanonicalText('boolean', my('f', 'tinyint', 'tinyint(1)'), '`f`', opts)).toBe(
      "CASE `f` + 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE CAST(`f` + 0 AS CHAR) END",
    );
    expect(postgresCanonicalText('boolean', pgc('f', 'boolean'), '"f"', opts)).toBe('"f"::text');
  });

  it('renders a SET and a text[] with their member count', () => {
    expect(mysqlCanonicalText('set', my('s', 'set', "set('a','b')"), '`s`', opts)).toContain('LENGTH(');
    expect(postgresCanonicalText('set', pgc('s', 'text[]', 'text[]'), '"s"', opts)).toBe(
      `cardinality("s")::text || ':' || array_to_string("s", ',')`,
    );
  });

  it('trims decimal zeros only when asked (scales differ)', () => {
    expect(mysqlCanonicalText('decimal', my('d', 'decimal', 'decimal(10,2)'), '`d`', opts)).toBe('CAST(`d` AS CHAR)');
    expect(postgresCanonicalText('decimal', pgc('d', 'numeric'), '"d"', { trimDecimal: true })).toContain('rtrim(');
  });

  it('has no in-database form for arrays stored as JSON or for mismatched types', () => {
    expect(mysqlCanonicalText('array', my('a', 'longtext', 'longtext'), '`a`', opts)).toBeNull();
    expect(mysqlCanonicalText('bytes', my('a', 'varchar', 'varchar(10)'), '`a`', opts)).toBeNull();
    expect(postgresCanonicalText('date', pgc('a', 'text'), '"a"', opts)).toBeNull();
  });
});

describe('type pairs', () => {
  it('keeps an integer in NUMERIC(20,0) an integer and compares decimals by value when scales differ', () => {
    expect(
      resolvePair(my('id', 'bigint', 'bigint(20) unsigned'), pgc('id', 'numeric', 'numeric(20,0)', { scale: 0 })),
    ).toMatchObject({
      kind: 'uint64',
      trimDecimal: false,
    });
    const d = resolvePair(
      my('d', 'decimal', 'decimal(10,2)', { scale: 2 }),
      pgc('d', 'numeric', 'numeric(12,4)', { scale: 4 }),
    );
    expect(d).toMatchObject({ kind: 'decimal', trimDecimal: true });
    const same = resolvePair(
      my('d', 'decimal', 'decimal(10,2)', { scale: 2 }),
      pgc('d', 'numeric', 'numeric(10,2)', { scale: 2 }),
    );
    expect(same.trimDecimal).toBe(false);
    // Unconstrained NUMERIC into DECIMAL(65,30) (the MySQL sink): 1.5 is stored as 1.500…0.
    expect(resolvePair(pgc('d', 'numeric'), my('d', 'decimal', 'decimal(65,30)', { scale: 30 })).trimDecimal).toBe(
      true,
    );
    expect(resolvePair(pgc('d', 'numeric'), pgc('d', 'numeric')).trimDecimal).toBe(false);
  });

  it('maps boolean <-> TINYINT(1), SET -> text[], timestamptz -> DATETIME', () => {
    expect(resolvePair(pgc('b', 'boolean'), my('b', 'tinyint', 'tinyint(1)')).kind).toBe('boolean');
    expect(resolvePair(my('s', 'set', "set('a')"), pgc('s', 'text[]')).kind).toBe('set');
    expect(resolvePair(pgc('t', 'timestamp with time zone'), my('t', 'datetime', 'datetime(6)')).kind).toBe(
      'timestamptz',
    );
  });

  it('compares JSON by text when both keep it, by meaning when one side normalises', () => {
    expect(
      resolvePair(my('j', 'longtext', 'longtext'), pgc('j', 'json', 'json', { jsonFlavor: 'text' })),
    ).toMatchObject({
      kind: 'json',
      jsonSemantic: false,
    });
    expect(
      resolvePair(my('j', 'longtext', 'longtext'), pgc('j', 'jsonb', 'jsonb', { jsonFlavor: 'jsonb' })),
    ).toMatchObject({
      kind: 'json',
      jsonSemantic: true,
    });
    const jsonb = pgc('j', 'jsonb', 'jsonb', { jsonFlavor: 'jsonb' });
    expect(resolvePair(jsonb, jsonb).jsonSemantic).toBe(false);
    // The sink writes jsonb's own text into MariaDB, which keeps it as given.
    expect(resolvePair(jsonb, my('j', 'longtext', 'longtext')).jsonSemantic).toBe(false);
    expect(resolvePair(jsonb, my('j', 'json', 'json', { jsonFlavor: 'mysql-json' })).jsonSemantic).toBe(true);
  });
});

describe('table plans and statements', () => {
  const source = [
    my('id', 'bigint', 'bigint(20) unsigned', { unsigned: true }),
    my('name', 'varchar', 'varchar(20)', { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' }),
    my('secret', 'varchar', 'varchar(20)'),
    my('doc', 'json', 'json', { jsonFlavor: 'mysql-json' }),
  ];
  const target = [
    pgc('id', 'numeric', 'numeric(20,0)', { scale: 0, precision: 20 }),
    pgc('name', 'character varying', 'character varying(20)', { collation: 'C' }),
    pgc('doc', 'jsonb', 'jsonb', { jsonFlavor: 'jsonb' }),
  ];

  it('leaves out excluded columns, and compares JSON client-side when it is normalised differently', () => {
    const plan = buildTablePlan({ ...PAIR, excludeColumns: ['secret'] }, shapes(source, target), SIDES);
    expect(plan.columns.map((c) => c.name)).toEqual(['id', 'name', 'doc']);
    expect(plan.method).toBe('client');
    expect(plan.clientIndexes).toEqual([2]);
    expect(plan.notes).toEqual([
      'column doc (MySQL json → PostgreSQL jsonb): the target normalises JSON differently, compared as parsed JSON client-side',
    ]);
  });

  it('refuses a table whose target lacks a column, or that has no key', () => {
    expect(() => buildTablePlan(PAIR, shapes(source, target), SIDES)).toThrow(/has no column\(s\) secret/);
    expect(() => buildTablePlan({ ...PAIR, excludeColumns: ['secret'] }, shapes(source, target, []), SIDES)).toThrow(
      /no primary key; configure source.keyColumns\["shop.orders"\]/,
    );
  });

  it('refuses keys without a common order (floats)', () => {
    const s = [my('id', 'double', 'double')];
    const t = [pgc('id', 'double precision')];
    expect(() => buildTablePlan(PAIR, shapes(s, t), SIDES)).toThrow(/supports integer, decimal, text/);
  });

  it('builds parameterised range statements with byte-order text keys on both engines', () => {
    const plan = buildTablePlan(
      { ...PAIR, excludeColumns: ['secret', 'doc'] },
      shapes(source, target, ['id', 'name']),
      SIDES,
    );
    expect(plan.method).toBe('checksum');
    const range = { lo: [5, "o'brien"], hi: [9, 'z'] };
    const m = countStatement(plan, 'source', range);
    expect(m.sql).toBe(
      'SELECT COUNT(*) FROM `shop`.`orders` WHERE (`id` >= CAST(? AS UNSIGNED) AND (`id` > CAST(? AS UNSIGNED) OR ' +
        '(`id` = CAST(? AS UNSIGNED) AND CONVERT(`name` USING utf8mb4) COLLATE utf8mb4_nopad_bin > ?))) AND ' +
        '(`id` <= CAST(? AS UNSIGNED) AND (`id` < CAST(? AS UNSIGNED) OR (`id` = CAST(? AS UNSIGNED) AND ' +
        'CONVERT(`name` USING utf8mb4) COLLATE utf8mb4_nopad_bin <= ?)))',
    );
    expect(m.params).toEqual(['5', '5', '5', "o'brien", '9', '9', '9', 'z']);
    const p = countStatement(plan, 'target', range);
    expect(p.sql).toBe(
      'SELECT COUNT(*) FROM "public"."orders" WHERE ("id", "name") > ($1, $2) AND ("id", "name") <= ($3, $4)',
    );
    expect(p.params).toEqual(['5', "o'brien", '9', 'z']);
    const b = boundaryStatement(plan, 'target', { lo: null, hi: null }, 99);
    expect(b.sql).toBe(
      'SELECT "id", "name" FROM "public"."orders" WHERE 1 = 1 ORDER BY "id", "name" LIMIT $1 OFFSET $2',
    );
    expect(b.params).toEqual([1, 99]);
    const c = checksumStatement(plan, 'target', { lo: [1, 'a'], hi: null });
    expect(c.sql).toMatch(/^SELECT count\(\*\), sum\(.*\) FROM \(SELECT md5\(.*\) AS h FROM "public"."orders" WHERE/);
    expect(c.sql).not.toContain("'a'");
    const k = rowsByKeysStatement(plan, 'source', [
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(k.sql).toContain(
      'WHERE ((`id` = CAST(? AS UNSIGNED) AND CONVERT(`name` USING utf8mb4) COLLATE utf8mb4_nopad_bin = ?) OR',
    );
    expect(k.params).toEqual(['1', 'a', '2', 'b']);
    expect(plan.notes).toEqual([
      'key column name is compared in byte order on the source (CONVERT(`name` USING utf8mb4) COLLATE utf8mb4_nopad_bin), which its index cannot serve: chunks scan more rows',
    ]);
  });

  it("turns canonical key values into each engine's parameters", () => {
    const s = [my('at', 'timestamp', 'timestamp(6)'), my('d', 'date', 'date')];
    const t = [pgc('at', 'timestamp with time zone'), pgc('d', 'date')];
    const plan = buildTablePlan(PAIR, shapes(s, t, ['at', 'd']), SIDES);
    const key = ['2024-01-02T03:04:05.5Z', '0000-00-00'];
    expect(countStatement(plan, 'source', { lo: key, hi: null }).params).toEqual([
      '2024-01-02 03:04:05.5',
      '2024-01-02 03:04:05.5',
      '2024-01-02 03:04:05.5',
      '0000-00-00',
    ]);
    expect(countStatement(plan, 'target', { lo: key, hi: null }).params).toEqual([
      '2024-01-02 03:04:05.5+00',
      '-infinity',
    ]);
  });
});

describe('parseFormatType', () => {
  it('takes modifiers and array brackets apart', () => {
    expect(parseFormatType('numeric(10,2)')).toEqual({ base: 'numeric', args: [10, 2], array: false });
    expect(parseFormatType('timestamp(6) with time zone')).toEqual({
      base: 'timestamp with time zone',
      args: [6],
      array: false,
    });
    expect(parseFormatType('character varying(20)[]')).toEqual({ base: 'character varying', args: [20], array: true });
    expect(parseFormatType('text')).toEqual({ base: 'text', args: [], array: false });
  });
});

describe('MySQL zero dates and a PostgreSQL target', () => {
  const opts = { trimDecimal: false, zeroDateAsNull: true };

  it('count as NULL in a NULL-able PostgreSQL column, for MySQL dates, DATETIMEs and TIMESTAMPs only', () => {
    expect(resolvePair(my('d', 'date', 'date'), pgc('d', 'date')).zeroDateAsNull).toBe(true);
    expect(
      resolvePair(my('t', 'datetime', 'datetime(6)'), pgc('t', 'timestamp without time zone')).zeroDateAsNull,
    ).toBe(true);
    expect(resolvePair(my('t', 'timestamp', 'timestamp'), pgc('t', 'timestamp with time zone')).zeroDateAsNull).toBe(
      true,
    );
    // NOT NULL: the sink refuses the row instead; MySQL -> MySQL keeps zero dates; no zero dates elsewhere.
    expect(resolvePair(my('d', 'date', 'date'), pgc('d', 'date', 'date', { nullable: false })).zeroDateAsNull).toBe(
      false,
    );
    expect(resolvePair(my('d', 'date', 'date'), my('d', 'date', 'date')).zeroDateAsNull).toBe(false);
    expect(resolvePair(pgc('d', 'date'), pgc('d', 'date')).zeroDateAsNull).toBe(false);
    expect(resolvePair(my('s', 'varchar', 'varchar(10)'), pgc('s', 'date')).zeroDateAsNull).toBe(false);
  });

  it('render as NULL inside MySQL; PostgreSQL is unchanged', () => {
    expect(mysqlCanonicalText('date', my('d', 'date', 'date'), '`d`', opts)).toBe(
      'CASE WHEN MONTH(`d`) = 0 OR DAYOFMONTH(`d`) = 0 THEN NULL ELSE CAST(`d` AS CHAR) END',
    );
    expect(mysqlCanonicalText('timestamptz', my('t', 'timestamp', 'timestamp'), '`t`', opts)).toMatch(
      /^CASE WHEN MONTH\(`t`\) = 0 OR DAYOFMONTH\(`t`\) = 0 THEN NULL ELSE CONCAT\(/,
    );
    expect(mysqlCanonicalText('date', my('d', 'date', 'date'), '`d`', { trimDecimal: false })).toBe(
      'CAST(`d` AS CHAR)',
    );
    expect(postgresCanonicalText('date', pgc('d', 'date'), '"d"', opts)).toBe('"d"::text');
  });

  it('are NULL on the client too, partial ones included; real dates and the target side are untouched', () => {
    const client = { trimDecimal: false, jsonSemantic: false, zeroDateAsNull: true };
    const date = clientCanonicaliser('date', my('d', 'date', 'date'), client);
    expect(['0000-00-00', '2024-00-00', '2024-05-00', '0000-01-01', '2024-02-29', null].map(date)).toEqual([
      null,
      null,
      null,
      '0000-01-01',
      '2024-02-29',
      null,
    ]);
    const dt = clientCanonicaliser('timestamp', my('t', 'datetime', 'datetime(6)'), client);
    expect(['0000-00-00 00:00:00', '2024-00-15 10:00:00.5', '2024-01-15 10:00:00.5'].map(dt)).toEqual([
      null,
      null,
      '2024-01-15T10:00:00.5',
    ]);
    const ts = clientCanonicaliser('timestamptz', my('t', 'timestamp', 'timestamp'), client);
    expect(ts('0000-00-00 00:00:00')).toBeNull();
    const kept = clientCanonicaliser('date', my('d', 'date', 'date'), { ...client, zeroDateAsNull: false });
    expect(kept('0000-00-00')).toBe('0000-00-00');
  });

  it('are compared as NULL in a plan, except in key columns', () => {
    const s = [my('d', 'date', 'date'), my('v', 'date', 'date')];
    const t = [pgc('d', 'date', 'date', { nullable: false }), pgc('v', 'date')];
    const plan = buildTablePlan(PAIR, shapes(s, t, ['d']), SIDES);
    expect(plan.columns.map((c) => [c.name, c.pair.zeroDateAsNull])).toEqual([
      ['d', false],
      ['v', true],
    ]);
    expect(plan.columns[1]!.text!.source).toContain('MONTH(`v`) = 0');
    expect(plan.columns[1]!.canon.source('0000-00-00')).toBeNull();
    expect(plan.columns[0]!.canon.source('0000-00-00')).toBe('0000-00-00');
  });
});
