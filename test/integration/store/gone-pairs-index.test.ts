import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PairStore } from '../../../src/store/pairs.js';
import { freshStateClients } from '../../helpers/state-client.js';

/**
 * A Full run's deletions read the flow entity's gone pairs (source_gone_at set) in source-key order.
 * With a million pairs and a few thousand gone, a scan of every pair took ~0.2 s of each such run;
 * the partial index pairs_gone_idx (migration 0021) holds only the gone ones. Checked on the plan of
 * the very statement PairStore.streamGone sends, and on what it returns.
 */
const PAIRS = 40_000;
const GONE_EVERY = 400;

const key = (i: number) => `E${String(i).padStart(9, '0')}`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/** The query of each `COPY (query) TO STDOUT` sent through `client` while `run` goes on. */
async function copiedQueries(client: pg.PoolClient, run: () => Promise<void>): Promise<string[]> {
  const queries: string[] = [];
  const query = client.query;
  const spy = function (this: pg.PoolClient, ...args: unknown[]) {
    const submitted = args[0] as { text?: unknown };
    if (submitted instanceof Object && typeof submitted.text === 'string') {
      const copy = /^COPY \((.*)\) TO STDOUT$/s.exec(submitted.text);
      if (copy) queries.push(copy[1]!);
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  };
  client.query = spy as typeof client.query;
  try {
    await run();
  } finally {
    client.query = query;
  }
  return queries;
}

describe('gone pairs', () => {
  const stateClient = freshStateClients();

  it('are read through their partial index, in source-key order, without a scan of every pair', async () => {
    const client = await stateClient('gone_pairs_index');
    const pairs = new PairStore(client, 'hr/payroll', 'employees');
    // Inserted in reverse, so that key order is not the table's order.
    await pairs.insertNew(Array.from({ length: PAIRS }, (_, n) => PAIRS - 1 - n).map((i) => ({ sourceKey: key(i), targetKey: `t${i}`, sourceHash: 'h', targetHash: 't', sourceCursor: null })));
    const gone = Array.from({ length: PAIRS / GONE_EVERY }, (_, n) => key(n * GONE_EVERY + 7));
    await pairs.markSourceGone([...gone].reverse());
    await client.query('ANALYZE ferry.pairs');

    const read: string[][] = [];
    const [sql, ...more] = await copiedQueries(client, async () => {
      for await (const row of pairs.streamGone(client)) read.push(row as string[]);
    });
    expect(more).toEqual([]);
    expect(read).toEqual(gone.map((k) => [k, `t${Number(k.slice(1))}`]));

    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`);
    const scans = nodes(rows[0]['QUERY PLAN'][0].Plan as PlanNode).filter((node) => node['Relation Name'] === 'pairs');
    expect(scans.map((node) => [node['Node Type'], node['Index Name']])).toEqual([['Index Scan', 'pairs_gone_idx']]);
  });
});
