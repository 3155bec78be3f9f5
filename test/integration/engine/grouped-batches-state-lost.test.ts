import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInteger } from '../../../src/engine/keys.js';
import { openStateStore } from '../../../src/store/db.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { MINI_SOURCE_SQL, MINI_TARGET_SQL, miniFlowSpec, seedMini } from '../../helpers/mini-flow.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const sql = (url: string, text: string) => withClient(url, async (c) => (await c.query(text)).rows);

/** People pairs at which the state connection writing them is lost (its own backend is terminated). */
const LOST_AT = 1500;
const PEOPLE = 6000;
const BATCH = 50;

function manifests(sourceUrl: string, targetUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-group-lost-'));
  dirs.push(dir);
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec({ batchSize: BATCH }) },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

/**
 * Fresh rows of a first import are written in groups of batches sharing one target transaction,
 * each batch's pairs transaction deferred while the next batch writes (grouped-batches.ts). Here the
 * state connection dies inside one batch's pairs transaction: a statement trigger on ferry.pairs
 * terminates its own backend once LOST_AT people pairs exist, while later batches are writing.
 */
describe('the state connection is lost in the pairs transaction of a grouped batch', () => {
  it('stops writing at the failed group, leaves no target row without its pair, and the next run completes the import', async () => {
    const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('glost_src'), await freshDatabase('glost_dst'), await freshDatabase('glost_state')];
    await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
    await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
    await seedMini(sourceUrl);
    await sql(sourceUrl, `INSERT INTO people SELECT g, 'P' || g, 'p' || g || '@example.org', 'Member', NULL, now() FROM generate_series(100, ${99 + PEOPLE}) g`);
    const store = await openStateStore(stateUrl);
    await store.close();
    await sql(
      stateUrl,
      `CREATE FUNCTION public.lose_connection() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people') >= ${LOST_AT} THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
         RETURN NULL;
       END $$;
       CREATE TRIGGER lose_connection AFTER INSERT ON ferry.pairs FOR EACH STATEMENT EXECUTE FUNCTION public.lose_connection();`,
    );
    // A slow target write: the state connection is lost while a later batch is still writing, the
    // group not yet full (a batch waiting for a full group to commit would see its failure anyway).
    await sql(
      targetUrl,
      `CREATE FUNCTION slow_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$;
       CREATE TRIGGER slow_write AFTER INSERT ON people FOR EACH STATEMENT EXECUTE FUNCTION slow_write();`,
    );
    const dir = manifests(sourceUrl, targetUrl);
    const run = () => spawn(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });

    const child = run();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(1);
    // One line naming the state database: no second statement was queued on a busy connection (pg warns then).
    expect(stderr.trim().split('\n'), stderr).toEqual([expect.stringMatching(/^ferry: .*state database/)]);

    // The pass stopped at the failed group: it did not go on drawing keys (and writing and rolling back)
    // for the rest of the source. A full group and the batches in flight draw ten batches' keys at most.
    const [{ drawn }] = await sql(targetUrl, `SELECT last_value - 4999 AS drawn FROM people_id_seq`);
    expect(Number(drawn)).toBeGreaterThanOrEqual(LOST_AT);
    expect(Number(drawn)).toBeLessThan(LOST_AT + 20 * BATCH);
    // Every row that landed has its pair (pairs commit before the target does).
    const pairs = await sql(stateUrl, `SELECT target_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
    const paired = new Set(pairs.map((p) => String(p.target_key)));
    const landed = await sql(targetUrl, `SELECT id FROM people`);
    expect(landed.length).toBeGreaterThan(0);
    expect(landed.filter((row) => !paired.has(encodeInteger(String(row.id))))).toEqual([]);

    await sql(stateUrl, `DROP TRIGGER lose_connection ON ferry.pairs`);
    await sql(targetUrl, `DROP TRIGGER slow_write ON people`);
    const next = spawnSync(process.execPath, [FERRY, 'run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full'], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, timeout: 120_000 });
    expect(next.status, next.stderr).toBe(0);
    const [{ rows, emails }] = await sql(targetUrl, `SELECT count(*)::int AS rows, count(DISTINCT email)::int AS emails FROM people`);
    expect({ rows, emails }).toEqual({ rows: PEOPLE + 7, emails: PEOPLE + 7 });
    const [{ count }] = await sql(stateUrl, `SELECT count(*)::int AS count FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE entity = 'people'`);
    expect(count).toBe(PEOPLE + 7);
  }, 180_000);
});
