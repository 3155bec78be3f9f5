import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isStatus, type KubeObject } from './kube.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T> {
  name: string;
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  labelSelector?: string;
  /** Relist when the watch has been silent this long (client-node watches can hang or stop). */
  silenceMs?: number;
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
 * List + watch with a local cache. Unlike client-node 1.x's ListWatch, which stops for good on any
 * non-410 error, it restarts with exponential backoff, and a watchdog relists after a silence.
 * A relist diffs against the cache, so deletions missed while disconnected are delivered too.
 */
export class ResilientInformer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private abort?: AbortController;
  private stopped = true;
  private backoffMs = MIN_BACKOFF_MS;
  private lastActivity = Date.now();
  private watchdog?: NodeJS.Timeout;
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
    const silence = this.options.silenceMs ?? 120_000;
    this.watchdog = setInterval(() => {
      if (!this.stopped && Date.now() - this.lastActivity > silence) {
        this.options.logger.warn({ informer: this.options.name, silentMs: Date.now() - this.lastActivity }, 'watch silent; relisting');
        this.restart(true);
      }
    }, Math.min(silence, 10_000));
    this.watchdog.unref();
    await this.relistAndWatch(this.generation);
    while (!this.synced && !this.stopped) await new Promise((r) => setTimeout(r, 100));
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    this.abort?.abort();
  }

  /** Drops the current watch and starts over (relisting when asked). */
  private restart(relist: boolean): void {
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    if (relist) this.resourceVersion = '';
    this.restarts++;
    void this.relistAndWatch(this.generation);
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
    this.lastActivity = Date.now();
    if (!this.resourceVersion) {
      let listed;
      try {
        listed = await this.options.list();
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
          this.lastActivity = Date.now();
          this.onWatchEvent(type, object);
        },
        (error) => {
          if (generation !== this.generation || this.stopped) return;
          if (error && !isStatus(error, 410) && (error as Error).name !== 'AbortError') {
            this.scheduleRetry(error);
            return;
          }
          // Normal end (server timeout) or 410 Gone: resume, relisting after 410.
          if (error) this.resourceVersion = '';
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
