/**
 * Writes docs/configuration.md from the schema:
 *   npm run build && node dist/src/config/gen-docs.js [output-path]
 * Run from the repository root.
 */
import { writeFileSync } from 'node:fs';
import { configDocs, DOCS_PATH } from './docs.js';

const target = process.argv[2] ?? DOCS_PATH;
writeFileSync(target, configDocs());
process.stdout.write(`wrote ${target}\n`);
