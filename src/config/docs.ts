// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
/**
 * Generates docs/configuration.md from the schema. The field reference comes entirely from
 * src/config/schema.ts (through configFields()); the prose around it lives here. A unit test
 * checks that the committed file equals configDocs(), so the two cannot drift.
 */
import { type ConfigField, configFields, fieldAt } from './fields.js';

export const DOCS_PATH = 'docs/configuration.md';

export const REGENERATE_DOCS_COMMAND = 'npm run build && node dist/src/config/gen-docs.js';

/** The smallest useful pipeline; the docs show it and a unit test checks that it validates. */
export const MINIMAL_EXAMPLE = `name: shop-move
kafka:
  brokers: ["127.0.0.1:9092"]
source:
  kind: mysql
  url: mysql://ferry:\${SOURCE_PASSWORD}@127.0.0.1:3306/shop
  tables: ["shop.*"]
sink:
  kind: postgres
  url: postgres://ferry:\${TARGET_PASSWORD}@127.0.0.1:5432/shop
`;

function code(text: string): string {
  const ticks = text.includes('`') ? '``' : '`';
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

function yamlValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The optional section a field belongs to (`kafka.sasl`), if any; top-level sections do not count. */
function optionalParent(field: ConfigField): ConfigField | undefined {
  const parentPath = field.path.slice(0, field.path.lastIndexOf('.'));
  if (!parentPath.includes('.')) return undefined;
  const parent = fieldAt(parentPath);
  return parent && !parent.required ? parent : undefined;
}

function requiredText(field: ConfigField): string {
  const parent = optionalParent(field);
  return parent ? `required when ${code(parent.path)} is set` : 'required';
}

function defaultOf(field: ConfigField): string {
  if (field.defaultText) return field.defaultText;
  if (field.hasDefault) return code(yamlValue(field.default));
  if (field.required) return requiredText(field);
  return 'not set';
}

function anchor(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/** A Markdown table with aligned columns (the layout `biome format` gives it, so it stays stable). */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function summaryTable(fields: readonly ConfigField[]): string[] {
  const rows = fields
    .filter((field) => !field.section || field.path.includes('.'))
    .map((field) => [
      `[${code(field.path)}](#${anchor(field.path)})`,
      cell(field.type),
      cell(defaultOf(field)),
      field.secret ? 'yes' : field.secretPart ? 'password part' : 'no',
    ]);
  return table(['Field', 'Type', 'Default', 'Secret'], rows);
}

const DERIVED_NAMES: string[][] = [
  ['Table topics', '`<name>.<database or schema>.<table>`'],
  ['Source offsets, schemas', '`<name>.__offsets`, `<name>.__schemas`'],
  ['Dead letters', '`<name>.dlq`'],
  ['Kafka client id', '`ferry-<name>` (`kafka.clientId`)'],
  ['Sink consumer group', '`ferry-<name>-sink` (`sink.group`)'],
  ['PostgreSQL slot and publication', '`ferry_<name>`, `-` replaced by `_` (`source.slot`, `source.publication`)'],
  ['MySQL server id', 'a number derived from the name (`source.serverId`)'],
];

function fieldSection(field: ConfigField): string[] {
  const lines = [`### ${code(field.path)}`, '', field.description, ''];
  lines.push(`- **Type:** ${field.type}`);
  lines.push(
    `- **Required:** ${field.required ? (optionalParent(field) ? `when ${code(optionalParent(field)!.path)} is set` : 'yes') : field.onlyFor ? `no (only for ${code(field.onlyFor)})` : 'no'}`,
  );
  if (!field.required) lines.push(`- **Default:** ${defaultOf(field)}`);
  if (field.allowed) lines.push(`- **Allowed:** ${field.values ? field.values.map(code).join(', ') : field.allowed}`);
  if (field.example !== undefined)
    lines.push(`- **Example:** ${code(`${field.path.split('.').pop()}: ${yamlValue(field.example)}`)}`);
  lines.push(
    `- **Secret:** ${field.secret ? 'yes (never logged or printed)' : field.secretPart ? `no, but ${field.secretPart} is (never logged or printed)` : 'no'}`,
  );
  lines.push('');
  return lines;
}

function sectionBlock(section: ConfigField, fields: readonly ConfigField[]): string[] {
  const lines = [`## ${code(section.path)}`, '', section.description, ''];
  for (const field of fields) if (field.path.startsWith(`${section.path}.`)) lines.push(...fieldSection(field));
  return lines;
}

/** The whole of docs/configuration.md. */
export function configDocs(): string {
  const fields = configFields();
  const topLevel = fields.filter((f) => !f.path.includes('.'));
  const lines: string[] = [
    '<!--',
    '  GENERATED from src/config/schema.ts by configDocs() (src/config/docs.ts). Do not edit by hand.',
    `  Regenerate:  ${REGENERATE_DOCS_COMMAND}`,
    '  Without a build:  FERRY_WRITE_DOCS=1 npx vitest run --project unit test/unit/config-docs.test.ts',
    '  A unit test fails when this file differs from configDocs().',
    '-->',
    '',
    '# Pipeline configuration',
    '',
    'A pipeline is one YAML file, given to every command with `-c <file>`. `ferry validate -c <file>` checks it',
    'without connecting to anything.',
    '',
    '## A minimal pipeline',
    '',
    '```yaml',
    MINIMAL_EXAMPLE.trimEnd(),
    '```',
    '',
    'Complete, commented examples: `config/examples/mariadb-to-postgres.yaml`,',
    '`config/examples/postgres-to-postgres.yaml`, `config/examples/postgres-to-mariadb.yaml`.',
    '',
    '## Environment variables',
    '',
    'Any string value may use environment variables, so that secrets stay out of the file:',
    '',
    '- `${NAME}` is replaced by the value of `NAME`. If `NAME` is not set, ferry stops with `FERRY_CONFIG_ENV`,',
    '  naming the variable and the field that uses it. A variable set to the empty string counts as set.',
    '- `${NAME:-default}` uses `default` when `NAME` is unset or empty. The default runs to the first `}`.',
    '- `$${` is a literal `${`.',
    '',
    'Interpolation happens after YAML parsing, on string values only (never on keys), so a password full of',
    'YAML-special characters (`: # \' "`) needs no quoting. Numbers and booleans may come from variables too:',
    '`partitions: ${PARTITIONS:-6}` is accepted, as is `brokers: ${KAFKA_BROKERS}` with a comma-separated list.',
    '',
    '## Secrets',
    '',
    'Fields marked secret below, and the password inside `source.url` and `sink.url`, are never written to logs,',
    'status output or error messages: ferry replaces them with `***` (`mysql://ferry:***@host:3306/shop`).',
    'In a URL, user and password run to the last `@` and are percent-decoded: a password from `${VAR}` may',
    'contain `@ / ? #`, but a `%` in it must be written `%25`; or give it in `source.password` / `sink.password`.',
    'Configuration error messages never echo a secret field or the password of a URL either.',
    '',
    '## Errors',
    '',
    'ferry validates the whole file before it starts, and reports every problem at once, each with the field,',
    'the line, what was wrong and what is allowed:',
    '',
    '```text',
    'pipeline.yaml has 2 problems:',
    '  - sink.kind: expected one of postgres, mysql, redis, got "oracle" (pipeline.yaml:9)',
    '  - sink.batchsize: unknown field; did you mean sink.batchSize? (pipeline.yaml:11)',
    '```',
    '',
    'Unknown fields are errors (a typo must not silently fall back to a default). Error codes: `FERRY_CONFIG_FILE`',
    '(file missing or not valid YAML), `FERRY_CONFIG_ENV` (a variable is not set), `FERRY_CONFIG_INVALID` (the',
    'content); the command exits with status 2.',
    '',
    '## Names derived from `name`',
    '',
    ...table(['What', 'Name'], DERIVED_NAMES),
    '',
    '## All fields',
    '',
    ...summaryTable(fields),
    '',
  ];
  for (const top of topLevel) {
    if (top.section) lines.push(...sectionBlock(top, fields));
    else lines.push(`## ${code(top.path)}`, '', ...fieldSection(top).slice(2));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
