import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../helpers/databases.js';

const scratchDirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-cli-'));
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const KUBECTL_FERRY = join(process.cwd(), 'bin', 'kubectl-ferry.mjs');

function spawn(bin: string, args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const ferry = (args: string[]) => spawn(FERRY, args);

describe('hostile command lines', () => {
  it('ferry demo generate --people N generates N people, not the parent command default', async () => {
    const url = await freshDatabase('hostile_demo_people');
    const out = ferry(['demo', 'generate', '--url', url, '--people', '30']);
    expect(out.code, out.stderr).toBe(0);
    const people = await withClient(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM people')).rows[0].n));
    expect(people).toBe(30);
  });

  it('a YAML alias bomb is refused in one line with exit 2, before it expands', () => {
    const dir = scratch();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      levels.push(`${next}: &${next} [${Array(9).fill('*' + prev).join(',')}]`);
    }
    writeFileSync(join(dir, 'bomb.yaml'), levels.join('\n') + '\n');
    for (const command of ['validate', 'run']) {
      const out = ferry([command, '-f', join(dir, 'bomb.yaml')]);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toMatch(/bomb\.yaml.*alias/i);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('-f on a missing path prints its error once', () => {
    const missing = join(scratch(), 'missing.yaml');
    for (const command of ['validate', 'run']) {
      const out = ferry([command, '-f', missing]);
      expect(out.code).toBe(2);
      expect(out.stderr.split('\n').filter((line) => line.includes('ENOENT')), out.stderr).toHaveLength(1);
    }
  });

  it('kubectl ferry resolve -f on bad YAML or a missing file says so in one line, exit 2', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'bad.yaml'), '- entity: people\n  action: [KeepSource\n  sourceKey: "1\n');
    for (const file of [join(dir, 'bad.yaml'), join(dir, 'missing.yaml')]) {
      const out = spawn(KUBECTL_FERRY, ['resolve', 'members', '-f', file]);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr.trim().split('\n'), out.stderr).toHaveLength(1);
      expect(out.stderr).toContain(file);
    }
  });
});
