import type { StateClient } from './state-connection.js';

/** One side's intended write: the row's key and values, the hash it will have and the hash it had. */
export interface RedoWrite {
  key: string[];
  values: (string | null)[];
  hash: string;
  previousHash: string | null;
}

/** The tokens of a batch's transactions on each side (capability `transactionOutcome`), when the side gives one. */
export type SideTransactions = { source?: string; target?: string };

export interface RedoItem {
  sourceKey: string;
  source?: RedoWrite;
  target?: RedoWrite;
}

/** The two-way redo log of one flow and entity (ferry.two_way_redo). */
export class RedoLog {
  constructor(
    private readonly client: StateClient,
    readonly flow: string,
    readonly entity: string,
    readonly runId: string,
  ) {}

  async begin(items: RedoItem[], transactions: SideTransactions = {}): Promise<number> {
    const result = await this.client.query(
      `INSERT INTO ferry.two_way_redo (flow, entity, run_id, items, side_transactions) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING id`,
      [this.flow, this.entity, this.runId, JSON.stringify(items), JSON.stringify(transactions)],
    );
    return Number(result.rows[0].id);
  }

  async end(id: number): Promise<void> {
    await this.client.query(`DELETE FROM ferry.two_way_redo WHERE id = $1`, [id]);
  }

  async pending(): Promise<{ id: number; items: RedoItem[]; transactions: SideTransactions }[]> {
    const result = await this.client.query(`SELECT id, items, side_transactions FROM ferry.two_way_redo WHERE flow = $1 AND entity = $2 ORDER BY id`, [
      this.flow,
      this.entity,
    ]);
    return result.rows.map((r) => ({ id: Number(r.id), items: r.items as RedoItem[], transactions: (r.side_transactions ?? {}) as SideTransactions }));
  }
}
