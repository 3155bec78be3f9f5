import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isStatus, type Kube } from './kube.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewIntervalMs: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

function time(value: Date | string | undefined): number {
  return value ? new Date(value).getTime() : 0;
}

/**
 * coordination.k8s.io Lease election: acquire when the lease is free or expired, renew while
 * holding it, release on shutdown so a successor takes over at once. Lease times must be
 * V1MicroTime (the API rejects a plain Date's millisecond format). Losing a renewal stops leading.
 */
export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;

  constructor(
    private readonly kube: Kube,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; when leading, releases the lease (unless `release` is false, as in a crash test). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading && release) {
      try {
        const lease = await this.read();
        if (lease?.spec?.holderIdentity === this.options.identity) {
          lease.spec.holderIdentity = undefined;
          lease.spec.leaseDurationSeconds = 1;
          lease.spec.renewTime = new V1MicroTime(Date.now());
          await this.kube.coordination.replaceNamespacedLease({ namespace: this.options.namespace, name: this.options.name, body: lease });
          this.options.logger.info({ lease: this.options.name }, 'released leadership');
        }
      } catch (error) {
        this.options.logger.warn({ err: String(error) }, 'could not release the lease');
      }
    }
    this.setLeading(false);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.kube.coordination.readNamespacedLease({ namespace: this.options.namespace, name: this.options.name });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const acquired = await this.tryAcquireOrRenew();
      if (acquired) this.lastRenew = Date.now();
      if (!this.stopped) this.setLeading(acquired);
    } catch (error) {
      this.options.logger.warn({ err: String((error as Error).message ?? error) }, 'lease update failed');
      // Keep leading through transient errors only while the lease we hold is still valid.
      if (this.leading && Date.now() - this.lastRenew > this.options.leaseDurationSeconds * 1000 * 0.8) this.setLeading(false);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.options.renewIntervalMs);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = new V1MicroTime(Date.now());
    const lease = await this.read();
    if (!lease) {
      try {
        await this.kube.coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        this.options.logger.info({ lease: name, identity }, 'acquired leadership');
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const expired = time(spec.renewTime) + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < Date.now();
    if (holder && holder !== identity && !expired) return false;
    const takeover = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      acquireTime: takeover ? now : spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover ? 1 : 0),
    };
    try {
      // replace carries resourceVersion: two candidates racing for an expired lease cannot both win.
      await this.kube.coordination.replaceNamespacedLease({ namespace, name, body: lease });
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
    if (takeover) this.options.logger.info({ lease: name, identity, previous: holder ?? null }, 'acquired leadership');
    return true;
  }
}
