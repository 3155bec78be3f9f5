import type { Action, ConflictPolicy } from '../../api/entity.js';
import type { PairCategory } from '../../api/syncflow.js';
import { conditionsAllow } from '../conditions.js';
import { contentHash } from './archived-hash.js';
import { otherSide, type Pair, type SideName, type SideRow } from './types.js';

/** What the engine knows about one record: its row on each side (if any) and its pair (if linked). */
export interface Candidate {
  source?: SideRow;
  target?: SideRow;
  pair?: Pair;
  /** Linked just now by the match keys (no pair yet): its properties are unified. */
  linked?: boolean;
  /** A partner exists on the other side but the link action is off: creating would duplicate it. */
  duplicateOf?: string;
}

export interface DecideOptions {
  actions: ReadonlySet<Action>;
  policy: ConflictPolicy;
  /** Per-field overrides, by mapping index. */
  fieldPolicies: readonly (ConflictPolicy | undefined)[];
  hasArchive: Record<SideName, boolean>;
  /** Loop-protection window; 0 = none. */
  windowSeconds: number;
  now: number;
  /** A side that is never written (partner files): nothing is created, updated, archived or deleted there. */
  readOnly?: SideName;
  /** Resolve mode: keep this side's values, for all fields or the listed mappings. */
  keep?: { side: SideName; fields?: ReadonlySet<number> };
}

export type Outcome =
  | 'unchanged'
  | 'updated'
  | 'created'
  | 'linked'
  | 'conflict'
  | 'blocked'
  | 'skipped'
  | 'unpaired'
  | 'duplicate'
  | 'deactivated'
  | 'inactive'
  | 'archived'
  | 'deleted'
  | 'partnerGone'
  | 'forgotten'
  | 'rejected';

export interface Decision {
  outcome: Outcome;
  /** Fields (mapping index) that differ, with the side whose value both systems end up with. */
  winners: Map<number, SideName>;
  /** Sides to write (update or create). */
  write: Set<SideName>;
  /** Create the record on this side (the other side's row is the origin). */
  create?: SideName;
  /** Archive or delete the row on this side (its partner vanished). */
  archive?: SideName;
  remove?: SideName;
  /** The pair afterwards: `keep` leaves it untouched, `drop` deletes it. */
  pair: 'save' | 'keep' | 'drop';
  /**
   * Save the pair with its previous hashes (a fresh link: none), so the record still counts as
   * changed on both sides next time: conflicts stay conflicts until resolved.
   */
  keepHashes?: boolean;
  /** Held back by the loop-protection window until then. */
  heldUntil?: Date;
  category: PairCategory;
  /** Side the change came from (the loop-protection window blocks the other direction). */
  origin?: SideName | 'both';
  /** Mapping indexes that still differ after a partial resolution. */
  unresolved?: number[];
}

const decision = (outcome: Outcome, category: PairCategory, pair: Decision['pair'], extra: Partial<Decision> = {}): Decision => ({
  outcome,
  winners: new Map(),
  write: new Set(),
  pair,
  category,
  ...extra,
});

/** Mapping indexes whose values differ, compared as the target stores them. */
export function differingFields(source: SideRow, target: SideRow): number[] {
  const out: number[] = [];
  for (let m = 0; m < source.out.length; m++) if (source.out[m] !== target.raw[m]) out.push(m);
  return out;
}

function settledCategory(source: SideRow, target: SideRow): PairCategory {
  return source.archived || target.archived ? 'inactive' : 'synchronised';
}

const UPDATE_ACTIONS: Record<SideName, Action> = { target: 'updateTarget', source: 'updateSource' };

function mayUpdate(options: DecideOptions, side: SideName): boolean {
  return options.actions.has('updateNewerWins') || options.actions.has(UPDATE_ACTIONS[side]);
}

function windowBlocks(options: DecideOptions, pair: Pair | undefined, writeTo: SideName): boolean {
  if (!pair || options.windowSeconds <= 0) return false;
  // Writing side X means the change came from the other side; blocked while the last change came from X.
  return pair.lastOrigin === writeTo && options.now - pair.lastSyncedAt.getTime() < options.windowSeconds * 1000;
}

/** The side whose value wins a field both systems changed. */
function conflictWinner(policy: ConflictPolicy, source: SideRow, target: SideRow): SideName | 'manual' {
  switch (policy) {
    case 'SourceWins':
      return 'source';
    case 'TargetWins':
      return 'target';
    case 'Manual':
      return 'manual';
    default:
      return (target.modifiedAt ?? -Infinity) > (source.modifiedAt ?? -Infinity) ? 'target' : 'source';
  }
}

/** A pair whose row on one side vanished (seed 002, actions 7-10). */
function partnerGone(candidate: Candidate, present: SideName, options: DecideOptions): Decision {
  const row = candidate[present]!;
  const gone = otherSide(present);
  if (present === options.readOnly) return decision('partnerGone', 'deleted', 'save');
  // Only the remaining row's own conditions count; the vanished side's do not matter.
  const inScope = { [present]: row.inScope };
  const archiveAction: Action = present === 'source' ? 'archiveInSource' : 'archiveInTarget';
  const deleteAction: Action = present === 'source' ? 'deleteInSource' : 'deleteInTarget';
  if (options.actions.has(archiveAction) && options.hasArchive[present] && conditionsAllow(archiveAction, inScope)) {
    if (row.archived) return decision('unchanged', 'inactive', 'save');
    return decision('archived', 'inactive', 'save', { archive: present, origin: gone });
  }
  if (options.actions.has(deleteAction) && conditionsAllow(deleteAction, inScope)) {
    return decision('deleted', 'deleted', 'drop', { remove: present, origin: gone });
  }
  return decision('partnerGone', 'deleted', 'save');
}

/** A row on one side without a pair: import or export it (seed 002, actions 2 and 3). */
function unpaired(candidate: Candidate, present: SideName, options: DecideOptions): Decision {
  const row = candidate[present]!;
  const into = otherSide(present);
  const createAction: Action = into === 'target' ? 'createInTarget' : 'createInSource';
  // Import checks the row's own system's conditions only (the side it is created in does not matter).
  if (!conditionsAllow(createAction, { [present]: row.inScope })) return decision('unpaired', 'new', 'keep');
  if (candidate.duplicateOf !== undefined) return decision('duplicate', 'new', 'keep');
  if (!options.actions.has(createAction) || into === options.readOnly) return decision('unpaired', 'new', 'keep');
  return decision('created', 'synchronised', 'save', { create: into, write: new Set([into]), origin: present });
}

/**
 * Decides what happens to one record. Pure: the caller has read both rows and the pair, translated
 * lookups and searched for matches; this function applies seed 002's action and condition rules,
 * seed 003's categories and the conflict policy, and the loop-protection window.
 */
export function decide(candidate: Candidate, options: DecideOptions): Decision {
  const { source, target, pair } = candidate;
  if (pair?.category === 'deactivated' && !options.keep) return decision('deactivated', 'deactivated', 'keep');
  if (!source && !target) return decision('forgotten', 'deleted', 'drop');
  if (!pair && !candidate.linked) return unpaired(candidate, source ? 'source' : 'target', options);
  if (!target) return partnerGone(candidate, 'source', options);
  if (!source) return partnerGone(candidate, 'target', options);

  const diff = differingFields(source, target);
  const settled = settledCategory(source, target);

  if (options.keep) {
    const chosen = diff.filter((m) => !options.keep!.fields || options.keep!.fields.has(m));
    const unresolved = diff.filter((m) => !chosen.includes(m));
    const winners = new Map(chosen.map((m) => [m, options.keep!.side] as const));
    const write = new Set<SideName>(chosen.length > 0 && otherSide(options.keep.side) !== options.readOnly ? [otherSide(options.keep.side)] : []);
    if (unresolved.length > 0) {
      return decision('updated', pair?.category ?? 'conflict', 'save', { winners, write, unresolved, keepHashes: true, origin: options.keep.side });
    }
    return decision(write.size > 0 ? 'updated' : 'unchanged', settled, 'save', { winners, write, origin: options.keep.side });
  }

  // Content only: archiving or reactivating a record alone changes its category, never its fields' values.
  const sourceChanged = candidate.linked || contentHash(pair!.sourceHash) !== contentHash(source.hash);
  const targetChanged = candidate.linked || contentHash(pair!.targetHash) !== contentHash(target.hash);
  if (!sourceChanged && !targetChanged) {
    const hashesMoved = pair!.sourceHash !== source.hash || pair!.targetHash !== target.hash;
    return decision('unchanged', pair!.category === 'conflict' ? 'conflict' : settled, pair!.category === settled && !hashesMoved ? 'keep' : 'save');
  }
  if (diff.length === 0) {
    // Both sides hold the same data (an echo, or the same edit made twice): just remember the hashes.
    return decision(candidate.linked ? 'linked' : 'unchanged', settled, 'save');
  }
  // Seed 003: an inactive (archived) record is not synchronised until it is active again; its partner
  // keeps its values, and the pair keeps its old hashes so the reactivating run takes the newest ones.
  if (!candidate.linked && (source.archived || target.archived)) {
    return decision('inactive', 'inactive', pair!.category === 'inactive' ? 'keep' : 'save', { keepHashes: true });
  }
  if (!candidate.linked && !conditionsAllow('updateNewerWins', { source: source.inScope, target: target.inScope })) {
    return decision('skipped', pair!.category, 'keep');
  }

  const winners = new Map<number, SideName>();
  for (const m of diff) {
    if (sourceChanged && !targetChanged) winners.set(m, 'source');
    else if (targetChanged && !sourceChanged) winners.set(m, 'target');
    else {
      const winner = conflictWinner(options.fieldPolicies[m] ?? options.policy, source, target);
      if (winner === 'manual') return decision('conflict', 'conflict', 'save', { keepHashes: true });
      winners.set(m, winner);
    }
  }

  const write = new Set<SideName>();
  for (const winner of winners.values()) if (otherSide(winner) !== options.readOnly) write.add(otherSide(winner));
  if (!candidate.linked) {
    for (const side of [...write]) {
      if (!mayUpdate(options, side)) write.delete(side);
    }
    if (write.size === 0) return decision('skipped', pair!.category, 'keep');
    for (const side of write) {
      if (windowBlocks(options, pair, side)) {
        const heldUntil = new Date(pair!.lastSyncedAt.getTime() + options.windowSeconds * 1000);
        return decision('blocked', pair!.category, 'save', { keepHashes: true, heldUntil });
      }
    }
  }
  for (const [m, winner] of winners) if (!write.has(otherSide(winner))) winners.delete(m);
  const origin: Decision['origin'] = write.size === 2 ? 'both' : write.has('target') ? 'source' : 'target';
  const unresolved = diff.filter((m) => !winners.has(m));
  return decision(candidate.linked ? 'linked' : 'updated', unresolved.length > 0 ? (pair?.category ?? 'synchronised') : settled, 'save', {
    winners,
    write,
    origin,
    ...(unresolved.length > 0 ? { unresolved, keepHashes: true } : {}),
  });
}
