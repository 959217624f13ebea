/**
 * The `memory` section of the pipeline config schema (docs/performance.md#memory), kept apart
 * from schema.ts. Its fields carry the same metadata as every other field, read back by the docs
 * generator.
 */
import * as z from 'zod';
import { field, integer } from './schema-field.js';

export const memorySchema = z.strictObject({
  heapGrowthPercent: field(integer(0, 400).default(75), {
    description:
      'How far the JavaScript heap of a ferry process may grow past what is alive before the next full ' +
      'garbage collection, in percent (V8 `--heap-growing-percent`); 0 leaves it to V8, which lets garbage ' +
      'reach several times what is alive. Lower keeps the resident size closer to the live data at the cost ' +
      'of CPU time; a `--heap-growing-percent` in NODE_OPTIONS wins. Measured figures: docs/performance.md#memory.',
    example: 0,
  }),
});
