import type { StateClient } from '../../store/state-connection.js';
import type { DefaultedSyncFlowSpec } from '../../api/defaults.js';
import type { RecordSide } from '../../api/syncjob.js';
import { ConfigError, EXIT_BAD_INPUT, FerryError } from '../../util/errors.js';
import { computeClosure, RecordNotFoundError, type Closure } from '../closure.js';
import { closureGraph, type ClosureGraph } from '../closure-plan.js';
import type { Session } from '../connector.js';
import type { EntityPlan, FlowPlan } from '../plan.js';
import { closureNote, parseRecordKey, type RunSelection } from '../run-selection.js';
import { TwoWayPairs } from '../../store/two-way-pairs.js';
import { otherSide, type SideName } from './types.js';

/**
 * The closure graph as the target sees it: the same references and related links, named by the
 * target's columns, so the one-way closure walk runs unchanged against the target database.
 */
export function targetClosureGraph(spec: DefaultedSyncFlowSpec, graph: ClosureGraph): ClosureGraph {
  const targetColumn = new Map<string, Map<string, string>>();
  for (const entity of spec.entities) {
    const columns = new Map<string, string>();
    for (const field of entity.fields) if (!columns.has(field.source)) columns.set(field.source, field.target);
    targetColumn.set(entity.name, columns);
  }
  const rename = (entity: string, column: string): string => {
    const target = targetColumn.get(entity)?.get(column);
    if (target === undefined) throw new ConfigError(`entity ${entity}: column ${column} has no target column`);
    return target;
  };
  const out: ClosureGraph = new Map();
  for (const [name, node] of graph) {
    out.set(name, {
      name,
      references: node.references.map((r) => ({ column: rename(name, r.column), parent: r.parent })),
      children: node.children.map((link) => ({
        ...link,
        column: rename(link.child, link.column),
        includeReferenced: link.includeReferenced.map((column) => rename(link.child, column)),
      })),
    });
  }
  return out;
}

export interface TwoWayRecordRequest {
  spec: DefaultedSyncFlowSpec;
  record: { entity: string; key: string; side?: RecordSide };
}

type Sides<T> = Record<SideName, T>;

/**
 * Selects a Record run on a TwoWay flow. The record's closure is computed on its own side (the
 * one-way closure walk); when the record is paired, its partner's closure on the other side is
 * added, so rows only the other system has (a booking entered there) are synced too. Each entity
 * then gets both key sets; the two-way batches add the paired rows of either set themselves.
 * `clients.source` should hold the run's read snapshot of the source.
 */
export async function selectTwoWayRecord(
  request: TwoWayRecordRequest,
  plan: FlowPlan,
  clients: Sides<Session>,
  state: { client: StateClient; flow: string },
): Promise<RunSelection> {
  const { entity, key } = request.record;
  const own: SideName = request.record.side === 'Target' ? 'target' : 'source';
  const partnerSide = otherSide(own);
  const plans: Sides<Map<string, EntityPlan>> = {
    source: new Map(plan.entities.map((e) => [e.name, e])),
    target: new Map(plan.entities.map((e) => [e.name, e.reverse!])),
  };
  const rootPlan = plans[own].get(entity);
  if (!rootPlan) throw new ConfigError(`unknown entity "${entity}" (record ${entity}/${key})`);
  const sourceGraph = closureGraph(request.spec);
  const graphs: Sides<ClosureGraph> = { source: sourceGraph, target: targetClosureGraph(request.spec, sourceGraph) };
  const closureOf = (side: SideName, parts: string[]) =>
    computeClosure(graphs[side], clients[side].closureSource(plans[side], graphs[side]), { entity, key: parts });

  const closures: Partial<Sides<Closure>> = {};
  try {
    closures[own] = await closureOf(own, parseRecordKey(rootPlan, key));
  } catch (error) {
    if (error instanceof RecordNotFoundError && own === 'target') {
      throw new FerryError(`record ${entity}/${key} not found in the target: nothing was synced`, EXIT_BAD_INPUT);
    }
    throw error;
  }
  const partner = await partnerKey(new TwoWayPairs(state.client, state.flow, entity), own, rootPlan, plans[partnerSide].get(entity)!, key);
  if (partner) {
    // A partner row gone from its system is the two-way decision's business (archive, delete, ...), not an error.
    closures[partnerSide] = await closureOf(partnerSide, partner).catch((error: unknown) => {
      if (error instanceof RecordNotFoundError) return undefined;
      throw error;
    });
  }

  const notes = (['source', 'target'] as SideName[]).flatMap((side) => (closures[side] ? [`${side}: ${closureNote(closures[side])}`] : []));
  return {
    entities: plan.entities.filter((e) => closures.source?.keys.has(e.name) || closures.target?.keys.has(e.name)),
    pass: (name) => ({
      kind: 'keys',
      keys: closures.source?.keys.get(name) ?? [],
      targetKeys: closures.target?.keys.get(name) ?? [],
      ...(name === entity ? { note: notes.join('; ') } : {}),
    }),
    deleteVanished: false,
    subject: own === 'target' ? `${entity}/${key} (target)` : `${entity}/${key}`,
    closure: closures[own],
  };
}

/** The key parts of the record's partner on the other side, when the record is paired. */
async function partnerKey(pairs: TwoWayPairs, own: SideName, ownPlan: EntityPlan, partnerPlan: EntityPlan, key: string): Promise<string[] | undefined> {
  const encoded = ownPlan.source.codec.encode(parseRecordKey(ownPlan, key))!;
  if (own === 'source') {
    const pair = (await pairs.bySourceKeys([encoded])).get(encoded);
    return pair ? partnerPlan.source.codec.decode(pair.targetKey) : undefined;
  }
  const pair = (await pairs.byTargetKeys([encoded])).get(encoded);
  return pair ? partnerPlan.source.codec.decode(pair.sourceKey) : undefined;
}
