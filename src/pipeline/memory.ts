import v8 from 'node:v8';
import type { MemoryConfig } from '../config/index.js';

/** The young generation's semi-space, MB: V8 lets it grow to 16 (48 MB of young generation per heap). */
const SEMI_SPACE_MB = 8;

/**
 * The V8 flags that `memory` asks for, leaving out those the process was started with
 * (`given`: its command-line flags and NODE_OPTIONS), which win. Empty with heapGrowthPercent 0.
 */
export function memoryFlags(memory: MemoryConfig, given: string): string[] {
  if (memory.heapGrowthPercent === 0) return [];
  const flags: string[] = [];
  if (!given.includes('--heap-growing-percent')) flags.push(`--heap-growing-percent=${memory.heapGrowthPercent}`);
  if (!given.includes('--max-semi-space-size')) flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  return flags;
}

/**
 * Applies the config's memory settings to this process (docs/performance.md#memory). Call it before
 * the sink thread starts: a heap takes the young generation's size when it is made, so the main
 * thread's keeps V8's, while the growth after each full collection applies to every heap from the
 * next collection on. Returns the flags set.
 */
export function applyMemorySettings(memory: MemoryConfig): string[] {
  const flags = memoryFlags(memory, `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`);
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}
