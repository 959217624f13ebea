/**
 * The one connection of a SQL sink to its target, kept the same way for every engine: opened
 * on first use and replaced once it broke; every call through it has its errors classified (a
 * FERRY_CONNECTION, or details.connectionLost, marks it broken); a transaction rolls back on any error.
 */
import type { Logger } from '../api/connector.js';
import type { FerryError } from '../api/errors.js';

/** What a SQL sink's driver does its own way. `C` is the driver's connection. */
export interface SqlDriver<C> {
  /** `MySQL`, `PostgreSQL`: for log messages. */
  readonly name: string;
  /** The statement that opens a transaction (`BEGIN`, `START TRANSACTION`). */
  readonly begin: string;
  /** Opens and prepares a connection, calling `onError` if it breaks later; throws classified errors. */
  open(onError: (err: Error) => void): Promise<C>;
  /** Drops a broken connection without waiting. */
  discard(c: C): void;
  /** Closes a connection, never throwing. */
  end(c: C): Promise<void>;
  /** Runs a statement without parameters. */
  query(c: C, sql: string): Promise<unknown>;
  /** A driver error as a FerryError; `context` says what was being done. */
  classify(err: unknown, context: string): FerryError;
}

export class SqlSession<C> {
  private readonly driver: SqlDriver<C>;
  private readonly logger: () => Logger | null;
  private conn: C | null = null;
  private broken = false;

  constructor(driver: SqlDriver<C>, logger: () => Logger | null) {
    this.driver = driver;
    this.logger = logger;
  }

  /** Runs `fn` on the connection, classifying errors; a broken connection is replaced next time. */
  async run<T>(what: string, fn: (c: C) => Promise<T>): Promise<T> {
    const c = await this.connection();
    try {
      return await fn(c);
    } catch (err) {
      const e = this.driver.classify(err, what);
      // A classifier may mark a data error as one after which the server closed the connection.
      if (e.code === 'FERRY_CONNECTION' || e.details.connectionLost === true) this.broken = true;
      throw e;
    }
  }

  /** Runs `fn` inside one transaction; rolls back on any error. */
  transaction<T>(what: string, fn: (c: C) => Promise<T>): Promise<T> {
    const { driver } = this;
    return this.run(what, async (c) => {
      await driver.query(c, driver.begin);
      try {
        const out = await fn(c);
        await driver.query(c, 'COMMIT');
        return out;
      } catch (err) {
        await driver.query(c, 'ROLLBACK').catch(() => {
          this.broken = true;
        });
        throw err;
      }
    });
  }

  /** Another session to the same target with its own connection (parallel apply). */
  fork(): SqlSession<C> {
    return new SqlSession(this.driver, this.logger);
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await this.driver.end(c);
  }

  private async connection(): Promise<C> {
    if (this.conn && !this.broken) return this.conn;
    if (this.conn) {
      const old = this.conn;
      this.conn = null;
      this.driver.discard(old);
    }
    const conn = await this.driver.open((err) => {
      this.broken = true;
      this.logger()?.warn(`${this.driver.name} connection error`, { error: err.message });
    });
    this.conn = conn;
    this.broken = false;
    return conn;
  }
}
