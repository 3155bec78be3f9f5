import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ExportTarget } from '../api/exporttarget.js';
import type { SyncFlow } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import type { ControllerConfig } from './config.js';
import type { ResilientInformer } from './informer.js';
import type { Kube, KindName, KubeObject } from './kube.js';
import type { ControllerMetrics } from './metrics.js';
import type { RunStore } from './run-store.js';

export type JobObject = V1Job & KubeObject;

/** What the work queue reconciles: the three kinds, and a namespace's state-database credentials. */
export type WorkKind = KindName | 'StateCredentials';

/** What every reconciler gets: API access, caches, the state DB, metrics and a clock. */
export interface ControllerContext {
  kube: Kube;
  config: ControllerConfig;
  runs: RunStore;
  flows: ResilientInformer<SyncFlow>;
  syncJobs: ResilientInformer<SyncJob>;
  jobs: ResilientInformer<JobObject>;
  targets: ResilientInformer<ExportTarget>;
  metrics: ControllerMetrics;
  logger: Logger;
  now: () => Date;
  enqueue: (kind: WorkKind, namespace: string, name: string, afterMs?: number) => void;
  /** Makes sure the namespace's state-database credentials Secret exists before a Job there reads it. */
  ensureStateCredentials: (namespace: string) => Promise<void>;
  /** The newest known copy: the cache, or what our own status write returned if the cache lags behind. */
  fresh: <T extends KubeObject>(kind: KindName, object: T | undefined) => T | undefined;
  /** Writes status (merge patch; null removes a field) and remembers the result for `fresh`. */
  patchStatus: <T extends KubeObject>(kind: KindName, object: T, status: Record<string, unknown>) => Promise<T>;
  event: (object: KubeObject & { apiVersion?: string; kind?: string }, type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

export const flowIdOf = (namespace: string, flow: string) => `${namespace}/${flow}`;
