import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION_NAME } from '../api/common.js';

export type KindName = 'SyncFlow' | 'SyncJob' | 'ExportTarget';
export const PLURALS: Record<KindName, string> = { SyncFlow: 'syncflows', SyncJob: 'syncjobs', ExportTarget: 'exporttargets' };

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

export function isStatus(error: unknown, code: number): boolean {
  return (error as { code?: number })?.code === code || (error as { statusCode?: number })?.statusCode === code;
}

export function errorMessage(error: unknown): string {
  const body = (error as { body?: unknown })?.body;
  if (body) {
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed?.message) return parsed.message;
    } catch {
      /* not JSON */
    }
  }
  return error instanceof Error ? error.message : String(error);
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The API calls the controller makes, in one place so reconcilers stay thin. */
export class Kube {
  readonly custom: k8s.CustomObjectsApi;
  readonly batch: k8s.BatchV1Api;
  readonly core: k8s.CoreV1Api;
  readonly coordination: k8s.CoordinationV1Api;

  constructor(readonly config: k8s.KubeConfig) {
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.batch = config.makeApiClient(k8s.BatchV1Api);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
  }

  static fromDefault(kubeconfig?: string): Kube {
    const config = new k8s.KubeConfig();
    if (kubeconfig) config.loadFromFile(kubeconfig);
    else config.loadFromDefault();
    return new Kube(config);
  }

  private crd(kind: KindName, namespace: string) {
    return { group: API_GROUP, version: API_VERSION_NAME, plural: PLURALS[kind], namespace };
  }

  async get<T>(kind: KindName, namespace: string, name: string): Promise<T> {
    return (await this.custom.getNamespacedCustomObject({ ...this.crd(kind, namespace), name })) as T;
  }

  async create<T extends KubeObject>(kind: KindName, object: T): Promise<T> {
    return (await this.custom.createNamespacedCustomObject({ ...this.crd(kind, object.metadata.namespace ?? 'default'), body: object })) as T;
  }

  async delete(kind: KindName, namespace: string, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ ...this.crd(kind, namespace), name, propagationPolicy: 'Background' });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /** Merge-patches the status subresource; `status` fields set to null are removed. */
  async patchStatus<T>(kind: KindName, namespace: string, name: string, status: Record<string, unknown>): Promise<T> {
    return (await this.custom.patchNamespacedCustomObjectStatus({ ...this.crd(kind, namespace), name, body: { status } }, mergePatch)) as T;
  }

  async patchMetadata<T>(kind: KindName, namespace: string, name: string, metadata: Record<string, unknown>): Promise<T> {
    return (await this.custom.patchNamespacedCustomObject({ ...this.crd(kind, namespace), name, body: { metadata } }, mergePatch)) as T;
  }

  async list<T>(kind: KindName, namespace: string | undefined, labelSelector?: string): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
    if (namespace) {
      return (await this.custom.listNamespacedCustomObject({ ...this.crd(kind, namespace), labelSelector })) as never;
    }
    return (await this.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION_NAME, plural: PLURALS[kind], labelSelector })) as never;
  }

  path(kind: KindName | 'Job', namespace: string | undefined): string {
    const ns = namespace ? `/namespaces/${namespace}` : '';
    if (kind === 'Job') return `/apis/batch/v1${ns}/jobs`;
    return `/apis/${API_GROUP}/${API_VERSION_NAME}${ns}/${PLURALS[kind]}`;
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async deleteConfigMap(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ namespace, name });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async readSecret(namespace: string, name: string): Promise<Record<string, string>> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
    return out;
  }
}
