/**
 * The console's reads and writes for one viewer in one namespace: the Ferry kinds through the plugin's
 * client, the data API through its client, and what the viewer may do (SelfSubjectAccessReview), all
 * with the viewer's own credentials.
 */
import { AuthorizationV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION_NAME } from '../api/common.js';
import { FerryClient } from '../cli/kubectl-ferry/kube.js';
import { DataApiClient } from '../data-api/client.js';
import type { Viewer } from './identity.js';

export interface Access {
  /** create SyncJobs: start, resolve, re-transfer. */
  startRuns: boolean;
  /** patch SyncFlows: suspend and resume schedules. */
  editFlows: boolean;
  /** get exportfiles/download. */
  download: boolean;
}

const ACCESS_TTL_MS = 30_000;
const accessCache = new Map<string, { at: number; access: Promise<Access> }>();

export class ConsoleCluster {
  readonly ferry: FerryClient;
  readonly data: DataApiClient;
  private readonly kubeConfig: KubeConfig;

  constructor(
    private readonly viewer: Viewer,
    readonly namespace: string,
  ) {
    this.kubeConfig = viewer.kubeConfig;
    this.ferry = new FerryClient(viewer.kubeConfig, namespace);
    this.data = new DataApiClient(viewer.kubeConfig);
  }

  private async can(verb: string, group: string, resource: string, subresource?: string): Promise<boolean> {
    const api = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    try {
      const review = await api.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace: this.namespace, verb, group, resource, ...(subresource ? { subresource } : {}) } } },
      });
      return review.status?.allowed === true;
    } catch {
      return false;
    }
  }

  /** What the viewer may do here; the API server decides again on every action. Cached briefly per viewer. */
  access(): Promise<Access> {
    const key = `${this.viewer.session}\u0000${this.namespace}`;
    const cached = accessCache.get(key);
    if (cached && Date.now() - cached.at < ACCESS_TTL_MS) return cached.access;
    const access = Promise.all([
      this.can('create', API_GROUP, 'syncjobs'),
      this.can('patch', API_GROUP, 'syncflows'),
      this.can('get', 'data.ferry.dev', 'exportfiles', 'download'),
    ]).then(([startRuns, editFlows, download]) => ({ startRuns, editFlows, download }));
    if (accessCache.size > 1000) accessCache.clear();
    accessCache.set(key, { at: Date.now(), access });
    return access;
  }

  /** Watches SyncFlows and SyncJobs of the namespace; `onChange` gets the flow each change is about. */
  watchFlows(onChange: (flow: string) => void, onEnd: (error?: unknown) => void): { stop: () => void } {
    const watch = new Watch(this.kubeConfig);
    const aborts: AbortController[] = [];
    let stopped = false;
    const base = `/apis/${API_GROUP}/${API_VERSION_NAME}/namespaces/${encodeURIComponent(this.namespace)}`;
    // From the collections' current version: the page already shows the state, only changes are news.
    const start = (plural: 'syncflows' | 'syncjobs', flowOf: (object: { metadata: { name: string }; spec?: { flowRef?: { name: string } } }) => string | undefined) =>
      this.ferry
        .currentVersion(plural)
        .then((resourceVersion) =>
          watch.watch(`${base}/${plural}`, { resourceVersion, allowWatchBookmarks: false }, (_type, object) => {
            const flow = flowOf(object as never);
            if (flow) onChange(flow);
          }, (error) => {
            if (!stopped) onEnd(error);
          }),
        )
        .then((abort) => aborts.push(abort))
        .catch((error: unknown) => {
          if (!stopped) onEnd(error);
        });
    void start('syncflows', (flow) => flow.metadata.name);
    void start('syncjobs', (job) => job.spec?.flowRef?.name);
    return {
      stop: () => {
        stopped = true;
        for (const abort of aborts) abort.abort();
      },
    };
  }
}
