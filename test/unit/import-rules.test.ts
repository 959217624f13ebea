/**
 * The import rules of CONTRIBUTING.md ("Import rules"), checked on the source text of every .ts
 * file under src/ and connectors/:
 * - a connector imports nothing under src/ except src/api and src/sql-sink;
 * - src/api (the contract) imports nothing else of ferry; src/sql-sink imports only src/api;
 * - no import cycle between files (type-only imports count: they tie the files together too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Repository-relative paths (a/b.ts) of the project files a file imports (packages left out). */
function projectImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const abs = resolve(ROOT, dirname(file), fileName).replace(/\.js$/, '.ts');
    out.push(relative(ROOT, abs).split(sep).join('/'));
  }
  return out;
}

const FILES = [...tsFiles('src'), ...tsFiles('connectors')].sort();
const GRAPH = new Map(FILES.map((f) => [f, projectImports(f)]));

const under = (path: string, dir: string) => path.startsWith(`${dir}/`);

/** Imports that break the folder rules, as "file -> imported: why". */
function ruleViolations(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (
        under(file, 'connectors') &&
        under(target, 'src') &&
        !under(target, 'src/api') &&
        !under(target, 'src/sql-sink')
      )
        bad.push(`${file} -> ${target}: a connector imports only src/api and src/sql-sink under src/`);
      if (under(file, 'src/api') && !under(target, 'src/api'))
        bad.push(`${file} -> ${target}: src/api is the contract and imports nothing else of ferry`);
      if (under(file, 'src/sql-sink') && !under(target, 'src/sql-sink') && !under(target, 'src/api'))
        bad.push(`${file} -> ${target}: src/sql-sink imports only src/api`);
    }
  }
  return bad;
}

/** Every import cycle between files (strongly connected components of more than one file, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import rules (CONTRIBUTING.md)', () => {
  it('reads the imports of every file under src/ and connectors/', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(GRAPH.get('connectors/postgres-sink/sink.ts')).toContain('src/api/index.ts');
  });

  it('connectors import only src/api and src/sql-sink; src/api and src/sql-sink stay below the rest', () => {
    expect(ruleViolations(GRAPH)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(GRAPH).map((c) => `files in an import cycle: ${c.join(', ')}`)).toEqual([]);
  });

  it('the checks catch a connector importing an internal of src/ and a cycle', () => {
    const graph = new Map(GRAPH);
    graph.set('connectors/x/a.ts', ['src/runtime/queue.ts', 'connectors/x/b.ts']);
    graph.set('connectors/x/b.ts', ['connectors/x/a.ts']);
    expect(ruleViolations(graph).filter((v) => v.startsWith('connectors/x/'))).toEqual([
      'connectors/x/a.ts -> src/runtime/queue.ts: a connector imports only src/api and src/sql-sink under src/',
    ]);
    expect(cycles(graph).filter((c) => c.includes('connectors/x/a.ts'))).toEqual([
      ['connectors/x/a.ts', 'connectors/x/b.ts'],
    ]);
  });
});
