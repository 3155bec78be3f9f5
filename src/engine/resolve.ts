import type { Resolution } from '../api/syncjob.js';
import { ConfigError } from '../util/errors.js';
import type { EntityPlan, FlowPlan } from './plan.js';
import { TwoWayBatches, type TwoWayContext, type TwoWayResult } from './two-way/batch.js';
import type { Side } from './two-way/side.js';
import type { Pair } from './two-way/types.js';

/** Plain key text as users type it (`42`, or `7,golf` for composite keys) -> encoded key. */
export function encodeUserKey(side: Side, text: string): string | undefined {
  const parts = side.keys.length === 1 ? [text] : text.split(',').map((p) => p.trim());
  if (parts.length !== side.keys.length) return undefined;
  return side.codec.encode(parts);
}

/** Column names (either side's) -> mapping indexes; unknown names are an error naming the entity's columns. */
function mappingsOf(batches: TwoWayBatches, fields: string[] | undefined): Set<number> | undefined {
  if (!fields || fields.length === 0) return undefined;
  const known = batches.sides.source.mappings;
  return new Set(
    fields.map((name) => {
      const field = known.find((f) => f.source === name || f.target === name);
      if (!field) throw new ConfigError(`unknown field "${name}" of ${batches.plan.name} (fields: ${known.map((f) => f.source).join(', ')})`);
      return field.mapping;
    }),
  );
}

async function findPair(batches: TwoWayBatches, resolution: Resolution): Promise<Pair | string> {
  const { source, target } = batches.sides;
  if (resolution.sourceKey !== undefined) {
    const key = encodeUserKey(source, resolution.sourceKey);
    if (key === undefined) return `source key "${resolution.sourceKey}" needs ${source.keys.length} parts (${source.keys.join(', ')})`;
    const pair = (await batches.pairs.bySourceKeys([key])).get(key);
    if (pair && resolution.targetKey !== undefined && pair.targetKey !== encodeUserKey(target, resolution.targetKey)) {
      return `source ${resolution.sourceKey} is linked to another target record`;
    }
    return pair ?? `no pair with source key ${resolution.sourceKey}`;
  }
  const key = encodeUserKey(target, resolution.targetKey!);
  if (key === undefined) return `target key "${resolution.targetKey}" needs ${target.keys.length} parts (${target.keys.join(', ')})`;
  return (await batches.pairs.byTargetKeys([key])).get(key) ?? `no pair with target key ${resolution.targetKey}`;
}

async function applyOne(batches: TwoWayBatches, resolution: Resolution): Promise<string | undefined> {
  const { tx, state } = batches.ctx;
  if (resolution.action === 'Link') {
    if (resolution.sourceKey === undefined || resolution.targetKey === undefined) return 'Link needs both sourceKey and targetKey';
    const sourceKey = encodeUserKey(batches.sides.source, resolution.sourceKey);
    const targetKey = encodeUserKey(batches.sides.target, resolution.targetKey);
    if (sourceKey === undefined || targetKey === undefined) return 'key has the wrong number of parts';
    return batches.linkByHand(sourceKey, targetKey);
  }
  const pair = await findPair(batches, resolution);
  if (typeof pair === 'string') return pair;
  switch (resolution.action) {
    case 'KeepSource':
    case 'KeepTarget': {
      const side = resolution.action === 'KeepSource' ? 'source' : 'target';
      if (batches.readOnly && side !== batches.readOnly) return `the ${batches.readOnly} is read-only: its values cannot be replaced (keep the ${batches.readOnly}'s, or Unlink or Deactivate the pair)`;
      await batches.process({ sourceKeys: [pair.sourceKey], targetKeys: [] }, undefined, { side, fields: mappingsOf(batches, resolution.fields) });
      return undefined;
    }
    case 'Deactivate':
      await tx.unit(state, () => batches.pairs.setCategory([pair.sourceKey], 'deactivated'));
      return undefined;
    case 'Reactivate':
      if (pair.category === 'inactive') return batches.reactivate(pair);
      if (pair.category !== 'deactivated') return 'the pair is not deactivated or inactive';
      await tx.unit(state, () => batches.pairs.setCategory([pair.sourceKey], 'synchronised'));
      // Changes made while it was deactivated are taken over now, by the usual rules.
      await batches.process({ sourceKeys: [pair.sourceKey], targetKeys: [] });
      return undefined;
    case 'Unlink':
      await tx.unit(state, () => batches.pairs.remove([pair.sourceKey]));
      return undefined;
  }
}

/**
 * Resolve mode (seed 003): applies each decision to its pair and both systems. A decision that
 * cannot be applied (unknown key, already linked, ...) is rejected with its reason; the rest go on.
 */
export async function applyResolutions(plan: FlowPlan, resolutions: Resolution[], ctx: TwoWayContext): Promise<Map<string, TwoWayResult>> {
  const byName = new Map<string, EntityPlan>(plan.entities.map((e) => [e.name, e]));
  const batches = new Map<string, TwoWayBatches>();
  for (const [index, resolution] of resolutions.entries()) {
    const entity = byName.get(resolution.entity);
    if (!entity) throw new ConfigError(`resolutions[${index}].entity: unknown entity "${resolution.entity}"`);
    if (!entity.reverse) throw new ConfigError(`resolutions[${index}]: Resolve applies to TwoWay flows; this flow is OneWay`);
    let entityBatches = batches.get(entity.name);
    if (!entityBatches) {
      entityBatches = new TwoWayBatches(entity, ctx);
      batches.set(entity.name, entityBatches);
    }
    const problem = await applyOne(entityBatches, resolution);
    if (problem) {
      const key = resolution.sourceKey ?? `target ${resolution.targetKey}`;
      entityBatches.rejectRow(key, `${resolution.action}: ${problem}`);
    }
  }
  return new Map([...batches].map(([name, b]) => [name, b.result()]));
}
