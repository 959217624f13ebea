import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  configDocs,
  configFields,
  DOCS_PATH,
  loadConfig,
  MINIMAL_EXAMPLE,
  parseConfig,
  REGENERATE_DOCS_COMMAND,
} from '../../src/config/index.js';

const ENV = { SOURCE_PASSWORD: 'source-pw', TARGET_PASSWORD: 'target-pw' };
const EXAMPLES = 'config/examples';

describe('docs/configuration.md', () => {
  it('equals configDocs() (set FERRY_WRITE_DOCS=1 to regenerate)', () => {
    const generated = configDocs();
    if (process.env['FERRY_WRITE_DOCS'] === '1') writeFileSync(DOCS_PATH, generated);
    const committed = readFileSync(DOCS_PATH, 'utf8');
    expect(committed, `docs/configuration.md is stale; regenerate it: ${REGENERATE_DOCS_COMMAND}`).toBe(generated);
  });

  it('documents every field with its path, type and secrecy', () => {
    const docs = configDocs();
    for (const field of configFields()) {
      expect(field.description, field.path).not.toBe('');
      expect(docs).toContain(`\`${field.path}\``);
    }
    expect(docs).toMatch(/\| \[`source\.password`\]\(#sourcepassword\) +\| string +\| not set +\| yes +\|/);
    expect(docs).toContain('- **Default:** `6`');
    expect(docs).toContain('- **Allowed:** `mysql`, `postgres`');
    expect(docs).toContain('- **Allowed:** 1 to 1000');
  });

  it('marks exactly the password and private key fields secret', () => {
    expect(
      configFields()
        .filter((f) => f.secret)
        .map((f) => f.path),
    ).toEqual([
      'kafka.sasl.password',
      'kafka.tls.key',
      'source.password',
      'source.tls.key',
      'sink.password',
      'sink.tls.key',
    ]);
  });
});

describe('examples', () => {
  it('every field example is valid for its field', () => {
    for (const field of configFields()) {
      if (field.example === undefined) continue;
      expect(field.schema.safeParse(field.example).success, `${field.path} example`).toBe(true);
    }
  });

  it('the minimal example in the docs validates', () => {
    expect(parseConfig(MINIMAL_EXAMPLE, { env: ENV }).name).toBe('shop-move');
  });

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('ships the three example pipelines', () => {
    expect(files).toEqual(
      expect.arrayContaining(['mariadb-to-postgres.yaml', 'postgres-to-postgres.yaml', 'postgres-to-mariadb.yaml']),
    );
  });

  it.each(files)('%s validates', (file) => {
    const config = loadConfig(`${EXAMPLES}/${file}`, ENV);
    const [from, to] = file.replace('.yaml', '').split('-to-');
    expect(config.source.kind).toBe(from === 'mariadb' ? 'mysql' : 'postgres');
    expect(config.sink.kind).toBe(to === 'mariadb' ? 'mysql' : to === 'redis' ? 'redis' : 'postgres');
    expect(config.source.connection.password ?? config.source.password).toBe(ENV.SOURCE_PASSWORD);
    expect(config.sink.connection.password).toBe(ENV.TARGET_PASSWORD);
  });
});
