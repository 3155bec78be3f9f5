import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL } from './files-source.js';

const DELTA: FileSource = { pattern: 'changes-*.csv.gz', contents: 'Delta', orderCapture: '-(\\d+)\\.csv', csv: { delimiter: ';' } };
const FILES = 4;
const ROWS = 4000;

/** The decoded copies (`N.plain`) under the scratch directory right now. */
async function plainCopies(scratch: string): Promise<number> {
  const entries = await readdir(scratch, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.plain')).length;
}

/**
 * The scratch disk (tmpdir(), an emptyDir with a size limit in a Job) holds one decoded file at a
 * time: a backlog of delta files is not decoded onto it all at once. TMPDIR points the run at a
 * fresh directory, sampled on every turn of the event loop while the run reads the files.
 */
describe('files source: the scratch disk holds one decoded file of a backlog at a time', () => {
  let dir: string;
  let scratch: string;
  let targetUrl: string;
  let stateUrl: string;

  beforeAll(async () => {
    dir = await inbox();
    scratch = await mkdtemp(join(tmpdir(), 'ferry-scratch-'));
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_scratch_dst'), freshDatabase('files_scratch_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    const { gzipSync } = await import('node:zlib');
    for (let f = 1; f <= FILES; f++) {
      const lines = Array.from({ length: ROWS }, (_, i) => `${f * ROWS + i};Name ${f}-${i};a note to make the line longer;;`);
      await drop(dir, `changes-${f}.csv.gz`, gzipSync(Buffer.from(['no;name;note;salary;born', ...lines].join('\n'))));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([rm(dir, { recursive: true, force: true }), rm(scratch, { recursive: true, force: true })]);
  });

  it('imports several pending delta files with at most one plain copy on disk, and leaves the scratch directory empty', async () => {
    const counts: number[] = [];
    let running = true;
    const sample = async () => {
      while (running) {
        counts.push(await plainCopies(scratch));
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const was = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    const sampling = sample();
    try {
      const report = await runFilesFlow({ flowId: 'test/scratch', spec: { ...filesFlowSpec({ directory: dir, settleSeconds: 0 }, DELTA), batchSize: 500 }, mode: 'Incremental', targetUrl, stateUrl });
      expect(report.status, report.error).toBe('Succeeded');
      expect(report.totals.created).toBe(FILES * ROWS);
    } finally {
      running = false;
      await sampling;
      if (was === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = was;
    }
    expect((await sqlRows(targetUrl, 'SELECT count(*)::int AS n FROM staff'))[0]!.n).toBe(FILES * ROWS);
    // The sampler saw the copies come and go (it cannot pass by never looking)...
    expect(counts.filter((n) => n > 0).length).toBeGreaterThan(10);
    // ...and never two at once.
    expect(Math.max(...counts)).toBe(1);
    expect(await readdir(scratch, { recursive: true })).toEqual([]);
  }, 120_000);
});
