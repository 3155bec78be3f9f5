import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ExportTarget } from '../api/exporttarget.js';
import type { SyncFlow } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import { openStateStore, type StateStore } from '../store/db.js';
import type { ControllerConfig } from './config.js';
import type { ControllerContext, JobObject, WorkKind } from './context.js';
import { ExportTargetReconciler } from './exporttarget-reconciler.js';
import { startHealthServer } from './health-server.js';
import { ResilientInformer, type InformerEvent } from './informer.js';
import { Kube, errorMessage, type KindName, type KubeObject } from './kube.js';
import { credentialsSecretsSource } from './credentials-secrets.js';
import { LABEL_MANAGED_BY, LABEL_SYNCJOB, MANAGED_BY } from './labels.js';
import { LeaderElector } from './leader-election.js';
import { ControllerMetrics } from './metrics.js';
import { RunStore } from './run-store.js';
import { SyncFlowReconciler } from './syncflow-reconciler.js';
import { SyncJobReconciler } from './syncjob-reconciler.js';
import { StateCredentialsReconciler } from './state-credentials-reconciler.js';
import { startWebhookServer } from './webhook-server.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  kube: Kube;
  config: ControllerConfig;
  stateDbUrl: string;
  logger: Logger;
  /** Watch one namespace; default all. */
  namespace?: string;
  leaderElection?: { namespace: string; name: string; identity?: string; leaseDurationSeconds?: number; renewIntervalMs?: number } | false;
  workers?: number;
  /** Port for /healthz, /readyz, /metrics; 0 picks a free one; undefined: no server. */
  healthPort?: number;
  healthHost?: string;
  /** Port for POST /webhooks/<namespace>/<flow>; 0 picks a free one; undefined: no webhook server. */
  webhookPort?: number;
  webhookHost?: string;
  processMetrics?: boolean;
  /** How often each namespace's credentials Secret is checked (recreated when deleted, rotated on request). */
  credentialsCheckMs?: number;
  now?: () => Date;
}

function resourceVersion(object: KubeObject | undefined): number {
  return Number(object?.metadata.resourceVersion ?? 0);
}

/**
 * `ferry controller`: informers for SyncFlows, SyncJobs, ExportTargets and the Jobs it owns feed a
 * keyed work queue; only the Lease holder reconciles (a passive replica keeps its caches warm).
 */
export class Controller {
  readonly metrics: ControllerMetrics;
  readonly identity: string;
  private readonly logger: Logger;
  private readonly ctx: ControllerContext;
  private readonly runs: RunStore;
  private store?: StateStore;
  private queue?: WorkQueue;
  private elector?: LeaderElector;
  private health?: { port: number; close: () => Promise<void> };
  private webhooks?: { port: number; close: () => Promise<void> };
  private readonly written = new Map<string, KubeObject>();
  private readonly informers: ResilientInformer<KubeObject>[];
  private readonly credentialSecrets: ResilientInformer<KubeObject>;
  private readonly flowReconciler: SyncFlowReconciler;
  private readonly jobReconciler: SyncJobReconciler;
  private readonly targetReconciler: ExportTargetReconciler;
  private readonly credentialsReconciler: StateCredentialsReconciler;
  private leading = false;
  private started = false;
  private stopping = false;
  private depthTimer?: NodeJS.Timeout;

  constructor(private readonly options: ControllerOptions) {
    this.logger = options.logger;
    this.metrics = new ControllerMetrics({ processMetrics: options.processMetrics });
    this.identity = (options.leaderElection && options.leaderElection.identity) || `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const { kube, namespace } = options;
    const store = new RunStore(options.stateDbUrl);
    this.runs = store;
    const informer = <T extends KubeObject>(name: string, kind: KindName | 'Job', list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, onEvent: (event: InformerEvent, object: T) => void, labelSelector?: string) =>
      new ResilientInformer<T>(kube.config, {
        name,
        path: kube.path(kind, namespace),
        list,
        labelSelector,
        logger: this.logger,
        onEvent,
        onError: () => this.metrics.informerRestarts.inc({ informer: name }),
      });
    const flows = informer<SyncFlow>('syncflows', 'SyncFlow', () => kube.list('SyncFlow', namespace), (_e, o) => {
      this.enqueue('SyncFlow', o.metadata.namespace!, o.metadata.name);
      this.enqueue('StateCredentials', o.metadata.namespace!, options.config.stateDbSecret.name);
      // Its read probe is shown on the ExportTarget a files source reads through.
      const reads = o.spec.source.files?.exportTargetRef?.name;
      if (reads) this.enqueue('ExportTarget', o.metadata.namespace!, reads);
    });
    const syncJobs = informer<SyncJob>('syncjobs', 'SyncJob', () => kube.list('SyncJob', namespace), (event, o) => {
      this.enqueue('SyncJob', o.metadata.namespace!, o.metadata.name);
      if (event !== 'update' || o.status?.phase) this.enqueue('SyncFlow', o.metadata.namespace!, o.spec.flowRef.name);
    });
    const selector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const jobs = informer<JobObject>(
      'jobs',
      'Job',
      async () => {
        const list = namespace
          ? await kube.batch.listNamespacedJob({ namespace, labelSelector: selector })
          : await kube.batch.listJobForAllNamespaces({ labelSelector: selector });
        return list as unknown as { items: JobObject[]; metadata?: { resourceVersion?: string } };
      },
      (_e, o) => {
        const owner = o.metadata.ownerReferences?.find((r) => r.kind === 'SyncJob')?.name ?? o.metadata.labels?.[LABEL_SYNCJOB];
        if (owner) this.enqueue('SyncJob', o.metadata.namespace!, owner);
      },
      selector,
    );
    const targets = informer<ExportTarget>('exporttargets', 'ExportTarget', () => kube.list('ExportTarget', namespace), (_e, o) => this.enqueue('ExportTarget', o.metadata.namespace!, o.metadata.name));
    // A deleted or changed credentials Secret is seen at once (re-issued, or rotated on request); at start, a
    // namespace whose Secret is there but whose flows are gone gets its credential retired.
    const secrets = credentialsSecretsSource(kube, namespace, options.config.stateDbSecret.name);
    this.credentialSecrets = new ResilientInformer<KubeObject>(kube.config, {
      name: 'credentials-secrets',
      ...secrets,
      logger: this.logger,
      onEvent: (_e, o) => this.enqueue('StateCredentials', o.metadata.namespace!, options.config.stateDbSecret.name),
      onError: () => this.metrics.informerRestarts.inc({ informer: 'credentials-secrets' }),
    });
    this.informers = [flows, syncJobs, jobs, targets, this.credentialSecrets] as unknown as ResilientInformer<KubeObject>[];

    this.ctx = {
      kube,
      config: options.config,
      runs: store,
      flows,
      syncJobs,
      jobs,
      targets,
      metrics: this.metrics,
      logger: this.logger,
      now: options.now ?? (() => new Date()),
      enqueue: (kind, ns, name, afterMs) => this.enqueue(kind, ns, name, afterMs),
      fresh: (kind, object) => this.fresh(kind, object),
      patchStatus: (kind, object, status) => this.patchStatus(kind, object, status),
      event: (object, type, reason, message) => void this.event(object, type, reason, message),
      ensureStateCredentials: (ns) => this.credentialsReconciler.ensure(ns),
    };
    this.flowReconciler = new SyncFlowReconciler(this.ctx);
    this.jobReconciler = new SyncJobReconciler(this.ctx);
    this.targetReconciler = new ExportTargetReconciler(this.ctx);
    this.credentialsReconciler = new StateCredentialsReconciler(this.ctx, options.stateDbUrl, options.credentialsCheckMs ?? 30_000);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get healthPort(): number | undefined {
    return this.health?.port;
  }

  get webhookPort(): number | undefined {
    return this.webhooks?.port;
  }

  get queueDepth(): number {
    return this.queue?.depth ?? 0;
  }

  /** Starts the caches, the health server and the election; resolves once the caches are synced. */
  async start(): Promise<void> {
    this.started = true;
    this.store = await openStateStore(this.options.stateDbUrl, { max: 1 }); // applies pending migrations
    if (this.options.healthPort !== undefined) {
      this.health = await startHealthServer(
        this.options.healthPort,
        this.options.healthHost ?? '0.0.0.0',
        { healthy: () => !this.stopping, ready: () => this.started && this.informers.every((i) => i.hasSynced) },
        this.metrics.registry,
      );
    }
    await Promise.all(this.informers.map((i) => i.start()));
    // Every replica answers webhooks (the Service picks any ready pod); the leader runs the SyncJobs.
    if (this.options.webhookPort !== undefined) {
      this.webhooks = await startWebhookServer({
        port: this.options.webhookPort,
        host: this.options.webhookHost ?? '0.0.0.0',
        kube: this.options.kube,
        logger: this.logger,
        findFlow: (namespace, name) => this.ctx.flows.get(namespace, name),
        namespace: this.options.namespace,
      });
    }
    this.depthTimer = setInterval(() => this.metrics.queueDepth.set(this.queue?.depth ?? 0), 1000);
    this.depthTimer.unref();
    const election = this.options.leaderElection;
    if (election === false || election === undefined) {
      this.startLeading();
      return;
    }
    this.elector = new LeaderElector(this.options.kube, {
      namespace: election.namespace,
      name: election.name,
      identity: this.identity,
      leaseDurationSeconds: election.leaseDurationSeconds ?? 15,
      renewIntervalMs: election.renewIntervalMs ?? 2000,
      logger: this.logger,
      onStartedLeading: () => this.startLeading(),
      onStoppedLeading: () => void this.stopLeading(),
    });
    this.elector.start();
  }

  /**
   * Graceful shutdown: stop taking work, let running reconciles finish, release the lease (unless
   * `release` is false: a crash, for tests), stop the watches.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopping = true;
    await this.stopLeading();
    await this.elector?.stop(options.release ?? true);
    for (const informer of this.informers) informer.stop();
    clearInterval(this.depthTimer);
    await this.webhooks?.close();
    await this.health?.close();
    await this.runs.close().catch(() => {});
    await this.store?.close().catch(() => {});
  }

  private startLeading(): void {
    if (this.leading || this.stopping) return;
    this.leading = true;
    this.metrics.leader.set(1);
    this.logger.info({ identity: this.identity }, 'leading: reconciling');
    this.queue = new WorkQueue({
      concurrency: this.options.workers ?? 4,
      process: (key) => this.process(key),
      onError: (key, error, attempt) => this.logger.warn({ key, attempt, err: errorMessage(error) }, 'reconcile failed; retrying'),
    });
    for (const secret of this.credentialSecrets.list()) this.enqueue('StateCredentials', secret.metadata.namespace!, this.options.config.stateDbSecret.name);
    this.credentialsReconciler
      .orphaned(this.options.namespace)
      .then((namespaces) => namespaces.forEach((ns) => this.enqueue('StateCredentials', ns, this.options.config.stateDbSecret.name)))
      .catch((error) => this.logger.warn({ err: errorMessage(error) }, 'could not list the namespaces with state database roles'));
    for (const object of this.ctx.flows.list()) {
      this.enqueue('SyncFlow', object.metadata.namespace!, object.metadata.name);
      this.enqueue('StateCredentials', object.metadata.namespace!, this.options.config.stateDbSecret.name);
    }
    for (const object of this.ctx.syncJobs.list()) this.enqueue('SyncJob', object.metadata.namespace!, object.metadata.name);
    for (const object of this.ctx.targets.list()) this.enqueue('ExportTarget', object.metadata.namespace!, object.metadata.name);
  }

  private async stopLeading(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.metrics.leader.set(0);
    const queue = this.queue;
    this.queue = undefined;
    await queue?.shutdown();
  }

  private enqueue(kind: WorkKind, namespace: string, name: string, afterMs?: number): void {
    const key = `${kind}/${namespace}/${name}`;
    if (afterMs) this.queue?.addAfter(key, afterMs);
    else this.queue?.add(key);
  }

  private async process(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const [kind, namespace, name] = key.split('/') as [WorkKind, string, string];
    const end = this.metrics.reconcileSeconds.startTimer({ kind });
    try {
      const result =
        kind === 'SyncFlow'
          ? await this.flowReconciler.reconcile(namespace, name)
          : kind === 'SyncJob'
            ? await this.jobReconciler.reconcile(namespace, name)
            : kind === 'StateCredentials'
              ? await this.credentialsReconciler.reconcile(namespace)
              : await this.targetReconciler.reconcile(namespace, name);
      this.metrics.reconciles.inc({ kind, result: 'success' });
      return result;
    } catch (error) {
      this.metrics.reconciles.inc({ kind, result: 'error' });
      throw error;
    } finally {
      end();
    }
  }

  private fresh<T extends KubeObject>(kind: KindName, object: T | undefined): T | undefined {
    if (!object) return undefined;
    const key = `${kind}/${object.metadata.namespace}/${object.metadata.name}`;
    const written = this.written.get(key);
    if (!written) return object;
    if (written.metadata.uid !== object.metadata.uid || resourceVersion(written) <= resourceVersion(object)) {
      this.written.delete(key);
      return object;
    }
    return written as T;
  }

  private async patchStatus<T extends KubeObject>(kind: KindName, object: T, status: Record<string, unknown>): Promise<T> {
    const updated = await this.options.kube.patchStatus<T>(kind, object.metadata.namespace!, object.metadata.name, status);
    this.written.set(`${kind}/${object.metadata.namespace}/${object.metadata.name}`, updated);
    return updated;
  }

  private async event(object: KubeObject & { apiVersion?: string; kind?: string }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    try {
      await this.options.kube.core.createNamespacedEvent({
        namespace: object.metadata.namespace!,
        body: {
          metadata: { generateName: `${object.metadata.name}.`, namespace: object.metadata.namespace },
          involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: 'ferry-controller' },
          reportingComponent: 'ferry.dev/controller',
          reportingInstance: this.identity.slice(0, 128),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.logger.debug({ err: errorMessage(error) }, 'could not record event');
    }
  }
}
