/** Building dist/ from the tests when a compiled entry point is missing or older than its sources. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/sandbox/index.js';

/** Newest modification time of the non-test .ts files below `dir` (0 when it is missing). */
export function newestSourceMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Runs `tsc -p tsconfig.build.json` when `entry` (a path in dist/) is missing or older than any
 * source below `sourceDirs` (relative to the project root). tsc still emits when some other file
 * has a type error, so only a missing entry afterwards is fatal; `failure` is that error's message.
 */
export function buildDistWhenStale(entry: string, sourceDirs: string[], failure: string): void {
  const root = projectRoot();
  const sources = Math.max(0, ...sourceDirs.map((dir) => newestSourceMtime(join(root, dir))));
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) return;
  const res = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0 && !existsSync(entry)) throw new Error(failure);
}
