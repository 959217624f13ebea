import { defineConfig } from 'vitest/config';

// Three kinds of tests (see CONTRIBUTING.md):
//   *.test.ts            unit tests, no servers
//   *.it.test.ts         integration tests against the sandbox (Kafka, PostgreSQL, MariaDB)
//   *.fault.test.ts      crash / restart / outage tests against the sandbox
export default defineConfig({
  test: {
    // The JSON report feeds the closing lines of .ci/run; the run against another Kafka version
    // (`npm run test:kafka4`, FERRY_KAFKA_VERSION) writes its own.
    reporters: [
      'default',
      [
        'json',
        {
          outputFile: process.env['FERRY_KAFKA_VERSION']
            ? `.ferry/test-results-kafka-${process.env['FERRY_KAFKA_VERSION']}.json`
            : '.ferry/test-results.json',
        },
      ],
    ],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'connectors/**/*.test.ts'],
          exclude: ['**/*.it.test.ts', '**/*.fault.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.it.test.ts', 'test/fault/**/*.fault.test.ts', 'connectors/**/*.it.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
