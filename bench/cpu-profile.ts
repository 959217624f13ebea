/**
 * Summarises V8 CPU profiles (`node --cpu-prof` writes *.cpuprofile): self time by function and
 * by file (node_modules packages folded into one line each), top N. Not run by CI.
 *
 * Run: npx tsc -p tsconfig.json --noEmit false --outDir .ferry/bench-build &&
 *      node .ferry/bench-build/bench/cpu-profile.js <file.cpuprofile>... [--top 25]
 * A profile of `ferry run`: FERRY_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:run -- ...
 * (with the sink on its own thread, each thread writes its own profile).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (url === '') return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return url;
  const m = /(?:dist|bench-build)\/(.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^file:\/\//, '');
}

function summarise(file: string, top: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = where(n.callFrame.url);
    const fn = `${n.callFrame.functionName || '(anonymous)'}  ${f}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(f, (byFile.get(f) ?? 0) + us);
  }
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us * 100) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  console.log(
    `== ${file}: ${(total / 1e6).toFixed(1)} s sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s`,
  );
  show('self time by file/package', byFile);
  show('self time by function', byFn);
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const files = args.filter((a, i) => a !== '--top' && (topAt < 0 || i !== topAt + 1));
if (files.length === 0) {
  console.error('usage: cpu-profile.js <file.cpuprofile>... [--top N]');
  process.exitCode = 2;
}
for (const f of files) summarise(f, top);
