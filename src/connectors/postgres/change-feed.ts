import pg from 'pg';
import type { Logger } from 'pino';
import type { ChangeFeed } from '../../engine/connector.js';
import { CHANGE_CHANNEL } from './triggers.js';

/**
 * Listens for Ferry's change notifications on one or more databases. A lost connection is logged
 * and the feed falls back to polling (the watch loop's interval) rather than failing the watch.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private waiters: (() => void)[] = [];
  private pending = false;
  private readonly clients: pg.Client[] = [];

  private constructor(private readonly logger?: Logger) {}

  static async listen(urls: string[], logger?: Logger): Promise<PostgresChangeFeed> {
    const feed = new PostgresChangeFeed(logger);
    for (const url of new Set(urls)) {
      const client = new pg.Client({ connectionString: url, application_name: 'ferry-listen' });
      client.on('notification', () => feed.notify());
      client.on('error', (error) => logger?.warn({ err: error.message }, 'change feed connection lost; polling only'));
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      feed.clients.push(client);
    }
    return feed;
  }

  private notify(): void {
    this.pending = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notification (at once if one arrived since the last call), or after `timeoutMs`. */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<'change' | 'timeout' | 'aborted'> {
    if (signal?.aborted) return 'aborted';
    if (this.pending) {
      this.pending = false;
      return 'change';
    }
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: 'change' | 'timeout' | 'aborted') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (outcome === 'change') this.pending = false;
        resolve(outcome);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => finish('change'));
    });
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.end().catch(() => {});
  }
}
