import type { Logger } from 'pino';
import { PairStore, type PairWrite, type StoredPair } from '../store/pairs.js';
import { emptyCounters, type EntityCounters, type RunState, type Watermark } from '../store/run-state.js';
import type { StateConnection } from '../store/state-connection.js';
import { inBatches } from '../util/batches.js';
import { SOURCE_LAYOUT, normaliseValue, type Row, type RowRejection, type Session, type StageRow, type TableReader, type TableWriter } from './connector.js';
import { compareKeys } from './keys.js';
import type { LookupTranslator } from './lookups.js';
import type { EntityPlan } from './plan.js';
import type { Transactions } from './transactions.js';
import type { PrefetchedRows } from './record-prefetch.js';
import { failpoint } from '../util/failpoint.js';

export interface EntitySyncContext {
  flow: string;
  runId: string;
  batchSize: number;
  tx: Transactions;
  /** Streams the source scan. */
  source: Session;
  /** Fetches full rows by key in the same snapshot as `source`. */
  sourceFetch: Session;
  target: Session;
  /** Writes pairs, watermarks and counters. */
  state: StateConnection;
  /** Streams pairs while `state` writes. */
  stateStream: StateConnection;
  runState: RunState;
  lookups: LookupTranslator;
  logger: Logger;
  rejectSampleLimit: number;
  onProgress?: (entity: string, counters: EntityCounters) => void;
  /** Why a referenced entity may have no synced row (e.g. it lies outside the run's scope), added to the rejection reason. */
  missingParentHint?: (entity: string, sourceKey: string) => string | undefined;
}

export interface RejectedSample {
  entity: string;
  key: string | null;
  reason: string;
}

interface SourceRecord {
  key: string | undefined;
  keyParts: (string | null)[];
  cursor: string | null;
  hash: string;
  inScope: boolean;
  values?: (string | null)[];
  matchValues?: (string | null)[];
}

type WriteKind = 'new' | 'changed' | 'reappeared';

interface WriteItem {
  record: SourceRecord;
  kind: WriteKind;
  pair?: StoredPair;
  /** Plain target key values, once known (from the pair, the mapping, a match or a fresh default). */
  targetKey?: string[];
  /** Linked to an existing target row by the match keys. */
  linked?: boolean;
  /** The target numbers new rows itself (AUTO_INCREMENT): the key comes back from the insert. */
  awaitsKey?: boolean;
}

export interface EntityResult {
  counters: EntityCounters;
  rejected: RejectedSample[];
  notes: string[];
}

/** Decides, for a key-only Full scan, whether to fetch changed rows by key instead of streaming every column. */
const KEY_ONLY_PAIR_RATIO = 0.5;

/** Syncs one entity from source to target (one-way). */
export class EntitySync {
  private readonly counters = emptyCounters();
  private readonly rejected: RejectedSample[] = [];
  private readonly notes: string[] = [];
  private readonly target: TableWriter;
  /** Streams the source (Full scan, Incremental). */
  private readonly reader: TableReader;
  /** Reads rows by key, in the scan's snapshot. */
  private readonly fetcher: TableReader;
  private readonly pairs: PairStore;
  private matching = false;
  private inFlight?: Promise<void>;

  constructor(
    private readonly plan: EntityPlan,
    private readonly ctx: EntitySyncContext,
  ) {
    this.target = ctx.target.writer(plan);
    this.reader = ctx.source.reader(plan);
    this.fetcher = ctx.sourceFetch.reader(plan);
    this.pairs = new PairStore(ctx.state.client, ctx.flow, plan.name);
  }

  private result(): EntityResult {
    return { counters: this.counters, rejected: this.rejected, notes: this.notes };
  }

  private async prepare(): Promise<void> {
    this.matching = this.plan.actions.has('link') && this.plan.match.length > 0 && !(await this.target.isEmpty());
  }

  // ---------------------------------------------------------------- Full

  async full(): Promise<EntityResult> {
    const started = Date.now();
    await this.prepare();
    const pairCount = await this.pairs.count();
    if (pairCount > 0) await this.checkTargetDrift();

    const sourceRows = await this.fetcher.estimateRows();
    // Without a shared snapshot, rows fetched by key could be newer than the scan that chose them.
    const keyOnly = pairCount > 0 && pairCount >= KEY_ONLY_PAIR_RATIO * sourceRows && this.ctx.source.capabilities.sharedSnapshot;

    try {
      const snapshot = await this.ctx.source.beginSnapshot();
      await this.ctx.sourceFetch.joinSnapshot(snapshot);
      await this.mergeSourceWithPairs(keyOnly);
      if (this.plan.source.updatedAt) {
        const newest = await this.fetcher.newestCursor();
        if (newest) await this.ctx.tx.unit(this.ctx.state, () => this.ctx.runState.writeWatermark(this.plan.name, newest));
      }
    } finally {
      await this.ctx.source.endSnapshot().catch(() => {});
      await this.ctx.sourceFetch.endSnapshot().catch(() => {});
    }
    this.counters.durationMs += Date.now() - started;
    this.reportProgress();
    return this.result();
  }

  /**
   * Walks the source (in key order) and the pairs (in the same order) side by side: a key on both
   * sides is compared by hash, a source-only key is new, a pair-only key is a vanished source row.
   */
  private async mergeSourceWithPairs(keyOnly: boolean): Promise<void> {
    const sourceIter = this.reader.scan(!keyOnly)[Symbol.asyncIterator]();
    const pairIter = this.pairs.streamBySourceKey(this.ctx.stateStream.client)[Symbol.asyncIterator]();
    let writes: WriteItem[] = [];
    let gone: StoredPair[] = [];

    let source = await this.nextSource(sourceIter);
    let pairRow = await pairIter.next();
    while (!source.done || !pairRow.done) {
      const pair = pairRow.done ? undefined : toStoredPair(pairRow.value);
      const record = source.done ? undefined : source.value;
      const order = !record ? 1 : !pair ? -1 : compareKeys(record.key!, pair.sourceKey);
      if (order === 0) {
        this.classify(record!, pair!, writes);
        source = await this.nextSource(sourceIter);
        pairRow = await pairIter.next();
      } else if (order < 0) {
        this.classify(record!, undefined, writes);
        source = await this.nextSource(sourceIter);
      } else {
        if (!pair!.sourceGone) gone.push(pair!);
        pairRow = await pairIter.next();
      }
      if (writes.length >= this.ctx.batchSize) {
        const batch = writes;
        await this.startWrite(() => this.flushWrites(batch, keyOnly));
        writes = [];
      }
      if (gone.length >= this.ctx.batchSize) {
        await this.settleWrites();
        await this.handleVanished(gone);
        gone = [];
      }
    }
    await this.startWrite(() => this.flushWrites(writes, keyOnly));
    await this.settleWrites();
    await this.handleVanished(gone);
  }

  /**
   * Keeps one batch in flight: the next batch is read and classified while this one is written.
   * Writes themselves stay strictly sequential, so commit order (and watermark order) is unchanged.
   */
  private async startWrite(work: () => Promise<void>): Promise<void> {
    await this.settleWrites();
    const promise = work();
    promise.catch(() => {}); // surfaced by settleWrites
    this.inFlight = promise;
  }

  private async settleWrites(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) await pending;
  }

  /** Next source row with a usable key; rows with a null key part are rejected on the way. */
  private async nextSource(iter: AsyncIterator<Row>): Promise<IteratorResult<SourceRecord>> {
    for (;;) {
      const next = await iter.next();
      if (next.done) return { done: true, value: undefined };
      const record = this.parseSourceRow(next.value);
      this.counters.read++;
      if (record.key === undefined) {
        this.reject(null, `key ${this.plan.source.keys.join(', ')} is null`);
        continue;
      }
      return { done: false, value: record };
    }
  }

  private parseSourceRow(row: Row): SourceRecord {
    const width = this.plan.source.keys.length;
    const keyParts = row.slice(0, width);
    const first = SOURCE_LAYOUT.firstValue(this.plan);
    const valueCount = this.plan.keyFields.length + this.plan.fields.length;
    const hasValues = row.length > first;
    return {
      key: this.plan.source.codec.encode(keyParts),
      keyParts,
      cursor: row[SOURCE_LAYOUT.cursor(this.plan)],
      hash: row[SOURCE_LAYOUT.hash(this.plan)]!,
      inScope: row[SOURCE_LAYOUT.inScope(this.plan)] === 't',
      values: hasValues ? row.slice(first, first + valueCount) : undefined,
      matchValues: hasValues ? row.slice(first + valueCount) : undefined,
    };
  }

  private classify(record: SourceRecord, pair: StoredPair | undefined, writes: WriteItem[]): void {
    if (!record.inScope) {
      this.counters.skipped++;
      return;
    }
    if (!pair) {
      if (this.plan.actions.has('createInTarget') || this.matching) writes.push({ record, kind: 'new' });
      else this.counters.skipped++;
      return;
    }
    if (pair.sourceGone) {
      writes.push({ record, kind: 'reappeared', pair });
    } else if (pair.sourceHash !== record.hash) {
      if (this.plan.actions.has('updateTarget') || this.plan.actions.has('updateNewerWins')) writes.push({ record, kind: 'changed', pair });
      else this.counters.skipped++;
    } else {
      this.counters.unchanged++;
    }
  }

  private async flushWrites(writes: WriteItem[], keyOnly: boolean): Promise<void> {
    if (writes.length === 0) return;
    if (keyOnly) await this.fetchValues(writes);
    await this.writeBatch(writes);
  }

  /** Key-only scans learn which rows changed; this loads just those rows, from the same snapshot. */
  private async fetchValues(writes: WriteItem[]): Promise<void> {
    const byKey = new Map(writes.map((w) => [w.record.key!, w]));
    for await (const row of this.fetcher.byKeys(writes.map((w) => w.record.keyParts as string[]))) {
      const fetched = this.parseSourceRow(row);
      const item = byKey.get(fetched.key!);
      if (item) item.record = fetched;
    }
  }

  // ---------------------------------------------------------------- Incremental

  async incremental(): Promise<EntityResult> {
    if (!this.plan.source.updatedAt) {
      this.notes.push('no source.updatedAt cursor: compared in full');
      return this.full();
    }
    const started = Date.now();
    await this.prepare();
    const watermark = await this.ctx.runState.readWatermark(this.plan.name);
    const rows = this.reader.changedSince(watermark);
    try {
      for await (const batch of inBatches(rows, this.ctx.batchSize)) {
        const records: SourceRecord[] = [];
        for (const row of batch) {
          const record = this.parseSourceRow(row);
          this.counters.read++;
          if (record.key === undefined) this.reject(null, `key ${this.plan.source.keys.join(', ')} is null`);
          else records.push(record);
        }
        const last = records.length > 0 ? records[records.length - 1] : this.parseSourceRow(batch[batch.length - 1]);
        const next: Watermark = { cursor: last.cursor!, key: last.keyParts.map((p) => p ?? '') };
        await this.startWrite(async () => {
          const known = await this.pairs.bySourceKeys(records.map((r) => r.key!));
          const writes: WriteItem[] = [];
          for (const record of records) this.classify(record, known.get(record.key!), writes);
          await this.writeBatch(writes, () => this.ctx.runState.writeWatermark(this.plan.name, next));
        });
      }
    } finally {
      await this.settleWrites();
    }
    this.counters.durationMs += Date.now() - started;
    this.reportProgress();
    return this.result();
  }

  // ---------------------------------------------------------------- by key (Record mode)

  /**
   * Syncs just these source rows (plain key parts), read by key (or handed over already read) and
   * written through the same batch writer as the other modes. Never moves the watermark: the next
   * Incremental run still reads these rows, and finds them unchanged.
   */
  async syncKeys(keys: string[][], prefetched?: PrefetchedRows): Promise<EntityResult> {
    const started = Date.now();
    let prepared = false;
    const total = prefetched ? prefetched.rows.length : keys.length;
    for (let i = 0; i < total; i += this.ctx.batchSize) {
      const records: SourceRecord[] = [];
      const rows = prefetched
        ? prefetched.rows.slice(i, i + this.ctx.batchSize)
        : this.fetcher.byKeys(keys.slice(i, i + this.ctx.batchSize));
      for await (const row of rows) {
        const record = this.parseSourceRow(row);
        this.counters.read++;
        if (record.key === undefined) this.reject(null, `key ${this.plan.source.keys.join(', ')} is null`);
        else records.push(record);
      }
      const known = prefetched ? prefetched.pairs : await this.pairs.bySourceKeys(records.map((r) => r.key!));
      // Matching only matters for rows without a pair; most Record runs have none.
      if (!prepared && records.some((r) => !known.has(r.key!))) {
        await this.prepare();
        prepared = true;
      }
      const writes: WriteItem[] = [];
      for (const record of records) this.classify(record, known.get(record.key!), writes);
      await this.writeBatch(writes);
    }
    this.counters.durationMs += Date.now() - started;
    this.reportProgress();
    return this.result();
  }

  // ---------------------------------------------------------------- writing

  /**
   * Writes one batch so that a crash at any point is recoverable: pairs (with the hashes the rows
   * will have) and an inflight marker commit first, then the target, then the marker is cleared
   * together with the watermark. Recovery re-checks marked pairs against the target.
   */
  private async writeBatch(items: WriteItem[], afterCommit?: () => Promise<void>): Promise<void> {
    const { tx, state, target } = this.ctx;
    const live = await this.translateLookups(items);
    await this.assignTargetKeys(live);

    if (!live.some((item) => item.targetKey || item.awaitsKey)) {
      if (afterCommit) await tx.unit(state, afterCommit);
      this.reportProgress();
      return;
    }

    await tx.begin(target);
    try {
      const hashes = await this.insertAwaitingKeys(live);
      const stageRows: StageRow[] = [];
      const bySeq = new Map<number, WriteItem & { targetKey: string[] }>();
      live.forEach((item, seq) => {
        if (!item.targetKey) return;
        if (!hashes.has(seq)) stageRows.push({ seq, key: item.targetKey, values: item.record.values!.slice(this.plan.keyFields.length) });
        bySeq.set(seq, item as WriteItem & { targetKey: string[] });
      });
      const isFresh = (row: StageRow) => {
        const item = bySeq.get(row.seq)!;
        return item.kind === 'new' && !item.linked && this.plan.target.keyMode === 'generated';
      };
      const freshRows = stageRows.filter(isFresh);
      const copied = await this.target.copyFresh(freshRows);
      if (copied) {
        for (const row of freshRows) hashes.set(row.seq, copied.get(this.plan.target.codec.encode(row.key)!)!);
      }
      const slowRows = copied ? stageRows.filter((row) => !isFresh(row)) : stageRows;
      const castRejections: RowRejection[] = [];
      if (slowRows.length > 0) {
        await this.target.stageRows(slowRows, castRejections);
        for (const [seq, hash] of await this.target.expectedHashes()) hashes.set(seq, hash);
      }
      for (const rejection of castRejections) {
        this.reject(bySeq.get(rejection.seq)!.record.key!, rejection.reason);
        bySeq.delete(rejection.seq);
      }

      const fresh: PairWrite[] = [];
      const known: PairWrite[] = [];
      for (const [seq, item] of bySeq) {
        (item.pair ? known : fresh).push({
          sourceKey: item.record.key!,
          targetKey: this.plan.target.codec.encode(item.targetKey)!,
          sourceHash: item.record.hash,
          targetHash: hashes.get(seq) ?? null,
          sourceCursor: item.record.cursor,
        });
      }
      const pairWrites = [...fresh, ...known];
      // The pairs commit and the target upsert run side by side on their own connections; only the
      // target *commit* has to wait for the pairs commit.
      const writeRejections: RowRejection[] = [];
      const [markerId] = await Promise.all([
        tx.unit(state, async () => {
          await this.pairs.insertNew(fresh);
          await this.pairs.upsert(known);
          return this.ctx.runState.beginInflight(this.plan.name, pairWrites.map((p) => p.sourceKey));
        }),
        (async () => {
          const pending = slowRows.filter((row) => bySeq.has(row.seq));
          await this.target.write(pending.filter(isFresh).map((row) => row.seq), writeRejections, 'insert');
          await this.target.write(pending.filter((row) => !isFresh(row)).map((row) => row.seq), writeRejections, 'upsert');
        })(),
      ]);
      failpoint('batch:pairs-committed');

      const rejectedSeqs = new Set(writeRejections.map((r) => r.seq));
      const reappeared = [...bySeq.entries()].filter(([seq, i]) => i.kind === 'reappeared' && !rejectedSeqs.has(seq)).map(([, i]) => i.targetKey);
      await this.target.setArchived(reappeared, false);
      await tx.commit(target);
      failpoint('batch:target-committed');

      await tx.unit(state, async () => {
        const dropped: string[] = [];
        const stale: string[] = [];
        for (const rejection of writeRejections) {
          const item = bySeq.get(rejection.seq)!;
          this.reject(item.record.key!, rejection.reason);
          (item.kind === 'new' ? dropped : stale).push(item.record.key!);
          bySeq.delete(rejection.seq);
        }
        await this.pairs.remove(dropped);
        await this.pairs.markStale(stale);
        await this.ctx.runState.endInflight(markerId);
        if (afterCommit) await afterCommit();
      });
      failpoint('batch:done');
      this.count(bySeq.values());
    } catch (error) {
      await tx.rollback(target);
      throw error;
    }
    this.reportProgress();
  }

  private count(written: Iterable<WriteItem>): void {
    for (const item of written) {
      if (item.kind === 'new') {
        if (item.linked) this.counters.linked++;
        else this.counters.created++;
      } else {
        this.counters.updated++;
      }
    }
  }

  /**
   * For targets that number new rows themselves (capability `generatedKeys: 'returned'`): inserts
   * those rows first, inside the batch's open target transaction, and learns their keys. The pairs
   * commit before the target does, as for every other row, so a crash in between is repaired by the
   * interrupted-batch recovery. Returns the stored hash by position in `items`.
   */
  private async insertAwaitingKeys(items: WriteItem[]): Promise<Map<number, string>> {
    const hashes = new Map<number, string>();
    const awaiting = items.flatMap((item, seq) => (item.awaitsKey ? [{ seq, values: item.record.values! }] : []));
    if (awaiting.length === 0) return hashes;
    const rejections: RowRejection[] = [];
    const inserted = await this.target.insertReturningKeys(awaiting, rejections);
    for (const rejection of rejections) this.reject(items[rejection.seq].record.key!, rejection.reason);
    for (const [seq, { key, hash }] of inserted) {
      items[seq].targetKey = key;
      hashes.set(seq, hash);
    }
    return hashes;
  }

  /** Replaces foreign-key values with the referenced entity's target keys; rows whose parent is missing are rejected. */
  private async translateLookups(items: WriteItem[]): Promise<WriteItem[]> {
    const lookupFields = [...this.plan.keyFields, ...this.plan.fields]
      .map((field, index) => ({ field, index }))
      .filter(({ field }) => field.lookup);
    if (lookupFields.length === 0) return items;
    const rejectedItems = new Set<WriteItem>();
    for (const { field, index } of lookupFields) {
      const wanted = new Set<string>();
      for (const item of items) {
        const value = item.record.values![index];
        if (value !== null) wanted.add(value);
      }
      if (wanted.size === 0) continue;
      const translated = await this.ctx.lookups.translate(field.lookup!, wanted);
      for (const item of items) {
        if (rejectedItems.has(item)) continue;
        const value = item.record.values![index];
        if (value === null) continue;
        const targetValue = translated.get(value);
        if (targetValue === undefined) {
          rejectedItems.add(item);
          const hint = this.ctx.missingParentHint?.(field.lookup!, value);
          this.reject(item.record.key!, `${field.source} = ${value}: no synced ${field.lookup} record with that key (missing parent${hint ? `; ${hint}` : ''})`);
        } else {
          item.record.values![index] = targetValue;
        }
      }
    }
    return items.filter((item) => !rejectedItems.has(item));
  }

  private async assignTargetKeys(items: WriteItem[]): Promise<void> {
    const fresh: WriteItem[] = [];
    for (const item of items) {
      if (item.pair) item.targetKey = this.plan.target.codec.decode(item.pair.targetKey);
      else if (this.plan.target.keyMode === 'mapped') {
        const parts = item.record.values!.slice(0, this.plan.keyFields.length);
        if (parts.some((p) => p === null)) this.reject(item.record.key!, `target key ${this.plan.target.keys.join(', ')} would be null`);
        else item.targetKey = parts as string[];
      } else fresh.push(item);
    }
    const unmatched = this.matching ? await this.linkByMatch(fresh) : fresh;
    const creatable = this.plan.actions.has('createInTarget') ? unmatched : [];
    this.counters.skipped += unmatched.length - creatable.length;
    if (this.ctx.target.capabilities.generatedKeys === 'returned') {
      for (const item of creatable) item.awaitsKey = true;
      return;
    }
    const keys = await this.target.allocateKeys(creatable.length);
    creatable.forEach((item, i) => (item.targetKey = keys[i]));
  }

  /** Links new source rows to existing, unpaired target rows with equal match columns (seed 002, action 1). */
  private async linkByMatch(items: WriteItem[]): Promise<WriteItem[]> {
    const candidates = new Map<string, WriteItem>();
    for (const item of items) {
      const values = item.record.matchValues ?? [];
      if (values.some((v) => v === null)) continue;
      const normalised = values.map((v, i) => normaliseValue(v!, this.plan.match[i].normalize));
      candidates.set(normalised.join('\u0001'), item);
    }
    const found = await this.target.findMatches([...candidates.keys()].map((k) => k.split('\u0001')));
    const encodedTargets = new Map([...found].map(([matchKey, key]) => [matchKey, this.plan.target.codec.encode(key)!]));
    const alreadyPaired = await this.pairs.pairedTargetKeys([...encodedTargets.values()]);
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

  // ---------------------------------------------------------------- vanished rows

  private async handleVanished(gone: StoredPair[]): Promise<void> {
    if (gone.length === 0) return;
    const { tx } = this.ctx;
    const sourceKeys = gone.map((p) => p.sourceKey);
    if (this.plan.actions.has('archiveInTarget') && this.plan.target.archive) {
      await tx.unit(this.ctx.target, () =>
        this.target.setArchived(
          gone.map((p) => this.plan.target.codec.decode(p.targetKey)),
          true,
        ),
      );
      failpoint('vanished:archived');
      this.counters.archived += gone.length;
    } else if (!this.plan.actions.has('deleteInTarget')) {
      this.counters.sourceGone += gone.length;
    }
    await tx.unit(this.ctx.state, () => this.pairs.markSourceGone(sourceKeys));
  }

  /** Deletes target rows whose source vanished; runs after all upserts, children before parents. */
  async deleteVanished(): Promise<EntityResult> {
    if (!this.plan.actions.has('deleteInTarget')) return this.result();
    const started = Date.now();
    const { tx } = this.ctx;
    for await (const batch of inBatches(this.pairs.streamGone(this.ctx.stateStream.client), this.ctx.batchSize)) {
      const failed = new Set<string>();
      const keys = batch.map((row) => this.plan.target.codec.decode(row[1]!));
      const deleted = await tx.unit(this.ctx.target, () =>
        this.target.deleteRows(keys, (key, reason) => {
          const encoded = this.plan.target.codec.encode(key)!;
          failed.add(encoded);
          const sourceKey = batch.find((row) => row[1] === encoded)?.[0] ?? null;
          this.reject(sourceKey, `delete refused: ${reason}`);
        }),
      );
      await tx.unit(this.ctx.state, () => this.pairs.remove(batch.filter((row) => !failed.has(row[1]!)).map((row) => row[0]!)));
      this.counters.deleted += deleted;
    }
    this.counters.durationMs += Date.now() - started;
    this.reportProgress();
    return this.result();
  }

  // ---------------------------------------------------------------- drift

  /**
   * Full mode only: compares every target row's hash with what Ferry last wrote. Rows edited or
   * deleted on the target behind Ferry's back are marked stale, so the source pass rewrites them.
   */
  private async checkTargetDrift(): Promise<void> {
    const targetIter = this.target.streamHashes()[Symbol.asyncIterator]();
    const pairIter = this.pairs.streamByTargetKey(this.ctx.stateStream.client)[Symbol.asyncIterator]();
    const width = this.plan.target.keys.length;
    let stale: string[] = [];
    let drifted = 0;
    let targetRow = await targetIter.next();
    let pairRow = await pairIter.next();
    while (!pairRow.done) {
      const targetKey = targetRow.done ? undefined : this.plan.target.codec.encode(targetRow.value.slice(0, width));
      const order = targetKey === undefined ? 1 : compareKeys(targetKey, pairRow.value[0]!);
      if (order < 0) {
        targetRow = await targetIter.next();
        continue;
      }
      if (order > 0 || targetRow.value![width] !== pairRow.value[2]) {
        stale.push(pairRow.value[1]!);
        drifted++;
      }
      if (order === 0) targetRow = await targetIter.next();
      pairRow = await pairIter.next();
      if (stale.length >= this.ctx.batchSize) {
        const keys = stale;
        await this.ctx.tx.unit(this.ctx.state, () => this.pairs.markStale(keys));
        stale = [];
      }
    }
    // Drain the target stream so its connection is free again.
    while (!targetRow.done) targetRow = await targetIter.next();
    if (stale.length > 0) await this.ctx.tx.unit(this.ctx.state, () => this.pairs.markStale(stale));
    if (drifted > 0) this.notes.push(`${drifted} target rows differed from what Ferry last wrote and are rewritten`);
  }

  // ---------------------------------------------------------------- bookkeeping

  private reject(sourceKey: string | null, reason: string): void {
    this.counters.rejected++;
    if (this.rejected.length < this.ctx.rejectSampleLimit) {
      const key = sourceKey === null ? null : this.plan.source.codec.decode(sourceKey).join(', ');
      this.rejected.push({ entity: this.plan.name, key, reason });
    }
  }

  private reportProgress(): void {
    this.ctx.onProgress?.(this.plan.name, this.counters);
  }
}

function toStoredPair(row: Row): StoredPair {
  return { sourceKey: row[0]!, targetKey: row[1]!, sourceHash: row[2], targetHash: row[3], sourceGone: row[4] === 't' };
}
