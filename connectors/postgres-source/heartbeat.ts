/**
 * Heartbeats: while the captured tables are idle, PostgreSQL sends the slot nothing (pgoutput
 * skips transactions of other tables), so there is no commit to confirm and the slot would keep
 * WAL forever on a database that is busy elsewhere. Every `intervalMs` without a transaction of
 * its own, the source writes a tiny transactional logical message
 * (pg_logical_emit_message(true, 'ferry_heartbeat', <slot>)). It arrives as a transaction of its
 * own, whose commit becomes a checkpoint like any other: once stored, the slot advances to it.
 */
import pg from 'pg';
import type { Logger } from '../../src/api/index.js';
import { clientConfig, type ResolvedOptions } from './config.js';

export const HEARTBEAT_PREFIX = 'ferry_heartbeat';

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private client: pg.Client | null = null;
  private lastActivity = Date.now();
  private busy = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly slot: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.opts.heartbeatIntervalMs <= 0 || this.timer) return;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.opts.heartbeatIntervalMs / 2)));
    this.timer = setInterval(() => void this.tick(), tick);
    this.timer.unref();
  }

  /** A transaction of the captured tables passed: no heartbeat needed for a while. */
  activity(): void {
    this.lastActivity = Date.now();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped || Date.now() - this.lastActivity < this.opts.heartbeatIntervalMs) return;
    this.busy = true;
    try {
      if (!this.client) {
        const client = new pg.Client(clientConfig(this.opts, 'heartbeat'));
        client.on('error', () => {
          if (this.client === client) this.client = null;
        });
        await client.connect();
        if (this.stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
      }
      await this.client.query('SELECT pg_logical_emit_message(true, $1::text, $2::text)', [
        HEARTBEAT_PREFIX,
        this.slot,
      ]);
      this.lastActivity = Date.now();
      this.failing = false;
    } catch (err) {
      // Warn once per streak: without heartbeats an idle slot keeps WAL on the server.
      const log = this.failing ? this.logger.debug : this.logger.warn;
      log.call(this.logger, 'heartbeat failed; the slot cannot advance while captured tables are idle; retrying', {
        error: (err as Error).message,
      });
      this.failing = true;
      const c = this.client;
      this.client = null;
      await c?.end().catch(() => undefined);
      this.lastActivity = Date.now();
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
