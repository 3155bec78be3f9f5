/**
 * The console's reads and writes for one viewer in one namespace: the Ferry kinds through the plugin's
 * client, the data API through its client, and what the viewer may do (SelfSubjectRulesReview), all
 * with the viewer's own credentials.
 */
import { AuthorizationV1Api, Watch, type KubeConfig, type V1ResourceRule } from '@kubernetes/client-node';
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

interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

const PERMISSIONS: Record<keyof Access, Permission> = {
  startRuns: { verb: 'create', group: API_GROUP, resource: 'syncjobs' },
  editFlows: { verb: 'patch', group: API_GROUP, resource: 'syncflows' },
  download: { verb: 'get', group: 'data.ferry.dev', resource: 'exportfiles', subresource: 'download' },
};

/**
 * Whether RBAC rules grant a permission, with RBAC's wildcards ('*' verbs, groups and resources,
 * 'resource/*' and '*\/subresource'). Rules limited to some object names count: the buttons show, and
 * the API server decides per object.
 */
export function rulesAllow(rules: V1ResourceRule[], permission: Permission): boolean {
  const resource = permission.subresource ? `${permission.resource}/${permission.subresource}` : permission.resource;
  const resourceMatches = (granted: string) =>
    granted === '*' || granted === resource || (permission.subresource !== undefined && (granted === `${permission.resource}/*` || granted === `*/${permission.subresource}`));
  return rules.some(
    (rule) =>
      rule.verbs.some((v) => v === '*' || v === permission.verb) &&
      (rule.apiGroups ?? []).some((g) => g === '*' || g === permission.group) &&
      (rule.resources ?? []).some(resourceMatches),
  );
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

  /** One SelfSubjectAccessReview: the fallback when the rules review is incomplete. */
  private async can(permission: Permission): Promise<boolean> {
    const api = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    try {
      const review = await api.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace: this.namespace, ...permission } } },
      });
      return review.status?.allowed === true;
    } catch {
      return false;
    }
  }

  /**
   * What the viewer may do, from one SelfSubjectRulesReview of the namespace. When the API server says
   * the rules are incomplete (an authoriser other than RBAC), each permission is asked separately.
   */
  private async review(): Promise<Access> {
    const api = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    const review = await api.createSelfSubjectRulesReview({ body: { spec: { namespace: this.namespace } } }).catch(() => undefined);
    const rules = review?.status?.resourceRules;
    const decide = (permission: Permission) => (rules && !review?.status?.incomplete ? Promise.resolve(rulesAllow(rules, permission)) : this.can(permission));
    const [startRuns, editFlows, download] = await Promise.all([decide(PERMISSIONS.startRuns), decide(PERMISSIONS.editFlows), decide(PERMISSIONS.download)]);
    return { startRuns, editFlows, download };
  }

  /** What the viewer may do here; the API server decides again on every action. Cached briefly per viewer. */
  access(): Promise<Access> {
    const key = `${this.viewer.session}\u0000${this.namespace}`;
    const cached = accessCache.get(key);
    if (cached && Date.now() - cached.at < ACCESS_TTL_MS) return cached.access;
    const access = this.review();
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
