import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { createLogger, formatPrettyLine, memoryDestination } from '../../src/log/index.js';

const PASSWORD = 'S3cr3t-P@ss';

function jsonLogger(options: Parameters<typeof createLogger>[0] = {}) {
  const destination = memoryDestination();
  const logger = createLogger({ format: 'json', secrets: [PASSWORD], destination, ...options });
  return { logger, destination };
}

describe('createLogger (json)', () => {
  it('writes one JSON line per entry with level label, time, message and fields', () => {
    const { logger, destination } = jsonLogger();
    logger.info('source connected', { table: 'shop.orders', rows: 3 });
    const [entry] = destination.entries();
    expect(entry).toMatchObject({ level: 'info', msg: 'source connected', table: 'shop.orders', rows: 3 });
    expect(typeof entry?.['time']).toBe('string');
    expect(destination.lines).toHaveLength(1);
    expect(destination.lines[0]?.endsWith('\n')).toBe(true);
  });

  it('respects the level', () => {
    const { logger, destination } = jsonLogger({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(destination.entries().map((e) => e['level'])).toEqual(['warn', 'error']);
    expect(logger.isLevelEnabled('info')).toBe(false);
  });

  it('writes nothing when silent', () => {
    const { logger, destination } = jsonLogger({ level: 'silent' });
    logger.error('e');
    expect(destination.lines).toEqual([]);
  });

  it('child loggers add their fields, and call fields win', () => {
    const { logger, destination } = jsonLogger({ fields: { pipeline: 'shop-move' } });
    logger.child({ component: 'sink', table: 'a' }).info('applied', { table: 'b' });
    expect(destination.entries()[0]).toMatchObject({ pipeline: 'shop-move', component: 'sink', table: 'b' });
  });

  it('resolves auto to json off a TTY and pretty on one', () => {
    expect(createLogger({ format: 'auto', destination: memoryDestination() }).format).toBe('json');
    expect(createLogger({ format: 'auto', destination: memoryDestination({ isTTY: true }) }).format).toBe('pretty');
  });
});

describe('the logger never prints a known password', () => {
  const cases: [string, (log: ReturnType<typeof createLogger>) => void][] = [
    ['in the message', (log) => log.info(`auth with ${PASSWORD}`)],
    ['in a field', (log) => log.info('x', { value: PASSWORD })],
    ['in a nested field', (log) => log.info('x', { a: { b: { c: [`p=${PASSWORD}`] } } })],
    ['in an array', (log) => log.warn('x', { list: ['a', PASSWORD] })],
    ['in an error message', (log) => log.error('failed', { err: new Error(`bad password ${PASSWORD}`) })],
    [
      'in an error cause',
      (log) =>
        log.error('failed', {
          err: new FerryError('FERRY_AUTH', 'refused', { cause: new Error(`login ${PASSWORD} rejected`) }),
        }),
    ],
    ['in a URL in a string', (log) => log.info(`connecting to mysql://ferry:${encodeURIComponent(PASSWORD)}@db/shop`)],
    ['in a child binding', (log) => log.child({ dsn: `x ${PASSWORD}` }).info('x')],
    ['under a secret-looking key', (log) => log.info('x', { password: PASSWORD, sasl: { password: PASSWORD } })],
  ];

  for (const format of ['json', 'pretty'] as const) {
    it.each(cases)(`${format}: %s`, (_name, write) => {
      const destination = memoryDestination();
      const logger = createLogger({ format, level: 'debug', secrets: [PASSWORD], destination });
      write(logger);
      const text = destination.text();
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    });
  }

  it('masks URL passwords it does not know', () => {
    const { logger, destination } = jsonLogger();
    logger.info('dsn', { url: 'postgres://ferry:not-known@db:5432/shop' });
    expect(destination.entries()[0]?.['url']).toBe('postgres://ferry:***@db:5432/shop');
  });

  it('redacts secret-looking keys', () => {
    const { logger, destination } = jsonLogger();
    logger.info('config', { user: 'ferry', password: 'x', Authorization: 'Bearer y', nested: { apiToken: 'z' } });
    expect(destination.entries()[0]).toMatchObject({
      user: 'ferry',
      password: '[redacted]',
      Authorization: '[redacted]',
      nested: { apiToken: '[redacted]' },
    });
  });

  it('applies secrets added later to existing children too', () => {
    const { logger, destination } = jsonLogger({ secrets: [] });
    const child = logger.child({ note: 'late-secret' });
    logger.addSecrets(['late-secret']);
    child.info('message with late-secret');
    expect(destination.text()).not.toContain('late-secret');
  });

  it('serialises errors with code, stack and cause', () => {
    const { logger, destination } = jsonLogger();
    logger.error('stopped', { err: new FerryError('FERRY_CONNECTION', 'lost', { cause: new Error('ECONNRESET') }) });
    const err = destination.entries()[0]?.['err'];
    expect(err).toMatchObject({
      type: 'FerryError',
      code: 'FERRY_CONNECTION',
      message: 'lost',
      retriable: false,
      stack: expect.stringContaining('FerryError: lost'),
      cause: { type: 'Error', message: 'ECONNRESET' },
    });
  });
});

describe('pretty format', () => {
  it('writes one human line with time, level, message and fields', () => {
    const destination = memoryDestination();
    createLogger({ format: 'pretty', destination }).info('source connected', {
      table: 'shop.orders',
      note: 'two words',
    });
    expect(destination.text()).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}source connected table=shop\.orders note="two words"\n$/,
    );
  });

  it('shows errors inline, with the stack below for error-level entries', () => {
    const destination = memoryDestination();
    const logger = createLogger({ format: 'pretty', destination });
    logger.warn('retrying', { err: new FerryError('FERRY_CONNECTION', 'lost', { cause: new Error('ECONNRESET') }) });
    expect(destination.lines[0]).toContain('err="FerryError FERRY_CONNECTION: lost <- Error: ECONNRESET"');
    expect(destination.lines[0]?.trimEnd().split('\n')).toHaveLength(1);
    logger.error('stopped', { err: new Error('boom') });
    expect(destination.lines[1]?.split('\n').length).toBeGreaterThan(2);
    expect(destination.lines[1]).toMatch(/\n {4}at /);
  });

  it('colours only when asked', () => {
    const line = '{"level":"error","time":"2025-01-01T00:00:00.000Z","msg":"m"}';
    expect(formatPrettyLine(line)).not.toContain('\x1b[');
    expect(formatPrettyLine(line, { color: true })).toContain('\x1b[31m');
  });

  it('passes through a line that is not JSON', () => {
    expect(formatPrettyLine('plain')).toBe('plain\n');
  });
});
