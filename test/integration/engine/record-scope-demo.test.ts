import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, type SyncFlow } from '../../../src/api/index.js';
import { associationExampleDir, createTargetSchema, generateAssociation } from '../../../src/demo/index.js';
import { KeyCodec } from '../../../src/engine/keys.js';
import { type RunRequest } from '../../../src/engine/run.js';
import { runSync } from '../../../src/connectors/run.js';
import { runLocally } from '../../../src/local/local-run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

const logger = createLogger({ level: 'silent', pretty: false });
const codec = new KeyCodec(['integer']);
let base: Omit<RunRequest, 'mode' | 'flowId'>;
let flowYaml: string;

const ids = (url: string, text: string, values: unknown[] = []) =>
  withClient(url, async (c) => (await c.query(text, values)).rows.map((r) => String(Object.values(r)[0])).sort());

/** Source ids with a pair, per entity (single-key entities only). */
async function paired(flowId: string, entity: string): Promise<string[]> {
  const keys = await ids(base.stateUrl, `SELECT source_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = $1 AND entity = $2`, [flowId, entity]);
  return keys.map((k) => codec.decode(k)[0]).sort();
}

async function pairedEntities(flowId: string): Promise<string[]> {
  return ids(base.stateUrl, `SELECT DISTINCT entity FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = $1`, [flowId]);
}

beforeAll(async () => {
  const [sourceUrl, targetUrl, stateUrl] = await Promise.all([freshDatabase('rs_src'), freshDatabase('rs_dst'), freshDatabase('rs_state')]);
  await generateAssociation(sourceUrl, { people: 400 });
  await createTargetSchema(targetUrl);
  flowYaml = readFileSync(join(associationExampleDir(), 'syncflow.yaml'), 'utf8');
  const flow = parseManifests(flowYaml, 'syncflow.yaml').flows[0] as SyncFlow;
  base = { spec: flow.spec, sourceUrl, targetUrl, stateUrl, logger };
});

describe('Record and Scope runs on the association demo', () => {
  it('a person brings their registrations, event balances and invoices (what the seed’s phase one left out)', async () => {
    const flowId = 'demo/person';
    // A person with a registration, an event balance and a person invoice.
    const [person] = await ids(
      base.sourceUrl,
      `SELECT p.id FROM people p WHERE EXISTS (SELECT 1 FROM registrations r WHERE r.person_id = p.id)
         AND EXISTS (SELECT 1 FROM event_balances b WHERE b.person_id = p.id) AND EXISTS (SELECT 1 FROM product_balances pb WHERE pb.person_id = p.id)
       ORDER BY p.id LIMIT 1`,
    );
    const report = await runSync({ ...base, flowId, mode: 'Record', record: { entity: 'people', key: person } });
    expect(report.status).toBe('Succeeded');
    expect(report.totals.rejected).toBe(0);
    const own = (table: string) => ids(base.sourceUrl, `SELECT id FROM ${table} WHERE person_id = $1`, [person]);
    expect(await paired(flowId, 'event_balances')).toEqual(
      await ids(base.sourceUrl, `SELECT id FROM event_balances WHERE person_id = $1 OR registration_id IN (SELECT id FROM registrations WHERE person_id = $1)`, [person]),
    );
    expect(await paired(flowId, 'product_balances')).toEqual(await own('product_balances'));
    // Their registrations, and the registrations their event balances pay for.
    expect(await paired(flowId, 'registrations')).toEqual(
      await ids(base.sourceUrl, `SELECT id FROM registrations WHERE person_id = $1 OR id IN (SELECT registration_id FROM event_balances WHERE person_id = $1)`, [person]),
    );
    for (const table of ['dues_balances', 'chapter_balances', 'email_preferences', 'subscriptions']) expect(await paired(flowId, table), table).toEqual(await own(table));
    // Only the referenced lookup rows, not whole lookup tables.
    expect((await paired(flowId, 'genders')).length).toBeLessThanOrEqual(1);
    expect((await paired(flowId, 'cities')).length).toBeLessThan(Number((await ids(base.sourceUrl, 'SELECT count(*) FROM cities'))[0]));
    // Nothing of events' own related data comes with a person.
    expect(await pairedEntities(flowId)).not.toContain('event_sessions');
    expect(report.watermarksAfter).toEqual({});
  });

  it('a firm brings its employees with their related rows, and its firm-only invoices', async () => {
    const flowId = 'demo/firm';
    const [firm] = await ids(
      base.sourceUrl,
      `SELECT f.id FROM firms f WHERE EXISTS (SELECT 1 FROM product_balances pb WHERE pb.firm_id = f.id AND pb.person_id IS NULL)
         AND EXISTS (SELECT 1 FROM people p JOIN event_balances b ON b.person_id = p.id WHERE p.firm_id = f.id) ORDER BY f.id LIMIT 1`,
    );
    const report = await runSync({ ...base, flowId, mode: 'Record', record: { entity: 'firms', key: firm } });
    expect(report.status).toBe('Succeeded');
    const employees = await ids(base.sourceUrl, `SELECT id FROM people WHERE firm_id = $1`, [firm]);
    const people = await paired(flowId, 'people');
    expect(people).toEqual(expect.arrayContaining(employees));
    const firmOnly = await ids(base.sourceUrl, `SELECT id FROM product_balances WHERE firm_id = $1 AND person_id IS NULL`, [firm]);
    expect(firmOnly.length).toBeGreaterThan(0);
    expect(await paired(flowId, 'product_balances')).toEqual(expect.arrayContaining(firmOnly));
    const employeeBalances = await ids(base.sourceUrl, `SELECT b.id FROM event_balances b JOIN people p ON p.id = b.person_id WHERE p.firm_id = $1`, [firm]);
    expect(await paired(flowId, 'event_balances')).toEqual(expect.arrayContaining(employeeBalances));
  });

  it('the events scope syncs events and their related data without registrations', async () => {
    const flowId = 'demo/events';
    const report = await runSync({ ...base, flowId, mode: 'Scope', scope: 'events', scopeMode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(report.entities.map((e) => e.name).sort()).toEqual(
      [
        'companies', 'curriculum_types', 'divisions', 'event_areas', 'event_credits', 'event_ematerials', 'event_fees', 'event_leaders',
        'event_levels', 'event_options', 'event_sessions', 'event_statuses', 'events', 'related_events', 'tax_rules', 'vendors',
      ].sort(),
    );
    expect(await pairedEntities(flowId)).not.toContain('registrations');
    expect(await pairedEntities(flowId)).not.toContain('people');
    // Event leaders are people, outside the scope and not synced in this flow yet: rejected with the reason.
    const leaders = report.entities.find((e) => e.name === 'event_leaders')!;
    expect(leaders.rejected).toBeGreaterThan(0);
    expect(report.rejectedSamples.find((r) => r.entity === 'event_leaders')?.reason).toContain('people is outside scope "events"');
  });

  it('ferry run takes --record and --scope (through the same local runner as the CLI)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-record-'));
    writeFileSync(join(dir, 'syncflow.yaml'), flowYaml);
    const secret = (name: string, url: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\nstringData: {url: "${url}"}\n`;
    writeFileSync(join(dir, 'secrets.yaml'), `${secret('association-db', base.sourceUrl)}---\n${secret('website-db', base.targetUrl)}`);
    const [event] = await ids(base.sourceUrl, `SELECT min(event_id) FROM related_events`);
    const [report] = await runLocally({ files: [dir], flow: 'association', mode: 'Record', record: `events/${event}`, stateDb: base.stateUrl, logger });
    expect(report.subject).toBe(`events/${event}`);
    expect(report.entities.map((e) => e.name)).toContain('related_events');
    await expect(runLocally({ files: [dir], flow: 'association', mode: 'Full', record: 'people/1', stateDb: base.stateUrl, logger })).rejects.toThrow(
      '--record is only used with --mode Record, not Full',
    );
    await expect(runLocally({ files: [dir], flow: 'association', record: 'people', stateDb: base.stateUrl, logger })).rejects.toThrow(
      '--record takes ENTITY/KEY, e.g. people/42, got "people"',
    );
    const [scoped] = await runLocally({ files: [dir], flow: 'association', scope: 'events', stateDb: base.stateUrl, logger });
    expect(scoped.subject).toBe('events (Incremental)');
  });
});
