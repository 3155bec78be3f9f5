import type { ChangeFeed } from './connector.js';

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
  /** Feeds of the watched systems that have one; without any, the loop polls. */
  feeds?: ChangeFeed[];
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
    const feeds = options.feeds ?? [];
    const outcome = feeds.length > 0 ? await firstChange(feeds, options.intervalMs, options.signal) : await sleep(options.intervalMs, options.signal);
    if (outcome === 'aborted') return runs;
    trigger = outcome;
    if (outcome === 'change' && options.settleMs) await sleep(options.settleMs, options.signal);
  }
}

/** Waits on every feed at once: the first change wins, the other waits are called off. */
async function firstChange(feeds: ChangeFeed[], timeoutMs: number, signal?: AbortSignal): Promise<'change' | 'timeout' | 'aborted'> {
  const round = new AbortController();
  const stop = () => round.abort();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const outcome = await Promise.race(feeds.map((feed) => feed.wait(timeoutMs, round.signal)));
    return signal?.aborted ? 'aborted' : outcome;
  } finally {
    round.abort();
    signal?.removeEventListener('abort', stop);
  }
}
