import pg from 'pg';
import type { Logger } from 'pino';
import { CHANGE_CHANNEL } from './triggers.js';

/**
 * Listens for Ferry's change notifications on one or more databases. A lost connection is logged
 * and the feed falls back to polling (the watch loop's interval) rather than failing the watch.
 */
export class ChangeFeed {
  private waiters: (() => void)[] = [];
  private pending = false;
  private readonly clients: pg.Client[] = [];

  private constructor(private readonly logger?: Logger) {}

  static async listen(urls: string[], logger?: Logger): Promise<ChangeFeed> {
    const feed = new ChangeFeed(logger);
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

function sleep(ms: number, signal?: AbortSignal): Promise<'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('aborted');
    const timer = setTimeout(() => resolve('timeout'), ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve('aborted')), { once: true });
  });
}

export interface WatchOptions {
  /** Polling interval: the longest a change waits when no notification comes. */
  intervalMs: number;
  feed?: ChangeFeed;
  signal?: AbortSignal;
  /** After a notification, wait this long for the writer's burst to finish before syncing. */
  settleMs?: number;
  /** Stop after this many runs (tests, benchmarks). */
  maxRuns?: number;
}

/**
 * Runs `runOnce` continuously: right away, then whenever a change is notified, or after the
 * interval at the latest. A failed run is logged by the caller and the loop goes on.
 */
export async function watchLoop(runOnce: (trigger: 'start' | 'change' | 'timeout') => Promise<void>, options: WatchOptions): Promise<number> {
  let runs = 0;
  let trigger: 'start' | 'change' | 'timeout' = 'start';
  for (;;) {
    if (options.signal?.aborted) return runs;
    await runOnce(trigger);
    runs++;
    if (options.maxRuns !== undefined && runs >= options.maxRuns) return runs;
    const outcome = options.feed ? await options.feed.wait(options.intervalMs, options.signal) : await sleep(options.intervalMs, options.signal);
    if (outcome === 'aborted') return runs;
    trigger = outcome;
    if (outcome === 'change' && options.settleMs) await sleep(options.settleMs, options.signal);
  }
}
