import { setTimeout as sleep } from 'node:timers/promises';
import { TransferError } from './types.js';

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries spread out. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retry - 1));
  return exponential / 2 + random() * (exponential / 2);
}

/** Runs `attempt` until it succeeds, fails permanently, or runs out of attempts; returns the value and attempt count. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  onRetry?: (error: TransferError, n: number, delayMs: number) => void,
): Promise<{ value: T; attempts: number }> {
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(n), attempts: n };
    } catch (error) {
      const classified = error instanceof TransferError ? error : new TransferError('TransferFailed', (error as Error).message, false, { cause: error });
      if (!classified.transient || n >= policy.maxAttempts) {
        classified.attempts = n;
        throw classified;
      }
      const delay = backoffDelay(policy, n);
      onRetry?.(classified, n, delay);
      await sleep(delay);
    }
  }
}
