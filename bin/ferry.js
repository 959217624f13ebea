#!/usr/bin/env node
// The ferry command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run automatically by `npm ci` / `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'ferry: the compiled sources are missing. Run `npm ci` (or `npm run build`) in the ferry folder first.\n',
  );
  process.exit(2);
}
await import(entry.href);
