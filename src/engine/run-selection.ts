import type { DefaultedSyncFlowSpec } from '../api/defaults.js';
import type { RecordSide } from '../api/syncjob.js';
import { ConfigError, FerryError, EXIT_BAD_INPUT } from '../util/errors.js';
import { computeClosure, type Closure } from './closure.js';
import { closureGraph, scopeEntities } from './closure-plan.js';
import type { EntityResult } from './entity-sync.js';
import type { Session } from './connector.js';
import type { EntityPlan, FlowPlan } from './plan.js';
import type { StateConnection } from '../store/state-connection.js';
import { prefetchClosure, type PrefetchedRows } from './record-prefetch.js';

export type ScopeMode = 'Full' | 'Incremental';

/** What a run does to one entity. */
export type EntityPass =
  | { kind: 'full' }
  | { kind: 'incremental' }
  | { kind: 'keys'; keys: string[][]; prefetched?: PrefetchedRows; note?: string; /** Two-way: target-side keys too. */ targetKeys?: string[][] };

/** The part of a flow a run touches, and how. */
export interface RunSelection {
  /** Entities the run syncs, in dependency order. */
  entities: EntityPlan[];
  pass(entity: string): EntityPass;
  /** Full passes end with deleting target rows whose source vanished (only for the selected entities). */
  deleteVanished: boolean;
  /** Shown after the mode in the report headline: `events (Full)` for a scope, `people/42` for a record. */
  subject?: string;
  missingParentHint?: (entity: string, sourceKey: string) => string | undefined;
  closure?: Closure;
}

export interface SelectionRequest {
  mode: string;
  spec: DefaultedSyncFlowSpec;
  record?: { entity: string; key: string; side?: RecordSide };
  scope?: string;
  scopeMode: ScopeMode;
}

/** The sync methods a pass needs; Record mode needs `syncKeys`. */
export interface PassRunner {
  full(): Promise<EntityResult>;
  incremental(): Promise<EntityResult>;
  syncKeys?(keys: string[][], prefetched?: PrefetchedRows, targetKeys?: string[][]): Promise<EntityResult>;
}

export async function runPass(sync: PassRunner, pass: EntityPass): Promise<EntityResult> {
  switch (pass.kind) {
    case 'full':
      return sync.full();
    case 'incremental':
      return sync.incremental();
    case 'keys': {
      if (!sync.syncKeys) throw new FerryError('Record mode is not supported for this kind of flow yet', EXIT_BAD_INPUT);
      const result = await sync.syncKeys(pass.keys, pass.prefetched, pass.targetKeys);
      if (pass.note) result.notes.push(pass.note);
      return result;
    }
  }
}

export function closureNote(closure: Closure): string {
  const rows = [...closure.keys.values()].reduce((n, keys) => n + keys.length, 0);
  const missing = [...closure.missing.values()].reduce((n, keys) => n + keys.length, 0);
  const dangling = missing > 0 ? `; ${missing} referenced rows do not exist in the source` : '';
  return `closure of ${rows} rows in ${closure.keys.size} tables, read in ${closure.rounds} round trips${dangling}`;
}

/** Splits `people/42`-style keys: composite keys are given as their parts joined by commas, in key order. */
export function parseRecordKey(plan: EntityPlan, key: string): string[] {
  const parts = plan.source.keys.length === 1 ? [key] : key.split(',');
  if (parts.length !== plan.source.keys.length) {
    throw new ConfigError(
      `record key "${key}" of ${plan.name} needs ${plan.source.keys.length} parts (${plan.source.keys.join(', ')}), separated by commas`,
    );
  }
  parts.forEach((part, i) => {
    if (plan.source.keyKinds[i] === 'integer' && !/^-?\d+$/.test(part)) {
      throw new ConfigError(`record key "${key}": ${plan.source.keys[i]} of ${plan.name} is a whole number, got "${part}"`);
    }
  });
  return parts;
}

/**
 * Decides which entities a run syncs and how. Record mode reads the record's closure and then its
 * rows from `source` (which should hold one snapshot), and their pairs from `state`.
 */
export async function selectRun(
  request: SelectionRequest,
  plan: FlowPlan,
  source: Session,
  state: { connection: StateConnection; flow: string },
): Promise<RunSelection> {
  const plans = new Map(plan.entities.map((e) => [e.name, e]));
  if (request.mode === 'Record') {
    if (!request.record) throw new ConfigError('mode Record needs a record (entity and key)');
    if (request.record.side === 'Target') throw new ConfigError('record side Target needs a flow with direction TwoWay');
    const root = plans.get(request.record.entity);
    if (!root) throw new ConfigError(`unknown entity "${request.record.entity}" (record ${request.record.entity}/${request.record.key})`);
    const graph = closureGraph(request.spec);
    const closure = await computeClosure(graph, source.closureSource(plans, graph), {
      entity: root.name,
      key: parseRecordKey(root, request.record.key),
    });
    const prefetched = await prefetchClosure(source, state.connection, state.flow, plans, closure.keys, plan.batchSize);
    return {
      entities: plan.entities.filter((e) => closure.keys.has(e.name)),
      pass: (entity) => ({
        kind: 'keys',
        keys: closure.keys.get(entity) ?? [],
        prefetched: prefetched.get(entity),
        ...(entity === root.name ? { note: closureNote(closure) } : {}),
      }),
      deleteVanished: false,
      subject: `${root.name}/${request.record.key}`,
      missingParentHint: (entity, sourceKey) =>
        closure.missing.get(entity)?.some((key) => key[0] === sourceKey) ? `no such ${entity} row in the source either` : undefined,
      closure,
    };
  }
  if (request.mode === 'Scope') {
    if (!request.scope) throw new ConfigError('mode Scope needs a scope name');
    const members = scopeEntities(request.spec, request.scope);
    const scopeMode = request.scopeMode;
    const scope = request.scope;
    return {
      entities: plan.entities.filter((e) => members.has(e.name)),
      pass: () => ({ kind: scopeMode === 'Full' ? 'full' : 'incremental' }),
      deleteVanished: scopeMode === 'Full',
      subject: `${scope} (${scopeMode})`,
      missingParentHint: (entity) =>
        members.has(entity) ? undefined : `${entity} is outside scope "${scope}" and this row has not been synced yet: run a Full, Incremental or Record sync of it first`,
    };
  }
  const full = request.mode === 'Full';
  return { entities: plan.entities, pass: () => ({ kind: full ? 'full' : 'incremental' }), deleteVanished: full };
}
