import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION_NAME } from '../api/common.js';
import type { SyncFlow } from '../api/syncflow.js';
import { TtlCache } from './ttl-cache.js';

/** Which fields of a flow are `sensitive: true`, per entity (by source and by target column). */
export interface FlowSensitivity {
  /** False when the flow could not be read (deleted, or no access): then every value counts as sensitive. */
  known: boolean;
  fields: Map<string, Set<string>>;
  /** Each entity's `match` pairs in order (unpaired records name the fields a suggested partner agrees on). */
  match?: Map<string, { source: string; target: string }[]>;
}

export type SensitivityResolver = (namespace: string, flow: string) => Promise<FlowSensitivity>;

/** Pure: the sensitive fields a SyncFlow declares. */
export function sensitivityOf(flow: Pick<SyncFlow, 'spec'>): FlowSensitivity {
  const fields = new Map<string, Set<string>>();
  for (const entity of flow.spec.entities) {
    const names = entity.fields.filter((f) => f.sensitive).flatMap((f) => [f.source, f.target]);
    if (names.length) fields.set(entity.name, new Set(names));
  }
  const match = new Map(flow.spec.entities.map((e) => [e.name, (e.match ?? []).map((m) => ({ source: m.source, target: m.target }))]));
  return { known: true, fields, match };
}

export function isSensitive(sensitivity: FlowSensitivity, entity: string, field: string, targetField: string): boolean {
  if (!sensitivity.known) return true;
  const fields = sensitivity.fields.get(entity);
  return Boolean(fields && (fields.has(field) || fields.has(targetField)));
}

/**
 * Reads the SyncFlow at request time, so marking a field sensitive masks the values already recorded
 * too. A flow that cannot be read masks everything (fail closed). Cached for a few seconds.
 */
export function syncFlowSensitivity(config: k8s.KubeConfig, ttlMs = 5_000): SensitivityResolver {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const cache = new TtlCache<FlowSensitivity>(ttlMs, 1_000);
  return async (namespace, name) => {
    const key = `${namespace}/${name}`;
    const cached = cache.get(key);
    if (cached) return cached;
    let result: FlowSensitivity;
    try {
      const flow = (await api.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION_NAME, namespace, plural: 'syncflows', name })) as SyncFlow;
      result = sensitivityOf(flow);
    } catch {
      result = { known: false, fields: new Map() };
    }
    cache.set(key, result);
    return result;
  };
}
