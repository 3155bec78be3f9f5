import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, TARGET_SQL } from './files-source.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const logger = pino({ level: 'silent' });

/** A record of a generated snapshot: its key (as written, quoted or not), a name, a salary (a Decimal column: 'x' rejects the row). */
interface Rec {
  no: string;
  name: string;
  salary?: string;
  /** The key as the file writes it (quoted, say); `no` when absent. */
  written?: string;
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The file's bytes (header on line 1, a record per line) and the rejections a reader must give, by line. */
function snapshotOf(records: Rec[], eol = '\n'): { bytes: Buffer; duplicates: Map<number, number>; invalid: Set<number> } {
  const lines = ['no;name;note;salary;born', ...records.map((r) => `${r.written ?? r.no};${r.name};;${r.salary ?? ''};`)];
  const first = new Map<string, number>();
  const duplicates = new Map<number, number>();
  const invalid = new Set<number>();
  records.forEach((r, i) => {
    const line = i + 2;
    if (r.salary === 'x') return void invalid.add(line);
    const earlier = first.get(r.no);
    if (earlier === undefined) first.set(r.no, line);
    else duplicates.set(line, earlier);
  });
  return { bytes: Buffer.from(lines.join(eol) + eol), duplicates, invalid };
}

/** `count` employees in ascending order, then the repeats: some keys again up to 4 times, spread over the file. */
function ascending(count: number): Rec[] {
  const records: Rec[] = Array.from({ length: count }, (_, i) => ({ no: String(i + 1), name: `Person ${i + 1}` }));
  for (let k = 1; k <= count; k += Math.floor(count / 23)) records.push({ no: String(k), name: `Again ${k}` });
  for (const k of [5, 5, 5, count, count]) records.push({ no: String(k), name: `Often ${k}` });
  return records;
}

/** The same keys and repeats as `ascending`, in a random order. */
const shuffled = (count: number) => shuffle(ascending(count), seededRandom(12));

describe('files source: a snapshot past its key budget is checked by a key census, giving the same rejections', () => {
  const run = async (bytes: Buffer, options: { keyMemoryBytes?: number }) => {
    const dir = await inbox();
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('census_dst'), freshDatabase('census_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    await drop(dir, 'staff-1.csv', bytes);
    const spec = filesFlowSpec(
      { directory: dir, settleSeconds: 0 },
      { pattern: 'staff-*.csv', contents: 'Snapshot', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' }, columns: [{ name: 'salary', type: 'Decimal' }] },
    );
    spec.batchSize = 1000;
    const report = await runSync({ flowId: 'test/census', spec, mode: 'Full', sourceUrl: '', targetUrl, stateUrl, logger, files: { targets: {}, secrets: {}, ...options } });
    const reasons = report.rejectedSamples.map((r) => r.reason.slice(r.reason.indexOf('staff-1.csv'))).sort();
    const rows = await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff ORDER BY employee_no');
    return { rejected: report.totals.rejected, reasons, rows };
  };

  /** Runs the file in memory (the default budget) and through a census (tiny budgets): both give the rejections `duplicates` and `invalid` say, and the same rows. */
  const compare = async (bytes: Buffer, duplicates: Map<number, number>, invalid: Set<number>) => {
    expect(duplicates.size + invalid.size).toBeLessThan(100); // every rejection is in the samples
    const inMemory = await run(bytes, {});
    const dupReasons = inMemory.reasons.filter((r) => r.includes('duplicate key'));
    expect(dupReasons).toEqual([...duplicates].map(([line, first]) => `staff-1.csv line ${line}: duplicate key (first at line ${first})`).sort());
    expect(inMemory.rejected).toBe(duplicates.size + invalid.size);
    // 4 and 16 KiB fill within the first chunk of keys checked; 64 KiB holds two, enough to foresee the census and take it early.
    for (const budget of [4096, 16 * 1024, 64 * 1024]) {
      expect(await run(bytes, { keyMemoryBytes: budget })).toEqual(inMemory);
    }
    return inMemory;
  };

  it('repeats in ascending order, spread over the partitions, some keys 3-5 times', async () => {
    const { bytes, duplicates, invalid } = snapshotOf(ascending(20_000));
    await compare(bytes, duplicates, invalid);
  }, 300_000);

  it('repeats in random order, CRLF line ends', async () => {
    const { bytes, duplicates, invalid } = snapshotOf(shuffled(20_000), '\r\n');
    await compare(bytes, duplicates, invalid);
  }, 300_000);

  it('quoted keys (a delimiter and a quote in them), a row rejected for its salary whose key comes again later (that row is the first)', async () => {
    const records = ascending(12_000).map((r, i) => (i % 3 === 0 ? { ...r, no: `${r.no};"x`, written: `"${r.no};""x"` } : r));
    // Line 2 of key '2' is rejected for its salary: the key's next row is its first.
    records.splice(1, 0, { no: '2', name: 'Bad salary', salary: 'x' });
    records.push({ no: '3', name: 'Bad too', salary: 'x' }, { no: '12345', name: 'New', salary: 'x' }, { no: '12345', name: 'Newer' }, { no: '12345', name: 'Newest' });
    const { bytes, duplicates, invalid } = snapshotOf(records);
    const result = await compare(bytes, duplicates, invalid);
    expect(result.rows.find((r) => r.employee_no === '12345')).toEqual({ employee_no: '12345', name: 'Newer' });
    expect(result.reasons).toContain(`staff-1.csv line ${records.length + 1}: duplicate key (first at line ${records.length})`);
  }, 300_000);
});
