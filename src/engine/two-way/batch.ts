import type { ConflictPolicy } from '../../api/entity.js';
import { emptyCounters, type EntityCounters } from '../../store/run-state.js';
import { failpoint } from '../../util/failpoint.js';
import type { EntityResult, EntitySyncContext, RejectedSample } from '../entity-sync.js';
import type { EntityPlan } from '../plan.js';
import { drawnKey, normaliseValue, unmappedValue, type RowRejection, type Session, type StageRow, type TableWriter } from '../connector.js';
import { conflictFieldChanges } from './conflict-fields.js';
import { unmappedReason } from '../one-way/source-records.js';
import { sideHash } from './archived-hash.js';
import { decide, type Candidate, type Decision, type DecideOptions } from './decide.js';
import { TwoWayPairs, type PairUpdate } from '../../store/two-way-pairs.js';
import { RedoLog, type RedoItem, type RedoWrite, type SideTransactions } from '../../store/redo-log.js';
import { CreateIntents } from '../../store/create-intents.js';
import { openCreateIntents, recoveredCreatesNote } from '../create-intents.js';
import { UnpairedRecords, type UnpairedSighting } from '../../store/unpaired-records.js';
import { Side } from './side.js';
import { emptyTwoWayCounters, otherSide, type Pair, type SideName, type SideRow, type TwoWayCounters } from './types.js';

export interface TwoWayContext extends EntitySyncContext {
  /** Streams the target scan while `target` fetches and writes. */
  targetStream: Session;
  windowSeconds: number;
  now?: () => number;
}

export interface TwoWayResult extends EntityResult {
  twoWay: TwoWayCounters;
}

/** Keys to look at in one batch: rows of either side, by encoded key. */
export interface BatchRefs {
  sourceKeys: string[];
  targetKeys: string[];
  /** Rows read because their cursor moved (Incremental): unchanged ones among them are echoes. */
  moved?: boolean;
}

interface Planned {
  candidate: Candidate;
  decision: Decision;
  keys: Partial<Record<SideName, string[]>>;
  seq: Partial<Record<SideName, number>>;
  hashes: Partial<Record<SideName, string>>;
  /** Sides where the row was created by `insertCreated` (it has a key and hash but no staged seq). */
  inserted?: Partial<Record<SideName, boolean>>;
}

const SIDES: SideName[] = ['source', 'target'];

/**
 * Reads, decides and writes one batch of two-way records. Every batch is crash safe: the pairs and a
 * redo log of the intended writes commit first, then each system, then the redo entry is cleared.
 */
export class TwoWayBatches {
  readonly counters: EntityCounters = emptyCounters();
  readonly twoWay: TwoWayCounters = emptyTwoWayCounters();
  readonly rejected: RejectedSample[] = [];
  readonly notes: string[] = [];
  /**
   * Pairs this run looked at but left as they were (conflicts, held back, skipped): a Full run's
   * target pass would meet them again. Grows with those pairs only, not with the table.
   */
  readonly leftAlone = new Set<string>();
  readonly sides: Record<SideName, Side>;
  /** Each writable side's table; a read-only system (capability `readOnly`, partner files) has none. */
  readonly tables: Partial<Record<SideName, TableWriter>>;
  /** The side that is never written, if any: decisions plan no create, update, archive or delete there. */
  readonly readOnly: SideName | undefined;
  readonly pairs: TwoWayPairs;
  /** The records of category `new`, kept current as batches see them. */
  readonly unpaired: UnpairedRecords;
  readonly redo: RedoLog;
  /** Creates recorded before they are sent, per side that cannot roll a create back (capability `createIntents`). */
  private readonly intents: Partial<Record<SideName, CreateIntents>>;
  /** Creates an earlier attempt may have applied, completed without a second record. */
  private recoveredCreates = 0;
  private readonly clients: Record<SideName, Session>;
  private readonly emptyAtStart: Partial<Record<SideName, Promise<boolean>>> = {};
  private readonly options: Omit<DecideOptions, 'now'>;

  constructor(
    readonly plan: EntityPlan,
    readonly ctx: TwoWayContext,
  ) {
    this.sides = { source: new Side('source', plan), target: new Side('target', plan) };
    this.clients = { source: ctx.sourceFetch, target: ctx.target };
    this.readOnly = SIDES.find((side) => this.clients[side].capabilities.readOnly);
    this.tables = Object.fromEntries(SIDES.filter((side) => side !== this.readOnly).map((side) => [side, this.sides[side].table(this.clients[side])]));
    this.pairs = new TwoWayPairs(ctx.state.client, ctx.flow, plan.name);
    this.unpaired = new UnpairedRecords(ctx.state.client, ctx.flow, plan.name);
    this.redo = new RedoLog(ctx.state.client, ctx.flow, plan.name, ctx.runId);
    this.intents = Object.fromEntries(
      SIDES.filter((side) => this.tables[side] && this.clients[side].capabilities.createIntents).map((side) => [side, new CreateIntents(ctx.state.client, ctx.flow, plan.name, side, ctx.runId)]),
    );
    const fieldPolicies: (ConflictPolicy | undefined)[] = [];
    for (const f of [...plan.keyFields, ...plan.fields]) fieldPolicies[f.mapping] = f.conflictPolicy;
    this.options = {
      actions: plan.actions,
      policy: plan.conflictPolicy,
      fieldPolicies,
      hasArchive: { source: Boolean(plan.reverse!.target.archive), target: Boolean(plan.target.archive) },
      windowSeconds: ctx.windowSeconds,
      ...(this.readOnly ? { readOnly: this.readOnly } : {}),
    };
  }

  /** The table of a side that is written; a write planned for the read-only side is a bug, refused here before any call. */
  private table(side: SideName): TableWriter {
    const table = this.tables[side];
    if (!table) throw new Error(`entity ${this.plan.name}: the ${side} is read-only, yet a write to it was planned`);
    return table;
  }

  result(): TwoWayResult {
    const recovered = this.recoveredCreates;
    const notes = recovered > 0 ? [...this.notes, recoveredCreatesNote(recovered)] : this.notes;
    return { counters: this.counters, rejected: this.rejected, notes, twoWay: this.twoWay, ...(recovered > 0 ? { recoveredCreates: recovered } : {}) };
  }

  private now(): number {
    return this.ctx.now?.() ?? Date.now();
  }

  // ------------------------------------------------------------------ reading

  /** Loads both rows and the pair of every referenced record, links by match and translates lookups. */
  async candidates(refs: BatchRefs): Promise<Candidate[]> {
    const bySource = await this.pairs.bySourceKeys(refs.sourceKeys);
    const byTarget = await this.pairs.byTargetKeys(refs.targetKeys);
    const pairs = new Map([...bySource.values(), ...byTarget.values()].map((p) => [p.sourceKey, p]));
    const sourceKeys = new Set([...refs.sourceKeys, ...[...pairs.values()].map((p) => p.sourceKey)]);
    const targetKeys = new Set([...refs.targetKeys, ...[...pairs.values()].map((p) => p.targetKey)]);
    const sourceRows = await this.sides.source.rowsByKeys(this.clients.source, sourceKeys);
    const targetRows = await this.sides.target.rowsByKeys(this.clients.target, targetKeys);
    this.counters.read += refs.sourceKeys.length + refs.targetKeys.length;

    const out: Candidate[] = [];
    for (const pair of pairs.values()) out.push({ pair, source: sourceRows.get(pair.sourceKey), target: targetRows.get(pair.targetKey) });
    const pairedTargets = new Set([...pairs.values()].map((p) => p.targetKey));
    const unpairedSource = refs.sourceKeys.filter((k) => !pairs.has(k) && sourceRows.has(k)).map((k) => ({ source: sourceRows.get(k)! }));
    const unpairedTarget = refs.targetKeys.filter((k) => !pairedTargets.has(k) && targetRows.has(k)).map((k) => ({ target: targetRows.get(k)! }));
    const claimed = { source: new Set<string>(), target: new Set<string>() };
    await this.match(unpairedSource, 'source', claimed);
    const remainingTarget: Candidate[] = unpairedTarget.filter((c) => !claimed.target.has(c.target.key));
    await this.match(remainingTarget, 'target', claimed);
    // A source row linked from the target side is handled by that candidate.
    out.push(...unpairedSource.filter((c: Candidate) => c.linked || !claimed.source.has(c.source!.key)), ...remainingTarget);
    await this.translateLookups(out);
    return out;
  }

  /**
   * Searches the other side for each unpaired row, without the other side's conditions (seed 002:
   * no duplicates). With `link` on, a match becomes a linked candidate; otherwise creating is refused.
   */
  private async match(items: Candidate[], from: SideName, claimed: Record<SideName, Set<string>>): Promise<void> {
    const plan = this.plan;
    const to = otherSide(from);
    const createAction = to === 'target' ? 'createInTarget' : 'createInSource';
    if (plan.match.length === 0 || !(plan.actions.has('link') || plan.actions.has(createAction))) return;
    // A read-only side cannot be searched by match values; its rows look for partners themselves (every file row is read by a Full run).
    if (to === this.readOnly) return;
    // A side that was empty when the run began holds only rows this run created, all of them paired.
    this.emptyAtStart[to] ??= this.table(to).isEmpty();
    if (await this.emptyAtStart[to]) return;
    const normalize = plan.match.map((m) => m.normalize);
    const candidates = new Map<string, Candidate>();
    for (const item of items) {
      const row = item[from]!;
      if (!row.inScope || row.match.some((v) => v === null)) continue;
      candidates.set(row.match.map((v, i) => normaliseValue(v!, normalize[i])).join('\u0001'), item);
    }
    if (candidates.size === 0) return;
    const found = await this.table(to).findMatches([...candidates.keys()].map((k) => k.split('\u0001')));
    const codec = this.sides[to].codec;
    const encoded = new Map([...found].map(([matchKey, parts]) => [matchKey, codec.encode(parts)!]));
    const paired = to === 'target' ? await this.pairs.pairedTargetKeys([...encoded.values()]) : await this.pairs.pairedSourceKeys([...encoded.values()]);
    const partners = new Map<Candidate, string>();
    for (const [matchKey, key] of encoded) {
      if (paired.has(key) || claimed[to].has(key)) continue;
      claimed[to].add(key);
      partners.set(candidates.get(matchKey)!, key);
    }
    if (!plan.actions.has('link')) {
      for (const [item, key] of partners) item.duplicateOf = key;
      return;
    }
    const rows = await this.sides[to].rowsByKeys(this.clients[to], partners.values());
    for (const [item, key] of partners) {
      const row = rows.get(key);
      if (!row) continue;
      item[to] = row;
      item.linked = true;
      claimed[from].add(item[from]!.key);
    }
  }

  /** Replaces foreign-key values with the other system's keys, through the referenced entity's pairs. */
  private async translateLookups(candidates: Candidate[]): Promise<void> {
    for (const from of SIDES) {
      const direction = from === 'source' ? 'toTarget' : 'toSource';
      for (const field of this.sides[from].mappings) {
        if (!field.lookup) continue;
        const m = field.mapping;
        const rows = candidates.map((c) => c[from]).filter((r): r is SideRow => r !== undefined && r.out[m] !== null);
        if (rows.length === 0) continue;
        const translated = await this.ctx.lookups.translate(field.lookup, new Set(rows.map((r) => r.out[m]!)), direction);
        for (const row of rows) {
          const value = translated.get(row.out[m]!);
          if (value === undefined) {
            row.untranslatable ??= `${field.source} = ${row.out[m]}: no synced ${field.lookup} record with that key (missing parent)`;
          } else row.out[m] = value;
        }
      }
    }
  }

  // ------------------------------------------------------------------ deciding and writing

  /** Decides and applies one batch; `afterCommit` runs in the state transaction that closes it. */
  async process(refs: BatchRefs, afterCommit?: () => Promise<void>, keep?: DecideOptions['keep']): Promise<Planned[]> {
    const candidates = await this.candidates(refs);
    const options: DecideOptions = { ...this.options, now: this.now(), keep };
    const planned = candidates.map((candidate) => ({ candidate, decision: decide(candidate, options), keys: {}, seq: {}, hashes: {} }) as Planned);
    await this.apply(planned, refs.moved ?? false, afterCommit);
    return planned;
  }

  /**
   * Links two existing records by hand (Resolve mode) and unifies them like a link by match keys.
   * Returns why it cannot, if it cannot.
   */
  async linkByHand(sourceKey: string, targetKey: string): Promise<string | undefined> {
    const source = (await this.sides.source.rowsByKeys(this.clients.source, [sourceKey])).get(sourceKey);
    const target = (await this.sides.target.rowsByKeys(this.clients.target, [targetKey])).get(targetKey);
    if (!source) return 'no such source record';
    if (!target) return 'no such target record';
    if ((await this.pairs.bySourceKeys([sourceKey])).size > 0) return 'the source record is already linked; unlink it first';
    if ((await this.pairs.byTargetKeys([targetKey])).size > 0) return 'the target record is already linked; unlink it first';
    const candidate: Candidate = { source, target, linked: true };
    await this.translateLookups([candidate]);
    const planned: Planned = { candidate, decision: decide(candidate, { ...this.options, now: this.now() }), keys: {}, seq: {}, hashes: {} };
    await this.apply([planned], false);
    return undefined;
  }

  /**
   * `ferry resolve --reactivate` of an inactive pair: its archived rows become active again (the
   * archive column back to its default), then the pair syncs by the usual rules, newest values first.
   * Returns why it cannot: a record archived on the read-only side stays archived there.
   */
  async reactivate(pair: Pair): Promise<string | undefined> {
    const rows = new Map<SideName, SideRow | undefined>();
    for (const side of SIDES) {
      const key = side === 'source' ? pair.sourceKey : pair.targetKey;
      rows.set(side, (await this.sides[side].rowsByKeys(this.clients[side], [key])).get(key));
    }
    if (this.readOnly && rows.get(this.readOnly)?.archived) return `the ${this.readOnly} record is archived there, and the ${this.readOnly} is read-only`;
    for (const side of SIDES) {
      const row = rows.get(side);
      if (row?.archived) await this.ctx.tx.unit(this.clients[side], () => this.table(side).setArchived([row.keyParts], false));
    }
    await this.process({ sourceKeys: [pair.sourceKey], targetKeys: [] });
    return undefined;
  }

  async apply(planned: Planned[], moved: boolean, afterCommit?: () => Promise<void>): Promise<void> {
    const { tx, state } = this.ctx;
    const live = planned.filter((p) => this.writable(p));
    await this.assignKeys(live);
    const writing = live.filter((p) => p.decision.write.size > 0);

    const stage: Record<SideName, StageRow[]> = { source: [], target: [] };
    const awaiting: Record<SideName, Planned[]> = { source: [], target: [] };
    for (const p of writing) {
      for (const side of p.decision.write) {
        if (!p.keys[side]) {
          awaiting[side].push(p);
          continue;
        }
        const seq = stage[side].length;
        p.seq[side] = seq;
        stage[side].push({ seq, key: p.keys[side]!, values: this.valuesFor(p, side) });
      }
    }

    const begun: SideName[] = [];
    // Each side's transaction token goes into the redo entry: the replay asks whether it committed (redo.ts).
    const transactions: SideTransactions = {};
    try {
      for (const side of SIDES) {
        if (stage[side].length === 0 && awaiting[side].length === 0) continue;
        const token = await tx.beginTracked(this.clients[side]);
        begun.push(side);
        if (token !== undefined) transactions[side] = token;
        if (stage[side].length === 0) continue;
        const rejections: RowRejection[] = [];
        await this.table(side).stageRows(stage[side], rejections);
        for (const r of rejections) this.dropWrite(writing, side, r.seq, r.reason);
        const expected = await this.table(side).expectedHashes();
        for (const p of writing) if (p.seq[side] !== undefined) p.hashes[side] = this.writtenHash(p, side, expected.get(p.seq[side]!));
      }
      // Only once every staged value is known to fit, so no row is created for a record rejected later.
      for (const side of SIDES) await this.insertCreated(awaiting[side], side);
      failpoint('two-way:created');
      const accepted = planned.filter((p) => p.decision.outcome !== 'rejected');
      const redoItems = accepted.filter((p) => p.decision.write.size > 0).map((p) => this.redoItem(p));
      const redoId = await tx.unit(state, async () => {
        await this.pairs.save(accepted.filter((p) => p.decision.pair === 'save' && !p.decision.archive).map((p) => this.pairUpdate(p)));
        await this.pairs.remove(accepted.filter((p) => p.decision.pair === 'drop' && !p.decision.remove).map((p) => p.candidate.pair!.sourceKey));
        await this.pairs.recordConflicts(this.ctx.runId, conflictFieldChanges(accepted, this.sides.source.mappings));
        await this.recordUnpaired(accepted);
        await this.clearCreateIntents(accepted);
        return redoItems.length > 0 ? this.redo.begin(redoItems, transactions) : undefined;
      });
      failpoint('two-way:pairs-committed');

      const writeRejections: Record<SideName, RowRejection[]> = { source: [], target: [] };
      for (const side of begun) {
        const seqs = (mode: 'insert' | 'upsert') =>
          writing.filter((p) => p.seq[side] !== undefined && (p.decision.create === side) === (mode === 'insert')).map((p) => p.seq[side]!);
        await this.table(side).write(seqs('insert'), writeRejections[side], 'insert');
        await this.table(side).write(seqs('upsert'), writeRejections[side], 'upsert');
      }
      for (const side of begun) {
        await tx.commit(this.clients[side]);
        failpoint(`two-way:${side}-committed`);
      }
      begun.length = 0;

      await tx.unit(state, async () => {
        const restore: PairUpdate[] = [];
        const drop: string[] = [];
        for (const side of SIDES) {
          for (const r of writeRejections[side]) {
            const p = writing.find((w) => w.seq[side] === r.seq)!;
            this.reject(p, r.reason);
            if (p.candidate.pair) restore.push(this.previousPair(p));
            else if (p.candidate.source || p.decision.create === 'source') drop.push(this.sourceKeyOf(p));
          }
        }
        await this.pairs.save(restore);
        await this.pairs.remove(drop);
        if (redoId !== undefined) await this.redo.end(redoId);
        if (afterCommit) await afterCommit();
      });
      failpoint('two-way:batch-done');
    } catch (error) {
      for (const side of begun) await tx.rollback(this.clients[side]);
      throw error;
    }
    await this.archiveAndDelete(planned);
    this.count(planned, moved);
  }

  /** Keeps the `new` list current: records left unpaired are (re)listed, records paired by this batch leave it. */
  private async recordUnpaired(accepted: Planned[]): Promise<void> {
    const normalize = this.plan.match.map((m) => m.normalize);
    const sightings: UnpairedSighting[] = [];
    const paired: Record<SideName, string[]> = { source: [], target: [] };
    for (const p of accepted) {
      const { candidate, decision } = p;
      if (decision.category === 'new') {
        const side: SideName = candidate.source ? 'source' : 'target';
        const row = candidate[side]!;
        sightings.push({
          side,
          key: row.key,
          matchValues: row.match.map((v, i) => (v === null ? null : normaliseValue(v, normalize[i]))),
          reason: decision.outcome === 'duplicate' ? 'duplicate' : 'unmatched',
          inScope: row.inScope,
        });
      } else if (!candidate.pair && decision.pair === 'save') {
        for (const side of SIDES) if (candidate[side]) paired[side].push(candidate[side]!.key);
      }
    }
    await this.unpaired.keep(this.ctx.runId, sightings);
    for (const side of SIDES) await this.unpaired.forget(side, paired[side]);
  }

  /** Refuses writes that cannot be made: a lookup without a pair, or a side that cannot create rows. */
  private writable(p: Planned): boolean {
    for (const side of p.decision.write) {
      const from = p.candidate[otherSide(side)];
      if (from?.untranslatable) {
        this.reject(p, from.untranslatable);
        return false;
      }
      const unmapped = from && this.unmappedWrite(p, side);
      if (unmapped) {
        this.reject(p, unmapped);
        return false;
      }
    }
    return true;
  }

  /** A value the writing side's value map does not list (`unmapped: Reject`) that would be written to `side`. */
  private unmappedWrite(p: Planned, side: SideName): string | undefined {
    const from = otherSide(side);
    for (const field of this.sides[from].mappings) {
      if (field.valueMap?.unmapped !== 'Reject') continue;
      const value = unmappedValue(p.candidate[from]!.out[field.mapping]);
      if (value === undefined) continue;
      if (p.decision.create === side || p.decision.winners.get(field.mapping) === from) return unmappedReason(field.source, value);
    }
    return undefined;
  }

  private async assignKeys(planned: Planned[]): Promise<void> {
    for (const p of planned) {
      for (const side of SIDES) if (p.candidate[side]) p.keys[side] = p.candidate[side]!.keyParts;
    }
    for (const side of SIDES) {
      const writer = this.sides[side].writer;
      const creating = planned.filter((p) => p.decision.create === side);
      if (creating.length === 0) continue;
      if (writer.target.keyMode === 'mapped') {
        for (const p of creating) {
          const from = p.candidate[otherSide(side)]!;
          const parts = writer.keyFields.map((f) => from.out[f.mapping]);
          if (parts.some((v) => v === null)) this.reject(p, `${side} key ${writer.target.keys.join(', ')} would be null`);
          else p.keys[side] = parts as string[];
        }
      } else if (this.clients[side].capabilities.generatedKeys === 'drawn') {
        const keys = await this.table(side).allocateKeys(creating.length);
        creating.forEach((p, i) => (p.keys[side] = drawnKey(keys, i)));
      }
      // Otherwise the side numbers rows itself: the keys come back from the insert (insertCreated).
    }
  }

  /** The values a side ends up with: the winner's per differing field, its own elsewhere. */
  private valuesFor(p: Planned, side: SideName): (string | null)[] {
    const own = p.candidate[side];
    const other = p.candidate[otherSide(side)]!;
    return this.sides[side].writer.fields.map((f) => {
      const winner = p.decision.winners.get(f.mapping);
      if (!own || winner === otherSide(side)) return other.out[f.mapping];
      return own.raw[f.mapping];
    });
  }

  /**
   * Creates rows on a side that numbers them itself (AUTO_INCREMENT), inside the side's open
   * transaction, and learns their keys. Like every other write they commit only after the pairs and
   * the redo log, so a crash in between is replayed by key, never duplicated. On a side that cannot
   * roll a create back (an API) each create's intent is committed first and cleared with its pair.
   */
  private async insertCreated(creating: Planned[], side: SideName): Promise<void> {
    const live = creating.filter((p) => p.decision.outcome !== 'rejected');
    if (live.length === 0) return;
    const copied = (p: Planned) => p.candidate[otherSide(side)]!.key;
    const store = this.intents[side];
    const open = store ? await openCreateIntents(store, this.ctx.tx, this.ctx.state, live.map(copied)) : undefined;
    const rejections: RowRejection[] = [];
    const inserted = await this.table(side).insertReturningKeys(
      live.map((p, seq) => ({ seq, values: this.valuesFor(p, side), intent: open?.get(copied(p)) })),
      rejections,
    );
    for (const r of rejections) {
      this.reject(live[r.seq], `${side}: ${r.reason}`);
      for (const s of SIDES) delete live[r.seq].seq[s];
    }
    for (const [seq, { key, hash, recovered }] of inserted) {
      live[seq].keys[side] = key;
      live[seq].hashes[side] = hash;
      live[seq].inserted = { ...live[seq].inserted, [side]: true };
      if (recovered) this.recoveredCreates++;
    }
  }

  /**
   * Clears the create intents of records this batch pairs for the first time. One linked by its match
   * fields while its intent was open is a record an interrupted run had created.
   */
  private async clearCreateIntents(accepted: Planned[]): Promise<void> {
    for (const side of SIDES) {
      const store = this.intents[side];
      const from = otherSide(side);
      const fresh = store ? accepted.filter((p) => !p.candidate.pair && p.candidate[from] && (p.inserted?.[side] || p.candidate[side])) : [];
      if (fresh.length === 0) continue;
      const cleared = new Set(await store!.clear(fresh.map((p) => p.candidate[from]!.key)));
      this.recoveredCreates += fresh.filter((p) => !p.inserted?.[side] && cleared.has(p.candidate[from]!.key)).length;
    }
  }

  private dropWrite(writing: Planned[], side: SideName, seq: number, reason: string): void {
    const p = writing.find((w) => w.seq[side] === seq);
    if (!p) return;
    this.reject(p, `${side}: ${reason}`);
    for (const s of SIDES) delete p.seq[s];
  }

  /** The hash a written row will have, marked when the row stays archived (a write leaves the archive column alone). */
  private writtenHash(p: Planned, side: SideName, hash: string | undefined): string | undefined {
    return hash === undefined ? undefined : sideHash(hash, p.candidate[side]?.archived ?? false);
  }

  private sourceKeyOf(p: Planned): string {
    return p.candidate.pair?.sourceKey ?? this.sides.source.codec.encode(p.keys.source!)!;
  }

  private targetKeyOf(p: Planned): string {
    return p.candidate.pair?.targetKey ?? this.sides.target.codec.encode(p.keys.target!)!;
  }

  private pairUpdate(p: Planned): PairUpdate {
    const { candidate, decision } = p;
    const previous = candidate.pair;
    const hash = (side: SideName) => {
      if (decision.keepHashes) return side === 'source' ? (previous?.sourceHash ?? null) : (previous?.targetHash ?? null);
      return p.hashes[side] ?? candidate[side]?.hash ?? (side === 'source' ? previous?.sourceHash : previous?.targetHash) ?? null;
    };
    const changed = decision.write.size > 0 || decision.archive !== undefined;
    return {
      sourceKey: this.sourceKeyOf(p),
      targetKey: this.targetKeyOf(p),
      sourceHash: hash('source'),
      targetHash: hash('target'),
      sourceCursor: candidate.source?.cursor ?? previous?.sourceCursor ?? null,
      targetCursor: candidate.target?.cursor ?? previous?.targetCursor ?? null,
      lastOrigin: changed && decision.origin ? decision.origin : (previous?.lastOrigin ?? decision.origin ?? 'source'),
      lastSyncedAt: changed || !previous ? null : previous.lastSyncedAt,
      category: decision.category,
      sourceGone: !candidate.source && decision.create !== 'source',
      targetGone: !candidate.target && decision.create !== 'target',
      heldUntil: decision.heldUntil ?? null,
    };
  }

  private previousPair(p: Planned): PairUpdate {
    const prev = p.candidate.pair!;
    return { ...prev, lastSyncedAt: prev.lastSyncedAt };
  }

  private redoItem(p: Planned): RedoItem {
    const write = (side: SideName): RedoWrite | undefined => {
      if (p.seq[side] === undefined && !p.inserted?.[side]) return undefined;
      return { key: p.keys[side]!, values: this.valuesFor(p, side), hash: p.hashes[side]!, previousHash: p.candidate[side]?.hash ?? null };
    };
    return { sourceKey: this.sourceKeyOf(p), source: write('source'), target: write('target') };
  }

  /** Archives or deletes rows whose partner vanished (seed 002, actions 7-10): the row first, then the pair. */
  private async archiveAndDelete(planned: Planned[]): Promise<void> {
    const { tx, state } = this.ctx;
    for (const side of SIDES) {
      const archive = planned.filter((p) => p.decision.archive === side);
      if (archive.length > 0) {
        await tx.unit(this.clients[side], () => this.table(side).setArchived(archive.map((p) => p.keys[side]!), true));
        failpoint('two-way:archived');
        const refreshed = await this.sides[side].rowsByKeys(this.clients[side], archive.map((p) => p.candidate[side]!.key));
        for (const p of archive) p.hashes[side] = refreshed.get(p.candidate[side]!.key)?.hash;
        await tx.unit(state, () => this.pairs.save(archive.map((p) => this.pairUpdate(p))));
      }
      const remove = planned.filter((p) => p.decision.remove === side);
      if (remove.length > 0) {
        const failed = new Set<Planned>();
        await tx.unit(this.clients[side], () =>
          this.table(side).deleteRows(
            remove.map((p) => p.keys[side]!),
            (key, reason) => {
              const p = remove.find((r) => r.keys[side]!.join('\u0001') === key.join('\u0001'))!;
              failed.add(p);
              this.reject(p, `delete refused: ${reason}`);
            },
          ),
        );
        await tx.unit(state, () => this.pairs.remove(remove.filter((p) => !failed.has(p)).map((p) => p.candidate.pair!.sourceKey)));
        for (const p of failed) p.decision.outcome = 'skipped';
      }
    }
  }

  private count(planned: Planned[], moved: boolean): void {
    const c = this.counters;
    const t = this.twoWay;
    for (const p of planned) {
      const { decision, candidate } = p;
      if ((candidate.pair && decision.pair === 'keep') || decision.keepHashes) this.leftAlone.add(this.sourceKeyOf(p));
      else if (candidate.pair?.heldUntil && decision.outcome !== 'blocked') this.twoWay.released++;
      if (p.decision.outcome === 'rejected') continue;
      const wrote = (side: SideName) => p.seq[side] !== undefined || Boolean(p.inserted?.[side]);
      switch (decision.outcome) {
        case 'created':
          if (!wrote(decision.create!)) break;
          c.created++;
          if (decision.create === 'source') t.createdInSource++;
          else t.createdInTarget++;
          break;
        case 'linked':
        case 'updated':
          if (decision.outcome === 'linked') c.linked++;
          if (wrote('source')) t.updatedSource++;
          if (wrote('target')) t.updatedTarget++;
          if (decision.outcome === 'updated' && (wrote('source') || wrote('target'))) c.updated++;
          break;
        case 'unchanged': {
          c.unchanged++;
          const pair = candidate.pair;
          const echo = (side: SideName) => {
            const row = candidate[side];
            const cursor = side === 'source' ? pair?.sourceCursor : pair?.targetCursor;
            return row && cursor !== undefined && row.cursor !== cursor;
          };
          if (moved && pair && (echo('source') || echo('target'))) t.echoes++;
          break;
        }
        case 'conflict':
          t.conflicts++;
          break;
        case 'blocked':
          t.blocked++;
          break;
        case 'inactive':
          t.heldInactive = (t.heldInactive ?? 0) + 1;
          c.skipped++;
          break;
        case 'archived':
          c.archived++;
          if (decision.archive === 'source') t.archivedSource++;
          else t.archivedTarget++;
          break;
        case 'deleted':
          c.deleted++;
          if (decision.remove === 'source') t.deletedSource++;
          else t.deletedTarget++;
          break;
        case 'partnerGone':
          c.sourceGone++;
          break;
        case 'unpaired':
        case 'duplicate':
          t.unpaired++;
          c.skipped++;
          break;
        case 'skipped':
        case 'deactivated':
          c.skipped++;
          break;
        default:
          break;
      }
    }
    this.ctx.onProgress?.(this.plan.name, this.counters);
  }

  reject(p: Planned, reason: string): void {
    p.decision.outcome = 'rejected';
    p.decision.write.clear();
    p.decision.pair = 'keep';
    const row = p.candidate.source ?? p.candidate.target;
    const label = row ? `${p.candidate.source ? '' : 'target '}${row.keyParts.join(', ')}` : null;
    this.rejectRow(label, reason);
  }

  /** Counts a rejected row; `key` is the source key for display, or `target <key>` for a target-only row. */
  rejectRow(key: string | null, reason: string): void {
    this.counters.rejected++;
    if (this.rejected.length < this.ctx.rejectSampleLimit) this.rejected.push({ entity: this.plan.name, key, reason });
  }
}
