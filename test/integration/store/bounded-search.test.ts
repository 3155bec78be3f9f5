/**
 * Search in the data API's long lists (pairs, a run's rejected rows): the state database does the
 * matching, each page reads a bounded window of the list in its index order, and paging through
 * every page finds exactly the rows that contain the text, once each, whatever page they fall on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport } from '../../../src/data-api/report.js';
import { pairs, type ListRequest } from '../../../src/data-api/resources.js';
import { openStateStore, type StateStore } from '../../../src/store/db.js';
import { SEARCH_SCAN_ROWS } from '../../../src/store/bounded-search.js';
import { searchPairs } from '../../../src/store/pair-reads.js';
import { searchRejectedRows } from '../../../src/store/run-reads.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = 'shop/crm';
const ROWS = 12_000;
// Keys k00000..k11999; a few rare ones far apart, past the first scan window.
const RARE = [3, 7_500, 11_998];
const keyOf = (i: number) => `k${String(i).padStart(5, '0')}${RARE.includes(i) ? '-Needle' : ''}`;

let store: StateStore;

beforeAll(async () => {
  store = await openStateStore(await freshDatabase('bounded_search'));
  await store.pool.query(
    `INSERT INTO ferry.pairs (scope, source_key, target_key, category)
     SELECT (SELECT ferry.pair_scope($1, 'people')), k, 't-' || k, 'synchronised' FROM unnest($2::text[]) k`,
    [FLOW, Array.from({ length: ROWS }, (_, i) => keyOf(i))],
  );
  await store.pool.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('run-1', $1, 'Full', 'Succeeded')`, [FLOW]);
  await store.pool.query(
    `INSERT INTO ferry.rejected_rows (run_id, entity, source_key, reason, detail)
     SELECT 'run-1', 'people', k, CASE WHEN k LIKE '%Needle' THEN 'email is not valid' ELSE 'name is empty' END, NULL FROM unnest($1::text[]) k`,
    [Array.from({ length: ROWS }, (_, i) => keyOf(i))],
  );
}, 120_000);

afterAll(async () => {
  await store?.close();
});

describe('bounded search', () => {
  it('a page reads one window: a rare key past it is reached by paging on, and every hit comes exactly once', async () => {
    const seen: string[] = [];
    let after: { flow: string; entity: string; sourceKey: string } | undefined;
    let requests = 0;
    for (;;) {
      const page = await searchPairs(store.pool, { flow: FLOW, entity: 'people', limit: 2, ...(after ? { after } : {}) }, 'needle');
      requests++;
      // The first window holds only the first rare key: it ends the page short, with where to go on.
      if (requests === 1) expect([page.records.map((r) => r.sourceKey), page.scanEnd?.sourceKey]).toEqual([['k00003-Needle'], 'k04999']);
      seen.push(...page.records.map((r) => r.sourceKey));
      const last = page.records[page.records.length - 1];
      // Hits fill the page (continue after the last), or the window ended (continue after it), or the list ended.
      if (page.records.length === 2) after = { flow: last.flow, entity: last.entity, sourceKey: last.sourceKey };
      else if (page.scanEnd) after = page.scanEnd;
      else break;
      expect(requests).toBeLessThan(20);
    }
    expect(seen).toEqual(['k00003-Needle', 'k07500-Needle', 'k11998-Needle']);
    // 12,000 rows in windows of 5,000: at least three reads, never one read of everything.
    expect(requests).toBeGreaterThanOrEqual(Math.ceil(ROWS / SEARCH_SCAN_ROWS));
  });

  it('matches target keys too, case-insensitively, and text with pattern characters literally', async () => {
    const byTarget = await searchPairs(store.pool, { flow: FLOW, entity: 'people', limit: 5 }, 'T-K0001');
    expect(byTarget.records.map((r) => r.sourceKey)).toEqual(['k00010', 'k00011', 'k00012', 'k00013', 'k00014']);
    const literal = await searchPairs(store.pool, { flow: FLOW, entity: 'people', limit: 5 }, 'k0000_');
    expect(literal.records).toEqual([]);
  });

  it("a run's rejected rows are searched by key, reason and entity, across windows", async () => {
    const first = await searchRejectedRows(store.pool, 'run-1', { limit: 10, text: 'not valid' });
    expect(first.rows.map((r) => r.sourceKey)).toEqual(['k00003-Needle']);
    expect(first.scanEndId).toBeDefined();
    const report = await loadReport(store.pool, { name: 'run-1', namespace: 'shop' } as never, { limit: 10, search: 'NOT VALID' });
    expect(report.rejectedRows.map((r) => r.key)).toEqual(['k00003-Needle']);
    // The console pages on with the continue token until the list ends.
    const keys = report.rejectedRows.map((r) => r.key);
    let token = report.continue;
    while (token) {
      const next = await loadReport(store.pool, { name: 'run-1', namespace: 'shop' } as never, { limit: 10, search: 'not valid', afterId: Number(token) });
      keys.push(...next.rejectedRows.map((r) => r.key));
      token = next.continue;
    }
    expect(keys).toEqual(['k00003-Needle', 'k07500-Needle', 'k11998-Needle']);
  });

  it('the pairs resource pages a search with positions it can continue from, and refuses it for unpaired records', async () => {
    const access = { unmasked: async () => false, sensitivity: async () => ({ known: true, fields: new Map(), match: new Map() }) } as unknown as ListRequest['access'];
    const request: ListRequest = { namespace: 'shop', filters: { flow: 'crm', entity: 'people' }, limit: 1, access, search: 'needle' };
    const found: string[] = [];
    let after: unknown;
    for (let i = 0; i < 20; i++) {
      const page = await pairs.list(store.pool, { ...request, ...(after !== undefined ? { after } : {}) });
      found.push(...page.items.map((p) => p.sourceKey));
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(found).toEqual(['k00003-Needle', 'k07500-Needle', 'k11998-Needle']);
    await expect(pairs.list(store.pool, { ...request, filters: { ...request.filters, category: 'new' } })).rejects.toThrow(/not supported for category new/);
  });
});
