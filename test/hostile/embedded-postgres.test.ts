import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { passwordFileOf, startEmbeddedPostgres } from '../../src/util/embedded-postgres.js';

const scratchDirs: string[] = [];
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A directory like /tmp: anyone may create files in it, only their owner may delete them. */
function stickyScratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-sticky-'));
  chmodSync(dir, 0o1777);
  scratchDirs.push(dir);
  return dir;
}

const modeOf = (path: string) => statSync(path).mode & 0o7777;

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL leaves the directories around its data alone, and has its own password', () => {
  it('a data directory under a sticky, world-writable directory (FERRY_DATA_DIR=/tmp/x) keeps that directory mode 1777', async () => {
    const tmp = stickyScratch();
    const server = await startEmbeddedPostgres({ persistent: true, dataDir: join(tmp, 'x') });
    try {
      expect(modeOf(tmp).toString(8)).toBe('1777');
      expect(await selectOne(server.url)).toBe(1);
    } finally {
      await server.stop();
    }
    expect(modeOf(tmp).toString(8)).toBe('1777');
  });

  it("each data directory gets its own password, in a file only its owner may read, reused on restart", async () => {
    const [a, b] = [join(stickyScratch(), 'a'), join(stickyScratch(), 'b')];
    const passwords: string[] = [];
    for (const dataDir of [a, b]) {
      const server = await startEmbeddedPostgres({ persistent: true, dataDir });
      await server.stop();
      expect(modeOf(passwordFileOf(dataDir)).toString(8)).toBe('600');
      passwords.push(readFileSync(passwordFileOf(dataDir), 'utf8').trim());
    }
    expect(passwords[0]).not.toBe(passwords[1]);
    expect(passwords[0]).not.toBe('ferry-local');
    expect(passwords[0].length).toBeGreaterThanOrEqual(24);

    const again = await startEmbeddedPostgres({ persistent: true, dataDir: a });
    try {
      expect(decodeURIComponent(new URL(again.url).password)).toBe(passwords[0]);
      expect(await selectOne(again.url)).toBe(1);
      const wrong = new URL(again.url);
      wrong.password = 'ferry-local';
      await expect(selectOne(wrong.toString())).rejects.toThrow(/password authentication failed/);
    } finally {
      await again.stop();
    }
  });
});
