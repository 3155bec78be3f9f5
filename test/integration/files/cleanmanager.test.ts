import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAIR_CATEGORIES } from '../../../src/api/syncflow.js';
import { flowCategories } from '../../../src/cli/unpaired.js';
import { categoryLines } from '../../../src/engine/report.js';
import { runLocally } from '../../../src/local/local-run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { ferry } from '../../helpers/ferry-process.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, inbox } from './files-source.js';

const logger = pino({ level: 'silent' });

/** CleanManager (seed 003): its employees table; Ben was entered by hand before the import was set up. */
const CLEANMANAGER_SQL = `
CREATE TABLE employees (id serial PRIMARY KEY, personnel_no text UNIQUE, first_name text, last_name text, team text, archived boolean NOT NULL DEFAULT false);
INSERT INTO employees (personnel_no, first_name, last_name, team) VALUES ('P-002', 'Ben', 'Berg', 'North'), (NULL, 'Hand', 'Made', 'Office');
`;

const payroll = (...rows: string[]) => Buffer.from(['personnel_no;first_name;last_name;team', ...rows].join('\r\n'));

const FLOW = (dir: string) => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncFlow',
  metadata: { name: 'payroll-employees' },
  spec: {
    direction: 'OneWay',
    source: { files: { directory: dir, settleSeconds: 0, afterImport: 'Move' } },
    target: { postgres: { secretRef: { name: 'cleanmanager' } } },
    entities: [
      {
        name: 'employees',
        source: { table: 'employees', keys: ['personnel_no'], file: { pattern: 'employees-*.csv', contents: 'Snapshot', orderCapture: '-(\\d{8})\\.csv', csv: { delimiter: ';' } } },
        target: { table: 'employees', keys: ['id'], archive: { column: 'archived' } },
        fields: ['personnel_no', 'first_name', 'last_name', 'team'].map((c) => ({ source: c, target: c })),
        match: [{ source: 'personnel_no', target: 'personnel_no' }],
        // A person gone from the payroll file is archived in CleanManager (kept for the cleaning history).
        actions: ['link', 'createInTarget', 'updateTarget', 'archiveInTarget'],
      },
    ],
  },
});

/**
 * Seed 003's CleanManager: employees arrive as a daily snapshot file from the payroll system and are
 * synced into CleanManager's database through `ferry run` (the CLI's runner); each day the pair
 * categories are counted the same in the run report, in `ferry pairs` and from the state database.
 */
describe('CleanManager: the payroll system’s daily employee snapshot, pair categories counted', () => {
  let dir: string;
  let manifests: string;
  let targetUrl: string;
  let stateUrl: string;

  beforeAll(async () => {
    [dir, manifests, targetUrl, stateUrl] = await Promise.all([inbox(), mkdtemp(join(tmpdir(), 'ferry-cleanmanager-')), freshDatabase('cm_dst'), freshDatabase('cm_state')]);
    await withClient(targetUrl, (c) => c.query(CLEANMANAGER_SQL));
    await writeFile(join(manifests, 'flow.yaml'), JSON.stringify(FLOW(dir)));
    await writeFile(join(manifests, 'secret.yaml'), JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cleanmanager' }, stringData: { url: targetUrl } }));
  }, 60_000);

  const day = async () => (await runLocally({ files: [manifests], flow: 'payroll-employees', mode: 'Full', stateDb: stateUrl, logger }))[0]!;
  const employees = () => sqlRows(targetUrl, `SELECT personnel_no, first_name, team, archived FROM employees ORDER BY coalesce(personnel_no, 'zz')`);
  /** Every category, zeros included, as the state database holds them (what `ferry pairs` and SyncFlow.status show). */
  const counted = async () => {
    const categories = (await flowCategories(stateUrl, 'default/payroll-employees')).employees ?? {};
    return Object.fromEntries(PAIR_CATEGORIES.map((c) => [c, categories[c] ?? 0]));
  };
  const none = Object.fromEntries(PAIR_CATEGORIES.map((c) => [c, 0]));

  it('day 1: new people created, Ben linked by personnel number; day 2: Ben left the file and is shown deleted; day 3: he is back', async () => {
    await drop(dir, 'employees-20261101.csv', payroll('P-001;Ann;Smith;North', 'P-002;Ben;Berg;North', 'P-003;Cia;Lund;South', 'P-004;Dag;Ek;South'));
    const first = await day();
    expect(first.totals).toMatchObject({ read: 4, created: 3, rejected: 0 });
    expect(first.entities[0]!.linked).toBe(1);
    expect(await counted()).toEqual({ ...none, synchronised: 4 });
    expect(first.entities[0]!.categories).toMatchObject({ synchronised: 4 });

    // Day 2: Ben is no longer on the payroll, Cia moved to North.
    await drop(dir, 'employees-20261102.csv', payroll('P-001;Ann;Smith;North', 'P-003;Cia;Lund;North', 'P-004;Dag;Ek;South'));
    const second = await day();
    expect(second.totals).toMatchObject({ read: 3, updated: 1, rejected: 0 });
    expect(second.entities[0]!.archived).toBe(1);
    expect(await counted()).toEqual({ ...none, synchronised: 3, deleted: 1 });
    expect(second.entities[0]!.categories).toMatchObject({ synchronised: 3, deleted: 1 });
    expect(categoryLines(second)).toEqual(['pairs employees: 1 deleted · 3 synchronised']);
    expect(await employees()).toEqual([
      { personnel_no: 'P-001', first_name: 'Ann', team: 'North', archived: false },
      { personnel_no: 'P-002', first_name: 'Ben', team: 'North', archived: true },
      { personnel_no: 'P-003', first_name: 'Cia', team: 'North', archived: false },
      { personnel_no: 'P-004', first_name: 'Dag', team: 'South', archived: false },
      // Entered by hand, never on the payroll: Ferry leaves it alone.
      { personnel_no: null, first_name: 'Hand', team: 'Office', archived: false },
    ]);

    // `ferry pairs` (the real CLI) lists Ben as deleted and ends with every category's count.
    const pairs = await ferry(['pairs', '-f', manifests, '--flow', 'payroll-employees', '--state-db', stateUrl, '--category', 'deleted']);
    expect(pairs.code, pairs.stderr).toBe(0);
    expect(pairs.stdout).toMatch(/employees\s*│\s*P-002\s*│\s*\d+\s*│\s*deleted/);
    expect(pairs.stdout).toContain(`employees: ${PAIR_CATEGORIES.map((c) => `${(second.entities[0]!.categories as Record<string, number>)[c] ?? 0} ${c}`).join(' · ')}`);

    // Day 3: Ben is rehired; his CleanManager record comes back rather than a second one.
    await drop(dir, 'employees-20261103.csv', payroll('P-001;Ann;Smith;North', 'P-002;Ben;Berg;West', 'P-003;Cia;Lund;North', 'P-004;Dag;Ek;South'));
    const third = await day();
    expect(third.totals.rejected).toBe(0);
    expect(await counted()).toEqual({ ...none, synchronised: 4 });
    expect((await employees()).filter((e) => e.personnel_no === 'P-002')).toEqual([{ personnel_no: 'P-002', first_name: 'Ben', team: 'West', archived: false }]);
  }, 180_000);
});
