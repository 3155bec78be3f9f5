import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIDE_ORDER_BOUNDS } from '../../../src/engine/key-join.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { DECRYPTION, drop, encryptFor, filesFlowSpec, inbox, pgpKeys, runFilesFlow, TARGET_SQL, win1252Gzip, type PgpKeys } from './files-source.js';


// Enough rows for several of the reader's chunks (a chunk per piece of the file, of 2000 rows or more).
const ROWS = 12_000;
const HEADER = 'no;name;note;salary;born';
const line = (no: number, salary: number) => `${no};Person ${no};${'n'.repeat(40)};${salary},00;01.02.1980`;

/** Day 1: every employee; day 2 (in reverse order): one in a hundred paid more, one in a hundred gone, 120 new, a row without a key. */
const day1 = () => Array.from({ length: ROWS }, (_, i) => i + 1).map((no) => ({ no, salary: 1000 + no }));
const day2 = () => [
  ...day1()
    .filter(({ no }) => no % 100 !== 7)
    .map(({ no, salary }) => ({ no, salary: no % 100 === 3 ? salary + 1 : salary }))
    .reverse(),
  ...Array.from({ length: 120 }, (_, i) => ({ no: ROWS + 1 + i, salary: 500 })),
];
const fileOf = (rows: { no: number; salary: number }[], extra: string[] = []) => [HEADER, ...rows.map(({ no, salary }) => line(no, salary)), ...extra].join('\r\n');

for (const [pairsInMemory, how] of [
  [SIDE_ORDER_BOUNDS.pairsInMemory, 'its pairs in memory'],
  [1_000, 'its pairs looked up in the state database, more than the memory bound'],
] as const) {
  describe(`files source: a day-2 snapshot joined with its pairs a chunk at a time, ${how}`, () => {
    let keys: PgpKeys;
    let dir: string;
    let targetUrl: string;
    let stateUrl: string;
    const bound = SIDE_ORDER_BOUNDS.pairsInMemory;

    const run = () =>
      runFilesFlow({
        flowId: 'test/payroll',
        spec: { ...filesFlowSpec({ directory: dir, decryption: DECRYPTION, settleSeconds: 0 }), batchSize: 500 },
        mode: 'Full',
        targetUrl,
        stateUrl,
        keys,
      });

    beforeAll(async () => {
      SIDE_ORDER_BOUNDS.pairsInMemory = pairsInMemory;
      keys = await pgpKeys();
      dir = await inbox();
      [targetUrl, stateUrl] = await Promise.all([freshDatabase('day2_dst'), freshDatabase('day2_state')]);
      await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    }, 60_000);
    afterAll(() => {
      SIDE_ORDER_BOUNDS.pairsInMemory = bound;
    });

    it('creates the new rows, updates the changed, deletes the removed, leaves the rest and rejects the row without a key', async () => {
      await drop(dir, 'employees-20261101.csv.gz.pgp', await encryptFor(keys, win1252Gzip(fileOf(day1()))));
      expect((await run()).entities[0]!.created).toBe(ROWS);

      await drop(dir, 'employees-20261102.csv.gz.pgp', await encryptFor(keys, win1252Gzip(fileOf(day2(), [';No Key;x;1;01.01.2000']))));
      const { created, updated, deleted, unchanged, rejected } = (await run()).entities[0]!;
      expect({ created, updated, deleted, unchanged, rejected }).toEqual({ created: 120, updated: 120, deleted: 120, unchanged: ROWS - 240, rejected: 1 });
      const staff = await sqlRows(targetUrl, 'SELECT employee_no, salary::text FROM staff ORDER BY employee_no::int');
      const expected = day2()
        .sort((a, b) => a.no - b.no)
        .map(({ no, salary }) => ({ employee_no: String(no), salary: `${salary}.00` }));
      expect(staff).toEqual(expected);
    }, 180_000);
  });
}

describe('files source: snapshot rows archived when they vanish come back the next day (pairs looked up in the state database)', () => {
  let keys: PgpKeys;
  let dir: string;
  let targetUrl: string;
  let stateUrl: string;
  const bound = SIDE_ORDER_BOUNDS.pairsInMemory;
  const spec = () => {
    const flow = { ...filesFlowSpec({ directory: dir, decryption: DECRYPTION, settleSeconds: 0 }), batchSize: 500 };
    flow.entities = flow.entities.map((entity) => ({ ...entity, actions: ['link', 'createInTarget', 'updateTarget', 'archiveInTarget'] }));
    return flow;
  };
  const run = () => runFilesFlow({ flowId: 'test/payroll-archive', spec: spec(), mode: 'Full', targetUrl, stateUrl, keys });
  const archived = async () => (await sqlRows(targetUrl, 'SELECT count(*)::int AS n FROM staff WHERE archived'))[0]!.n;

  beforeAll(async () => {
    SIDE_ORDER_BOUNDS.pairsInMemory = 1_000;
    keys = await pgpKeys();
    dir = await inbox();
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('day3_dst'), freshDatabase('day3_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);
  afterAll(() => {
    SIDE_ORDER_BOUNDS.pairsInMemory = bound;
  });

  it('archives the vanished rows, then restores those that reappear unchanged, and leaves the rest', async () => {
    await drop(dir, 'employees-20261101.csv.gz.pgp', await encryptFor(keys, win1252Gzip(fileOf(day1()))));
    expect((await run()).entities[0]!.created).toBe(ROWS);
    const gone = day1().filter(({ no }) => no % 100 === 7);
    await drop(dir, 'employees-20261102.csv.gz.pgp', await encryptFor(keys, win1252Gzip(fileOf(day1().filter(({ no }) => no % 100 !== 7)))));
    expect((await run()).entities[0]!).toMatchObject({ archived: gone.length, updated: 0, unchanged: ROWS - gone.length });
    expect(await archived()).toBe(gone.length);

    // Day 3: day 1's file again. A vanished row's pair keeps its hash: unchanged by hash, it is still a row to restore.
    await drop(dir, 'employees-20261103.csv.gz.pgp', await encryptFor(keys, win1252Gzip(fileOf(day1()))));
    expect((await run()).entities[0]!).toMatchObject({ created: 0, updated: gone.length, unchanged: ROWS - gone.length, archived: 0 });
    expect(await archived()).toBe(0);
  }, 180_000);
});
