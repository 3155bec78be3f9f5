import { readFileSync } from 'node:fs';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, type SyncFlow } from '../../../src/api/index.js';
import { associationExampleDir, applyDemoChanges, createTargetSchema, generateAssociation } from '../../../src/demo/index.js';
import { readTable } from '../../../src/connectors/postgres/catalog.js';
import { planFlow, type EntityPlan } from '../../../src/engine/plan.js';
import { type RunRequest } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

const logger = createLogger({ level: 'silent', pretty: false });
let base: Omit<RunRequest, 'mode'>;
let plans: EntityPlan[];

async function rows(url: string, text: string): Promise<string[][]> {
  return withClient(url, async (c) => (await c.query({ text, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })).rows);
}

/** Source key -> target key for one entity, from the state DB. */
async function pairMap(entity: string): Promise<Map<string, string>> {
  const found = await rows(base.stateUrl, `SELECT source_key, target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = '${entity}'`);
  return new Map(found.map(([s, t]) => [s, t]));
}

beforeAll(async () => {
  const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('assoc_src'), await freshDatabase('assoc_dst'), await freshDatabase('assoc_state')];
  await generateAssociation(sourceUrl, { people: 400 });
  await createTargetSchema(targetUrl);
  const flow = parseManifests(readFileSync(join(associationExampleDir(), 'syncflow.yaml'), 'utf8'), 'syncflow.yaml').flows[0] as SyncFlow;
  base = { flowId: 'test/association', spec: flow.spec, sourceUrl, targetUrl, stateUrl, logger };
  const source = new pg.Client(sourceUrl);
  const target = new pg.Client(targetUrl);
  await source.connect();
  await target.connect();
  const tables = new Map<string, Awaited<ReturnType<typeof readTable>>>();
  for (const e of flow.spec.entities) {
    tables.set(`source:${e.source.table}`, await readTable(source, 'public', e.source.table));
    tables.set(`target:${e.target.table}`, await readTable(target, 'public', e.target.table));
  }
  await source.end();
  await target.end();
  plans = planFlow(withFlowDefaults(flow.spec), (side, table) => tables.get(`${side}:${table}`)).entities;
});

describe('the association demo flow', () => {
  it('Full sync: every source row arrives and every foreign key points at the target’s own id of the right parent', async () => {
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(report.totals.rejected).toBe(0);
    expect(report.entities).toHaveLength(plans.length);

    for (const plan of plans) {
      const sourceCount = (await rows(base.sourceUrl, `SELECT count(*) FROM "${plan.source.table}"`))[0][0];
      const targetCount = (await rows(base.targetUrl, `SELECT count(*) FROM "${plan.target.table}"`))[0][0];
      expect(targetCount, plan.name).toBe(sourceCount);
      const pairs = await pairMap(plan.name);
      expect(pairs.size, plan.name).toBe(Number(sourceCount));

      const lookups = plan.fields.filter((f) => f.lookup);
      if (lookups.length === 0) continue;
      const parentPairs = new Map(await Promise.all(lookups.map(async (f) => [f.lookup!, await pairMap(f.lookup!)] as const)));
      const targetRows = new Map(
        (await rows(base.targetUrl, `SELECT ${plan.target.keys.map((k) => `"${k}"`).join(', ')}, ${lookups.map((f) => `"${f.target}"`).join(', ')} FROM "${plan.target.table}"`)).map(
          (r) => [plan.target.codec.encode(r.slice(0, plan.target.keys.length))!, r.slice(plan.target.keys.length)],
        ),
      );
      const sourceRows = await rows(base.sourceUrl, `SELECT ${plan.source.keys.map((k) => `"${k}"`).join(', ')}, ${lookups.map((f) => `"${f.source}"`).join(', ')} FROM "${plan.source.table}"`);
      for (const r of sourceRows) {
        const targetKey = pairs.get(plan.source.codec.encode(r.slice(0, plan.source.keys.length))!)!;
        const stored = targetRows.get(targetKey)!;
        lookups.forEach((field, i) => {
          const sourceFk = r[plan.source.keys.length + i];
          const parent = plans.find((p) => p.name === field.lookup)!;
          const expected = sourceFk === null ? null : parent.target.codec.decode(parentPairs.get(field.lookup!)!.get(parent.source.codec.encode([sourceFk])!)!)[0];
          expect(stored[i], `${plan.name}.${field.target} for source ${r.join('/')}`).toBe(expected);
          if (sourceFk !== null) expect(stored[i]).not.toBe(sourceFk); // the website's ids never equal the association's
        });
      }
    }
  });

  it('a second Full sync writes nothing; an Incremental sync after changes writes exactly the changed rows', async () => {
    const second = await runSync({ ...base, mode: 'Full' });
    expect(second.totals.created + second.totals.updated + second.totals.deleted + second.totals.archived).toBe(0);

    const changes = await applyDemoChanges(base.sourceUrl, { updates: 30, inserts: 8, deletes: 0 });
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.totals.rejected).toBe(0);
    for (const [table, change] of Object.entries(changes.tables)) {
      const entity = incremental.entities.find((e) => plans.find((p) => p.name === e.name)?.source.table === table);
      if (!entity) continue;
      expect(entity.created, table).toBe(change.inserted);
      expect(entity.updated, table).toBe(change.updated);
    }
    const after = await runSync({ ...base, mode: 'Full' });
    expect(after.totals.created + after.totals.updated).toBe(0);
  });
});
