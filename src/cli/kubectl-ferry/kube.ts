/** The plugin's view of the API server: the user's kubeconfig, the three Ferry kinds and report ConfigMaps. */
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION_NAME } from '../../api/common.js';
import type { ExportTarget } from '../../api/exporttarget.js';
import type { SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { FerryError } from '../../util/errors.js';
import { impersonating, type Impersonation } from './impersonation.js';
import type { JsonPatchOperation } from './suspend.js';

export interface ConnectionOptions extends Impersonation {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Loads the kubeconfig the way kubectl does ($KUBECONFIG, ~/.kube/config, in-cluster) and picks the namespace. */
export function loadKubeConfig(options: ConnectionOptions): { kubeConfig: KubeConfig; namespace: string } {
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new FerryError(`cannot load kubeconfig: ${(error as Error).message}`, 2);
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) throw new FerryError(`context "${options.context}" is not in the kubeconfig`, 2);
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) throw new FerryError('no current cluster in the kubeconfig: set a context (kubectl config use-context)', 2);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { kubeConfig: impersonating(kubeConfig, options), namespace: options.namespace ?? contextNamespace ?? 'default' };
}

function errorBody(error: ApiException<unknown>): { message?: string; reason?: string } {
  const body = error.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string };
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as { message?: string };
}

/** An API server's refusal, with its HTTP status (the console answers with the same status). */
export class KubeApiError extends FerryError {
  constructor(
    message: string,
    exitCode: number,
    readonly status: number,
  ) {
    super(message, exitCode);
  }
}

/** One sentence for an API error: what was asked, and the API server's own message. */
export function describeApiError(what: string, error: unknown): FerryError {
  if (error instanceof ApiException) {
    const { message } = errorBody(error as ApiException<unknown>);
    if (error.code === 404) return new KubeApiError(`${what}: not found`, 1, 404);
    if (error.code === 401) return new KubeApiError(`${what}: unauthorized (check your kubeconfig credentials)`, 1, 401);
    return new KubeApiError(`${what}: ${message ?? `HTTP ${error.code}`}`, error.code === 422 || error.code === 400 ? 2 : 1, error.code);
  }
  const code = networkErrorCode(error);
  if (code === 'ECONNREFUSED') return new FerryError(`${what}: cannot reach the API server`, 1);
  if (code) return new FerryError(`${what}: cannot reach the API server (${code})`, 1);
  const { message, cause } = error as { message?: string; cause?: { message?: string } };
  const detail = cause?.message ? `${message} (${cause.message})` : (message ?? String(error));
  return new FerryError(`${what}: ${detail}`, 1);
}

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The socket error under a failed request: undici's fetch wraps it as `TypeError('fetch failed', { cause })`. */
function networkErrorCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && networkCodes.has(e.code)) return e.code;
  }
  return undefined;
}

const kinds = { SyncFlow: 'syncflows', SyncJob: 'syncjobs', ExportTarget: 'exporttargets' } as const;

export class FerryClient {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  private async call<T>(what: string, request: () => Promise<unknown>): Promise<T> {
    try {
      return (await request()) as T;
    } catch (error) {
      throw describeApiError(what, error);
    }
  }

  private ref(kind: keyof typeof kinds) {
    return { group: API_GROUP, version: API_VERSION_NAME, namespace: this.namespace, plural: kinds[kind] };
  }

  getFlow(name: string): Promise<SyncFlow> {
    return this.call(`SyncFlow ${this.namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ ...this.ref('SyncFlow'), name }));
  }

  async listFlows(): Promise<SyncFlow[]> {
    const list = await this.call<{ items: SyncFlow[] }>(`list SyncFlows in ${this.namespace}`, () => this.custom.listNamespacedCustomObject(this.ref('SyncFlow')));
    return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /**
   * One page of SyncFlows in name order, as the API server pages (`limit`/`continue`): the console's
   * first page reads 20 flows, not all of them. `remaining` is the API server's count of the rest.
   */
  async listFlowsPage(limit: number, continueToken?: string): Promise<{ items: SyncFlow[]; continue?: string; remaining?: number }> {
    const list = await this.call<{ items: SyncFlow[]; metadata?: { continue?: string; remainingItemCount?: number } }>(`list SyncFlows in ${this.namespace}`, () =>
      this.custom.listNamespacedCustomObject({ ...this.ref('SyncFlow'), limit, ...(continueToken ? { _continue: continueToken } : {}) }),
    );
    return {
      items: list.items,
      ...(list.metadata?.continue ? { continue: list.metadata.continue } : {}),
      ...(list.metadata?.remainingItemCount !== undefined ? { remaining: list.metadata.remainingItemCount } : {}),
    };
  }

  getSyncJob(name: string): Promise<SyncJob> {
    return this.call(`SyncJob ${this.namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ ...this.ref('SyncJob'), name }));
  }

  /** All SyncJobs of the namespace, or those matching a label selector (e.g. one flow's). */
  async listSyncJobs(labelSelector?: string): Promise<SyncJob[]> {
    const list = await this.call<{ items: SyncJob[] }>(`list SyncJobs in ${this.namespace}`, () =>
      this.custom.listNamespacedCustomObject({ ...this.ref('SyncJob'), ...(labelSelector ? { labelSelector } : {}) }),
    );
    return list.items;
  }

  /** The collection's current resourceVersion (a watch from it reports only later changes). */
  async currentVersion(plural: 'syncflows' | 'syncjobs'): Promise<string> {
    const kind = plural === 'syncflows' ? 'SyncFlow' : 'SyncJob';
    const list = await this.call<{ metadata?: { resourceVersion?: string } }>(`list ${kind}s in ${this.namespace}`, () =>
      this.custom.listNamespacedCustomObject({ ...this.ref(kind), limit: 1 }),
    );
    return list.metadata?.resourceVersion ?? '';
  }

  async listExportTargets(): Promise<ExportTarget[]> {
    const list = await this.call<{ items: ExportTarget[] }>(`list ExportTargets in ${this.namespace}`, () =>
      this.custom.listNamespacedCustomObject({ ...this.ref('ExportTarget') }),
    );
    return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  createSyncJob(job: SyncJob): Promise<SyncJob> {
    return this.call(`create SyncJob for flow ${job.spec.flowRef.name}`, () => this.custom.createNamespacedCustomObject({ ...this.ref('SyncJob'), body: job }));
  }

  patchFlow(name: string, patch: JsonPatchOperation[]): Promise<SyncFlow> {
    return this.call(`patch SyncFlow ${this.namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...this.ref('SyncFlow'), name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
    );
  }

  /** The report the controller keeps in `<syncjob>-report`; undefined when there is none (yet). */
  async getReport(syncJob: string): Promise<Record<string, string> | undefined> {
    try {
      const configMap = await this.core.readNamespacedConfigMap({ name: `${syncJob}-report`, namespace: this.namespace });
      return configMap.data ?? {};
    } catch (error) {
      if (error instanceof ApiException && (error.code === 404 || error.code === 403)) return undefined;
      throw describeApiError(`report of SyncJob ${this.namespace}/${syncJob}`, error);
    }
  }
}
