// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
import { describe, expect, it } from 'vitest';
import { interpolate, interpolateString } from '../../src/config/index.js';

describe('interpolateString', () => {
  const env = { A: 'alpha', EMPTY: '', SPECIAL: 'x: "y" # z' };

  it('replaces ${VAR}, keeps the rest', () => {
    expect(interpolateString('pre-${A}-post', env)).toEqual({
      value: 'pre-alpha-post',
      missing: [],
      malformed: undefined,
    });
  });

  it('inserts special characters verbatim', () => {
    expect(interpolateString('${SPECIAL}', env).value).toBe('x: "y" # z');
  });

  it('treats an empty variable as set, but ${VAR:-d} falls back on empty or unset', () => {
    expect(interpolateString('[${EMPTY}]', env).value).toBe('[]');
    expect(interpolateString('${EMPTY:-d}', env).value).toBe('d');
    expect(interpolateString('${NOPE:-d e f}', env).value).toBe('d e f');
    expect(interpolateString('${A:-d}', env).value).toBe('alpha');
    expect(interpolateString('${NOPE:-}', env)).toMatchObject({ value: '', missing: [] });
  });

  it('escapes $${ to a literal ${ and leaves lone dollars alone', () => {
    expect(interpolateString('$${A} costs $5 and $${', env).value).toBe('${A} costs $5 and ${');
  });

  it('lists missing variables', () => {
    expect(interpolateString('${X}${A}${Y}', env).missing).toEqual(['X', 'Y']);
  });

  it('reports malformed references', () => {
    expect(interpolateString('${A', env).malformed).toContain('not closed');
    expect(interpolateString('${1A}', env).malformed).toContain('not a variable reference');
    expect(interpolateString('${}', env).malformed).toContain('not a variable reference');
  });
});

describe('interpolate', () => {
  it('walks strings in mappings and lists, with paths, and leaves keys and other values alone', () => {
    const input = { a: { '${A}': '${A}', list: ['${B}', 3, true, null] }, n: 1 };
    const result = interpolate(input, { A: 'x' });
    // A missing variable is reported (and the config rejected); its value is left empty.
    expect(result.value).toEqual({ a: { '${A}': 'x', list: ['', 3, true, null] }, n: 1 });
    expect(result.missing).toEqual([{ variable: 'B', path: 'a.list[0]' }]);
    expect(input.a['${A}']).toBe('${A}');
  });
});
