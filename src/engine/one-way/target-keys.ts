import { drawnKey, drawsKeys, normaliseValue, type RowRejection } from '../connector.js';
import { openCreateIntents } from '../create-intents.js';
import type { EntityParts } from './parts.js';
import { FreshRecord, type WriteItem } from './source-records.js';

/**
 * Gives every item its target key: from its pair, from the mapped key fields, by linking to an
 * existing target row with equal match columns, or a fresh one (drawn now, or returned by the insert
 * on targets that number rows themselves). Items that get none are skipped or rejected.
 */
export async function assignTargetKeys(parts: EntityParts, items: WriteItem[]): Promise<void> {
  const { plan, ctx, tally } = parts;
  const fresh: WriteItem[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.pair) item.targetKey = plan.target.codec.decode(item.pair.targetKey);
    else if (plan.target.keyMode === 'mapped') {
      const keyParts = item.record.values!.slice(0, plan.keyFields.length);
      if (keyParts.some((p) => p === null)) tally.reject(item.record.key!, `target key ${plan.target.keys.join(', ')} would be null`);
      else item.targetKey = keyParts as string[];
    } else fresh.push(item);
  }
  const unmatched = parts.matching ? await linkByMatch(parts, fresh) : fresh;
  const creatable = plan.actions.has('createInTarget') ? unmatched : [];
  tally.counters.skipped += unmatched.length - creatable.length;
  if (ctx.target.capabilities.generatedKeys === 'returned') {
    for (const item of creatable) item.awaitsKey = true;
    return;
  }
  const keys = await parts.drawnKeys.take(creatable.length);
  for (let i = 0; i < creatable.length; i++) {
    const item = creatable[i]!;
    // A FreshRecord holds its place in the drawn list: no key array per row waiting through the COPY.
    if (item instanceof FreshRecord) item.takeDrawnKey(keys, i);
    else item.targetKey = drawnKey(keys, i);
  }
}

/**
 * Starts drawing the keys a batch's new rows will take, while the batch before it is still being
 * written (the draw runs on the target connection while that batch waits for its pairs commit).
 * Only when every unpaired row will take a drawn key, so no key is drawn in vain.
 */
export function drawKeysAhead(parts: EntityParts, items: WriteItem[]): void {
  const { plan, ctx } = parts;
  if (parts.matching || !drawsKeys(plan.target.keyMode, ctx.target.capabilities) || !plan.actions.has('createInTarget')) return;
  let count = 0;
  for (let i = 0; i < items.length; i++) if (!items[i]!.pair) count++;
  parts.drawnKeys.drawAhead(count);
}

/** Links new source rows to existing, unpaired target rows with equal match columns (seed 002, action 1). */
async function linkByMatch(parts: EntityParts, items: WriteItem[]): Promise<WriteItem[]> {
  const { plan } = parts;
  const candidates = new Map<string, WriteItem>();
  for (const item of items) {
    const values = item.record.matchValues ?? [];
    if (values.some((v) => v === null)) continue;
    const normalised = values.map((v, i) => normaliseValue(v!, plan.match[i].normalize));
    candidates.set(normalised.join('\u0001'), item);
  }
  const found = await parts.target.findMatches([...candidates.keys()].map((k) => k.split('\u0001')));
  const encodedTargets = new Map([...found].map(([matchKey, key]) => [matchKey, plan.target.codec.encode(key)!]));
  const alreadyPaired = await parts.pairs.pairedTargetKeys([...encodedTargets.values()]);
  const linked = new Set<WriteItem>();
  for (const [matchKey, targetKey] of found) {
    if (alreadyPaired.has(encodedTargets.get(matchKey)!)) continue;
    const item = candidates.get(matchKey)!;
    item.targetKey = targetKey;
    item.linked = true;
    linked.add(item);
  }
  return items.filter((item) => !linked.has(item));
}

/**
 * For targets that number new rows themselves (capability `generatedKeys: 'returned'`): inserts
 * those rows first, inside the batch's open target transaction, and learns their keys. The pairs
 * commit before the target does, as for every other row, so a crash in between is repaired by the
 * interrupted-batch recovery. On a target that cannot roll a create back, each create's intent is
 * committed first (and cleared with its pair, `writeBatch`). Returns the stored hash by position in `items`.
 */
export async function insertAwaitingKeys(parts: EntityParts, items: WriteItem[]): Promise<Map<number, string>> {
  const hashes = new Map<number, string>();
  const awaiting = items.flatMap((item, seq) => (item.awaitsKey ? [{ seq, values: item.record.values! }] : []));
  if (awaiting.length === 0) return hashes;
  const { intents, ctx } = parts;
  const open = intents ? await openCreateIntents(intents, ctx.tx, ctx.state, awaiting.map(({ seq }) => items[seq].record.key!)) : undefined;
  const rows = open ? awaiting.map((row) => ({ ...row, intent: open.get(items[row.seq].record.key!) })) : awaiting;
  const rejections: RowRejection[] = [];
  const inserted = await parts.target.insertReturningKeys(rows, rejections);
  for (const rejection of rejections) parts.tally.reject(items[rejection.seq].record.key!, rejection.reason);
  for (const [seq, { key, hash, recovered }] of inserted) {
    items[seq].targetKey = key;
    hashes.set(seq, hash);
    if (recovered) parts.tally.recoveredCreates++;
  }
  return hashes;
}
