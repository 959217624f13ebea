import { describe, expect, it } from 'vitest';
import {
  copyField,
  copyPieces,
  copyRow,
  copyStageText,
  copyTableText,
  createStageStatement,
  deleteFromStageStatement,
  upsertFromStageStatement,
} from '../../connectors/postgres-sink/copy.js';

/** COPY text format decoding as the server does it, for the round trip below. */
function decodeField(field: string): string | null {
  if (field === '\\N') return null;
  const map: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };
  return field.replace(/\\(.)/g, (_, c: string) => {
    const out = map[c];
    if (out === undefined) throw new Error(`unexpected escape \\${c}`);
    return out;
  });
}

function decodeRows(text: string): Array<Array<string | null>> {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => line.split('\t').map(decodeField));
}

describe('COPY text encoding', () => {
  it('writes NULL as \\N and the empty string as nothing', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('')).toBe('');
    expect(copyRow([null, '', 'x'])).toBe('\\N\t\tx\n');
  });

  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(copyField('a\\b')).toBe('a\\\\b');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd')).toBe('a\\tb\\nc\\rd');
    expect(copyField('\\.')).toBe('\\\\.');
    expect(copyField('"quoted", \'single\'; ,|')).toBe('"quoted", \'single\'; ,|');
    expect(copyField('emoji 😀 é \u0001 \b \f \v')).toBe('emoji 😀 é \u0001 \b \f \v');
    // NUL passes through: the server rejects it in COPY as it does in a parameter.
    expect(copyField('a\u0000b')).toBe('a\u0000b');
  });

  it('keeps the texts the sink sends for bytea, arrays, json, timestamps, numerics and infinity', () => {
    const texts = [
      '\\x00ff5c0a',
      '{"a\\\\b","c\\"d",NULL,"e\tf"}',
      '{"k": "line\\nbreak", "t": "\t", "n": 1.000000000000000000001}',
      '2024-02-29 23:59:59.999999',
      '2024-02-29 23:59:59.000001+00',
      '-12345678901234567890.123456789012345678',
      'infinity',
      '-infinity',
      'NaN',
    ];
    const encoded = copyRow(texts);
    expect(encoded.split('\n')).toHaveLength(2);
    expect(encoded).toBe(
      '\\\\x00ff5c0a\t{"a\\\\\\\\b","c\\\\"d",NULL,"e\\tf"}\t{"k": "line\\\\nbreak", "t": "\\t", "n": 1.000000000000000000001}\t' +
        '2024-02-29 23:59:59.999999\t2024-02-29 23:59:59.000001+00\t-12345678901234567890.123456789012345678\t' +
        'infinity\t-infinity\tNaN\n',
    );
    expect(decodeRows(encoded)).toEqual([texts]);
  });

  it('round-trips every field of many rows, and cuts them only at row ends', () => {
    const values = [null, '', '\\', '\\N', '\t', '\n', '\r\n', 'plain', ' lead and trail ', 'x'.repeat(300)];
    const rows = Array.from({ length: 500 }, (_, i) => [
      String(i),
      values[i % values.length]!,
      values[(i * 7) % values.length]!,
    ]);
    const pieces = [...copyPieces(rows, 1000)];
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p.endsWith('\n')).toBe(true);
    expect(decodeRows(pieces.join(''))).toEqual(rows);
  });
});

describe('COPY staging statements', () => {
  it('stage and copy name the temporary table of the width, quoted', () => {
    expect(createStageStatement(2).text).toBe(
      'CREATE TEMPORARY TABLE IF NOT EXISTS "ferry_stage_2" (c1 text, c2 text) ON COMMIT DELETE ROWS',
    );
    expect(copyStageText(2)).toBe('COPY "pg_temp"."ferry_stage_2" (c1, c2) FROM STDIN');
  });

  it('loads a snapshot chunk straight into the target table, names quoted', () => {
    expect(copyTableText('my "db"', 'we ird', ['id', 'a"b'])).toBe(
      'COPY "my ""db"""."we ird" ("id", "a""b") FROM STDIN',
    );
  });

  it('upserts from the stage with casts and ON CONFLICT, emptying the stage', () => {
    const s = upsertFromStageStatement(
      's"1',
      't',
      [
        { name: 'id', castType: 'bigint' },
        { name: 'v"x', castType: 'text[]' },
      ],
      ['id'],
    );
    expect(s.text).toBe(
      'WITH s AS (DELETE FROM "pg_temp"."ferry_stage_2" RETURNING *) INSERT INTO "s""1"."t" ("id", "v""x") ' +
        'SELECT s.c1::bigint, s.c2::text[] FROM s ON CONFLICT ("id") DO UPDATE SET "v""x" = EXCLUDED."v""x"',
    );
    expect(s.values).toEqual([]);
    const keysOnly = upsertFromStageStatement('s', 't', [{ name: 'id', castType: 'bigint' }], ['id']);
    expect(keysOnly.text).toContain('ON CONFLICT ("id") DO NOTHING');
  });

  it('deletes by the staged keys', () => {
    const s = deleteFromStageStatement('s', 't', [
      { name: 'a', castType: 'integer' },
      { name: 'b', castType: 'text' },
    ]);
    expect(s.text).toBe(
      'WITH s AS (DELETE FROM "pg_temp"."ferry_stage_2" RETURNING *) DELETE FROM "s"."t" AS t USING s ' +
        'WHERE t."a" = s.c1::integer AND t."b" = s.c2::text',
    );
  });
});
