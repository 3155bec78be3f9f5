import type { RedoLog } from '../../store/redo-log.js';
import type { StateConnection } from '../../store/state-connection.js';
import type { Transactions } from '../transactions.js';
import { drawsKeys, type Session, type TableWriter } from '../connector.js';
import { TransactionOutcomes } from '../transaction-outcomes.js';
import type { Side } from './side.js';
import type { TwoWayPairs } from '../../store/two-way-pairs.js';
import type { SideName } from './types.js';

export interface RecoveryTools {
  tx: Transactions;
  redo: RedoLog;
  pairs: TwoWayPairs;
  sides: Record<SideName, Side>;
  tables: Partial<Record<SideName, TableWriter>>;
  clients: Record<SideName, Session>;
  state: StateConnection;
}

/**
 * Finishes batches a killed run left half-written. Per intended write: already landed -> nothing;
 * the row is still as it was (or missing, for a create) -> the write is replayed; the row was
 * changed by someone since -> that side's pair hash goes back to what it was, so the next pass
 * sees the change (and the conflict policy decides) instead of Ferry overwriting it.
 *
 * A create that never landed under a key drawn from its side (`generatedKeys: 'drawn'`, a PostgreSQL
 * sequence) is not replayed: its record loses the new pair and is created anew by the pass, under a
 * key drawn now. A server killed before that side's commit can hand the drawn key out again after its
 * restart (the draw was not durable yet), so a row replayed under it would take the key of a row
 * about to be created (see recover-batches.ts for one-way flows).
 *
 * Such a key may also have been taken by another writer (an application) before this run, so a row
 * is found under it that is not Ferry's. The entry names each side's transaction where the side can
 * be asked about it later (capability `transactionOutcome`): when that transaction aborted, none of
 * its creates landed, whatever sits under their keys now, so they are made anew as above and the
 * rows found are left alone. When it committed, or the side no longer knows, the rows are compared.
 * (Sound after a crash of Ferry, a lost connection or a sequence set back by hand; after a server
 * crash that lost WAL, a transaction id may be handed out again: no worse than the comparison.)
 */
export async function replayRedo(tools: RecoveryTools): Promise<{ replayed: number; createdAnew: number }> {
  let replayed = 0;
  let createdAnew = 0;
  const outcomes = {
    source: new TransactionOutcomes(tools.clients.source, 'the source'),
    target: new TransactionOutcomes(tools.clients.target, 'the target'),
  };
  for (const batch of await tools.redo.pending()) {
    const reverted: { sourceKey: string; side: SideName; hash: string | null }[] = [];
    const unlanded: string[] = [];
    for (const side of ['target', 'source'] as SideName[]) {
      const writes = batch.items.filter((i) => i[side]).map((i) => ({ sourceKey: i.sourceKey, write: i[side]! }));
      if (writes.length === 0) continue;
      const current = await tools.sides[side].rowsByKeys(
        tools.clients[side],
        writes.map((w) => tools.sides[side].codec.encode(w.write.key)!),
      );
      const drawn = drawsKeys(tools.sides[side].writer.target.keyMode, tools.clients[side].capabilities);
      const aborted = drawn && (await outcomes[side].of(batch.transactions[side])) === 'aborted';
      const replay = writes.filter((w) => {
        const now = current.get(tools.sides[side].codec.encode(w.write.key)!);
        if (aborted && w.write.previousHash === null) {
          unlanded.push(w.sourceKey);
          return false;
        }
        if (now?.hash === w.write.hash) return false;
        if (!now && drawn && w.write.previousHash === null) {
          unlanded.push(w.sourceKey);
          return false;
        }
        if (!now || now.hash === w.write.previousHash) return true;
        reverted.push({ sourceKey: w.sourceKey, side, hash: w.write.previousHash });
        return false;
      });
      if (replay.length === 0) continue;
      const table = tools.tables[side];
      if (!table) throw new Error(`the ${side} is read-only, yet the redo log holds writes to it`);
      await tools.tx.unit(tools.clients[side], async () => {
        const rejections: { seq: number; reason: string }[] = [];
        await table.stageRows(replay.map((w, seq) => ({ seq, key: w.write.key, values: w.write.values })), rejections);
        await table.write(
          replay.map((_, seq) => seq).filter((seq) => !rejections.some((r) => r.seq === seq)),
          rejections,
          'upsert',
        );
      });
      replayed += replay.length;
    }
    await tools.tx.unit(tools.state, async () => {
      await revertHashes(tools, reverted);
      await tools.pairs.remove(unlanded);
      await tools.redo.end(batch.id);
    });
    createdAnew += unlanded.length;
  }
  return { replayed, createdAnew };
}

async function revertHashes(tools: RecoveryTools, reverted: { sourceKey: string; side: SideName; hash: string | null }[]): Promise<void> {
  if (reverted.length === 0) return;
  const pairs = await tools.pairs.bySourceKeys(reverted.map((r) => r.sourceKey));
  for (const r of reverted) {
    const pair = pairs.get(r.sourceKey);
    if (pair && r.side === 'source') pair.sourceHash = r.hash;
    if (pair && r.side === 'target') pair.targetHash = r.hash;
  }
  await tools.pairs.save([...pairs.values()]);
}
