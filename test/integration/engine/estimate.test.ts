import { describe, expect, it } from 'vitest';
import { countPendingRows } from '../../../src/connectors/postgres/pending-rows.js';
import { estimateRun } from '../../../src/engine/estimate.js';
import { openStateStore } from '../../../src/store/db.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { miniDatabases, miniFlowSpec, seedMini } from '../../helpers/mini-flow.js';

const FLOW = 'ns/crm';
// The "true" cost of a row per entity, and how far each past run strayed from it (noisy machines).
const MS_PER_ROW = { people: 2, firms: 0.5 };
const NOISE = [1.8, 0.6, 1.25, 0.8, 1.1, 0.9, 1.15, 0.85, 1.05, 0.95];
const NEXT_RUN_ROWS = { people: 10_000, firms: 2_000 };
const NEXT_RUN_SECONDS = (10_000 * 2 + 2_000 * 0.5) / 1000;

async function recordRun(stateUrl: string, index: number, mode: string, noise: number, rows = NEXT_RUN_ROWS): Promise<void> {
  await withClient(stateUrl, async (c) => {
    const id = `run-${mode}-${index}`;
    const durations = Object.fromEntries(Object.entries(rows).map(([e, n]) => [e, Math.round(n * MS_PER_ROW[e as keyof typeof MS_PER_ROW] * noise)]));
    const total = Object.values(durations).reduce((a, b) => a + b, 0);
    const started = new Date(Date.UTC(2026, 0, 1) + index * 3600_000);
    await c.query(
      `INSERT INTO ferry.runs (id, flow, mode, status, started_at, completed_at) VALUES ($1, $2, $3, 'Succeeded', $4, $5)`,
      [id, FLOW, mode, started, new Date(started.getTime() + total)],
    );
    for (const [position, [entity, n]] of Object.entries(rows).entries()) {
      await c.query(`INSERT INTO ferry.run_entities (run_id, entity, position, read, duration_ms) VALUES ($1, $2, $3, $4, $5)`, [id, entity, position, n, durations[entity]]);
    }
  });
}

describe('run estimates', () => {
  it('has no estimate without history, then improves as runs accumulate', async () => {
    const stateUrl = await freshDatabase('estimate');
    await (await openStateStore(stateUrl)).close();
    const estimate = () => withClient(stateUrl, (c) => estimateRun(c, { flowId: FLOW, mode: 'Incremental', pendingRows: NEXT_RUN_ROWS }));
    expect(await estimate()).toBeUndefined();

    const errors: number[] = [];
    for (const [i, noise] of NOISE.entries()) {
      await recordRun(stateUrl, i, 'Incremental', noise);
      const e = (await estimate())!;
      expect(e.samples).toBe(i + 1);
      errors.push(Math.abs(e.seconds - NEXT_RUN_SECONDS) / NEXT_RUN_SECONDS);
    }
    // One (unlucky, 1.8x slow) run gives a poor guess; ten pooled runs land within 10%.
    expect(errors[0]).toBeGreaterThan(0.5);
    expect(errors[9]).toBeLessThan(0.1);
    expect(errors[9]).toBeLessThan(errors[4]);
    expect(errors[4]).toBeLessThan(errors[0]);
    const last = (await estimate())!;
    expect(last.basis).toContain('last 10 Incremental runs');
    expect(last.basis).toContain('12000 rows pending past the watermarks');
  });

  it('scales with the pending changes and borrows throughput from other modes', async () => {
    const stateUrl = await freshDatabase('estimate');
    await (await openStateStore(stateUrl)).close();
    for (let i = 0; i < 3; i++) await recordRun(stateUrl, i, 'Full', 1);
    const full = (await withClient(stateUrl, (c) => estimateRun(c, { flowId: FLOW, mode: 'Full' })))!;
    expect(full.seconds).toBe(NEXT_RUN_SECONDS);
    expect(full.basis).toContain('as recent runs read');
    const small = (await withClient(stateUrl, (c) => estimateRun(c, { flowId: FLOW, mode: 'Incremental', pendingRows: { people: 1000, firms: 0 } })))!;
    expect(small.seconds).toBe(2);
    expect(small.basis).toContain('no Incremental run yet');
  });

  it('counts rows past the committed watermark', async () => {
    const { sourceUrl, stateUrl } = await miniDatabases();
    await seedMini(sourceUrl);
    await (await openStateStore(stateUrl)).close();
    const spec = miniFlowSpec();
    const count = () => withClient(sourceUrl, (source) => withClient(stateUrl, (state) => countPendingRows(source, state, FLOW, spec)));
    const all = await count();
    const totals = await withClient(sourceUrl, async (c) => {
      const r = await c.query(`SELECT (SELECT count(*) FROM firms)::int AS firms, (SELECT count(*) FROM people)::int AS people, (SELECT count(*) FROM interests)::int AS interests`);
      return r.rows[0];
    });
    expect(all).toEqual(totals);
    // A watermark at the newest person leaves nothing pending; one person changed afterwards counts as 1.
    await withClient(sourceUrl, async (source) => {
      const newest = await source.query(`SELECT updated_at::text AS cursor, id::text AS id FROM people ORDER BY updated_at DESC, id DESC LIMIT 1`);
      await withClient(stateUrl, (state) =>
        state.query(`INSERT INTO ferry.watermarks (flow, entity, cursor, key, run_id) VALUES ($1, 'people', $2, $3::jsonb, 'r1')`, [FLOW, newest.rows[0].cursor, JSON.stringify([newest.rows[0].id])]),
      );
    });
    expect((await count()).people).toBe(0);
    await withClient(sourceUrl, (c) => c.query(`UPDATE people SET updated_at = now() WHERE id = (SELECT min(id) FROM people)`));
    expect((await count()).people).toBe(1);
  });
});
