/**
 * vitest globalSetup of the integration project: brings up a sandbox (Kafka, PostgreSQL, MariaDB)
 * in `<project>/.ferry/test-sandbox` (or FERRY_TEST_SANDBOX_DIR), shares its connection info with
 * the tests (FERRY_SANDBOX_FILE and `inject('sandbox')`), and stops it afterwards unless
 * FERRY_KEEP_SANDBOX=1 (faster reruns: a running sandbox is reused as is).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { projectRoot, type SandboxInfo, sandboxDown, sandboxUp } from '../../src/sandbox/index.js';
import { tlsSandboxDir } from './tls-sandbox.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Another Kafka version (FERRY_KAFKA_VERSION) gets a sandbox of its own: Kafka data is not shared.
  const kafka = process.env['FERRY_KAFKA_VERSION'];
  const dir =
    process.env['FERRY_TEST_SANDBOX_DIR'] ??
    join(projectRoot(), '.ferry', kafka && kafka !== '3.9.1' ? `test-sandbox-kafka-${kafka}` : 'test-sandbox');
  const log = (line: string) => process.stderr.write(`[sandbox] ${line}\n`);
  const info = await sandboxUp({ dir, log });
  process.env['FERRY_SANDBOX_FILE'] = join(info.sandbox.dir, 'sandbox.json');
  project.provide('sandbox', info);
  return async () => {
    if (process.env['FERRY_KEEP_SANDBOX'] === '1') {
      log(`kept running (FERRY_KEEP_SANDBOX=1); stop it with: npx ferry sandbox down --dir ${dir}`);
      return;
    }
    await sandboxDown({ dir, log });
    // The TLS sandbox, when a TLS test started it (test/helpers/tls-sandbox.ts).
    if (existsSync(join(tlsSandboxDir(), 'sandbox.json'))) await sandboxDown({ dir: tlsSandboxDir(), log });
  };
}
