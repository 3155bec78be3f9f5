import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { drop, filesFlowSpec, inbox, runFilesFlow, TARGET_SQL } from './files-source.js';

const DELTA: FileSource = { pattern: 'changes-*.csv.gz', contents: 'Delta', orderCapture: '-(\\d+)\\.csv', csv: { delimiter: ';' } };
const FILES = 4;
const ROWS = 4000;

/** The decoded copies (`N.plain`) under the scratch directory right now, by the folder of each (one folder per download). */
async function plainCopies(scratch: string): Promise<string[]> {
  const entries = await readdir(scratch, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.plain')).map((e) => dirname(e));
}

/**
 * The scratch disk (tmpdir(), an emptyDir with a size limit in a Job) holds the decoded files of a
 * backlog of delta files while they fit in the bytes the run may keep (half the Job's scratch
 * space); past that, one at a time, each downloaded and decoded again when it comes to be read.
 * TMPDIR points each run at a fresh directory, sampled on every turn of the event loop.
 */
describe('files source: decoded files on the scratch disk', () => {
  let dir: string;
  const scratches: string[] = [];

  beforeAll(async () => {
    dir = await inbox();
    for (let f = 1; f <= FILES; f++) {
      const lines = Array.from({ length: ROWS }, (_, i) => `${f * ROWS + i};Name ${f}-${i};a note to make the line longer;;`);
      await drop(dir, `changes-${f}.csv.gz`, gzipSync(Buffer.from(['no;name;note;salary;born', ...lines].join('\n'))));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([dir, ...scratches].map((d) => rm(d, { recursive: true, force: true })));
  });

  /** Imports the backlog into fresh databases keeping `keptCopiesBytes`; the copies seen at each sample, and the scratch directory after. */
  async function importBacklog(name: string, keptCopiesBytes: number) {
    const scratch = await mkdtemp(join(tmpdir(), 'ferry-scratch-'));
    scratches.push(scratch);
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase(`files_scratch_${name}_dst`), freshDatabase(`files_scratch_${name}_state`)]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    const samples: string[][] = [];
    let running = true;
    const sample = async () => {
      while (running) {
        samples.push(await plainCopies(scratch));
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const was = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    const sampling = sample();
    try {
      const spec = { ...filesFlowSpec({ directory: dir, settleSeconds: 0 }, DELTA), batchSize: 500 };
      const report = await runFilesFlow({ flowId: `test/scratch-${name}`, spec, mode: 'Incremental', targetUrl, stateUrl, keptCopiesBytes });
      expect(report.status, report.error).toBe('Succeeded');
      expect(report.totals.created).toBe(FILES * ROWS);
    } finally {
      running = false;
      await sampling;
      if (was === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = was;
    }
    expect((await sqlRows(targetUrl, 'SELECT count(*)::int AS n FROM staff'))[0]!.n).toBe(FILES * ROWS);
    // The sampler saw the copies come and go (it cannot pass by never looking).
    expect(samples.filter((copies) => copies.length > 0).length).toBeGreaterThan(10);
    expect(await readdir(scratch, { recursive: true })).toEqual([]);
    return { most: Math.max(...samples.map((copies) => copies.length)), downloads: new Set(samples.flat()).size };
  }

  it('a backlog that fits in the bytes kept: each file decoded once, all on the disk until read, the directory empty after', async () => {
    expect(await importBacklog('fits', 64 * 1024 ** 2)).toEqual({ most: FILES, downloads: FILES });
  }, 120_000);

  it('a backlog that does not: never two decoded files at once, each read again from its source', async () => {
    const { most, downloads } = await importBacklog('tight', 1);
    expect(most).toBe(1);
    // Checked once each as prepared, then each fetched again when read (the copy before it removed).
    expect(downloads).toBe(2 * FILES);
  }, 120_000);
});
