/**
 * Resource use of a process and all its descendants, read from /proc (Linux): the sum of the
 * resident set sizes, sampled every `intervalMs` (its peak is what the benchmark reports), and
 * the CPU seconds used (user + system, per process the last value seen, summed).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const PAGE_BYTES = 4096;

interface Stat {
  ppid: number;
  cpuTicks: number;
  rssBytes: number;
}

function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid = field 4, utime = 14, stime = 15, rss = 24.
    return {
      ppid: Number(fields[1]),
      cpuTicks: Number(fields[11]) + Number(fields[12]),
      rssBytes: Number(fields[21]) * PAGE_BYTES,
    };
  } catch {
    return null; // gone meanwhile
  }
}

function tree(root: number): Map<number, Stat> {
  const all = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) all.set(pid, s);
  }
  const out = new Map<number, Stat>();
  const rootStat = all.get(root);
  if (!rootStat) return out;
  out.set(root, rootStat);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of all) {
      if (!out.has(pid) && out.has(s.ppid)) {
        out.set(pid, s);
        grew = true;
      }
    }
  }
  return out;
}

export class ProcessTreeSampler {
  private peak = 0;
  private readonly cpu = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  private sample(): void {
    let rss = 0;
    for (const [pid, s] of tree(this.root)) {
      rss += s.rssBytes;
      this.cpu.set(pid, Math.max(this.cpu.get(pid) ?? 0, s.cpuTicks));
    }
    this.peak = Math.max(this.peak, rss);
  }

  /** Stops sampling (take the last sample first, while the processes still run). */
  stop(): { peakRssMb: number; cpuSeconds: number } {
    this.sample();
    clearInterval(this.timer);
    let ticks = 0;
    for (const t of this.cpu.values()) ticks += t;
    return {
      peakRssMb: Math.round(this.peak / 1024 / 1024),
      cpuSeconds: Math.round((ticks / TICKS_PER_SECOND) * 10) / 10,
    };
  }
}
