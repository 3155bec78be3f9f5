import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { withinTime } from '../util/within-time.js';
import { isStatus, type KubeObject } from './kube.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T> {
  name: string;
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  labelSelector?: string;
  /** A list that has not answered after this long is given up and retried (a black-holed connection). */
  listTimeoutMs?: number;
  /** Server-side watch timeout; the watch then resumes from the last resourceVersion. */
  watchTimeoutSeconds?: number;
  logger: Logger;
  onEvent: (event: InformerEvent, object: T) => void;
  onError?: (error: unknown) => void;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

function key(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/**
 * List + watch with a local cache. Unlike client-node's ListWatch, which stops for good on any
 * error other than 410 and a timeout (still so in 2.x: test/e2e/informer.test.ts), it restarts with
 * exponential backoff. A relist diffs against the cache, so deletions missed while disconnected are
 * delivered too. A watch that goes silent is ended by client-node's Watch (30 s without a byte) and
 * resumed from the last resourceVersion; a list is bounded by listTimeoutMs.
 */
export class ResilientInformer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private abort?: AbortController;
  private stopped = true;
  private backoffMs = MIN_BACKOFF_MS;
  private retryTimer?: NodeJS.Timeout;
  private generation = 0;
  private synced = false;
  private readonly watch: Watch;
  restarts = 0;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: InformerOptions<T>,
  ) {
    this.watch = new Watch(kubeConfig);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(filter?: (object: T) => boolean): T[] {
    const all = [...this.cache.values()];
    return filter ? all.filter(filter) : all;
  }

  get size(): number {
    return this.cache.size;
  }

  /** Resolves after the first successful list. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.relistAndWatch(this.generation);
    while (!this.synced && !this.stopped) await new Promise((r) => setTimeout(r, 100));
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
  }

  private scheduleRetry(error: unknown): void {
    if (this.stopped) return;
    this.options.onError?.(error);
    this.options.logger.warn({ informer: this.options.name, err: String((error as Error)?.message ?? error), retryInMs: this.backoffMs }, 'watch failed; retrying');
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.generation++;
    const generation = this.generation;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.resourceVersion = '';
      this.restarts++;
      void this.relistAndWatch(generation);
    }, delay);
  }

  private async relistAndWatch(generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation) return;
    if (!this.resourceVersion) {
      const listTimeoutMs = this.options.listTimeoutMs ?? 60_000;
      let listed;
      try {
        listed = await withinTime(this.options.list(), listTimeoutMs, () => `the list of ${this.options.name} did not answer within ${listTimeoutMs} ms`);
      } catch (error) {
        if (generation === this.generation) this.scheduleRetry(error);
        return;
      }
      if (this.stopped || generation !== this.generation) return;
      const seen = new Set<string>();
      for (const object of listed.items) {
        const k = key(object);
        seen.add(k);
        const previous = this.cache.get(k);
        this.cache.set(k, withoutManagedFields(object));
        if (!previous) this.options.onEvent('add', object);
        else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) this.options.onEvent('update', object);
      }
      for (const [k, object] of this.cache) {
        if (!seen.has(k)) {
          this.cache.delete(k);
          this.options.onEvent('delete', object);
        }
      }
      this.resourceVersion = listed.metadata?.resourceVersion ?? '';
      this.synced = true;
    }
    const query: Record<string, string | number | boolean> = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
    };
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    try {
      this.abort = await this.watch.watch(
        this.options.path,
        query,
        (type, object) => {
          if (generation !== this.generation) return;
          this.onWatchEvent(type, object);
        },
        (error) => {
          if (generation !== this.generation || this.stopped) return;
          const silent = (error as Error | null)?.name === 'TimeoutError';
          if (error && !silent && !isStatus(error, 410) && (error as Error).name !== 'AbortError') {
            this.scheduleRetry(error);
            return;
          }
          // Normal end (server timeout), silence, or 410 Gone: resume, relisting after 410.
          if (error && !silent) this.resourceVersion = '';
          this.generation++;
          void this.relistAndWatch(this.generation);
        },
      );
    } catch (error) {
      if (generation === this.generation) this.scheduleRetry(error);
    }
  }

  private onWatchEvent(type: string, object: T & { code?: number }): void {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        this.backoffMs = MIN_BACKOFF_MS;
        const k = key(object);
        const existed = this.cache.has(k);
        this.cache.set(k, withoutManagedFields(object));
        this.options.onEvent(existed ? 'update' : 'add', object);
        break;
      }
      case 'DELETED':
        this.cache.delete(key(object));
        this.options.onEvent('delete', object);
        break;
      case 'ERROR':
        // 410 Gone: the resourceVersion is too old. The server closes the watch next; relist then.
        if (object.code === 410) this.resourceVersion = '';
        return;
      default:
        break; // BOOKMARK
    }
    if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
  }
}

/**
 * managedFields are often the largest part of an object and the controller never reads them;
 * dropping them from the cache (as controller-runtime's TransformStripManagedFields does) keeps the
 * controller's memory in proportion to what it uses. Omitted managedFields are left unchanged by
 * any write.
 */
function withoutManagedFields<T extends KubeObject>(object: T): T {
  const metadata = object.metadata as { managedFields?: unknown };
  if (metadata?.managedFields !== undefined) delete metadata.managedFields;
  return object;
}
