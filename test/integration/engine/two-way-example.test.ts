import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { FERRY, ferry } from '../../helpers/ferry-process.js';

const EXAMPLE = join(process.cwd(), 'examples', 'two-way-people');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));


async function exampleSetup() {
  const [church, accounts, state] = await Promise.all([freshDatabase('ex_church'), freshDatabase('ex_accounts'), freshDatabase('ex_state')]);
  await withClient(church, (c) => c.query(readFileSync(join(EXAMPLE, 'church.sql'), 'utf8')));
  await withClient(accounts, (c) => c.query(readFileSync(join(EXAMPLE, 'accounts.sql'), 'utf8')));
  const dir = mkdtempSync(join(tmpdir(), 'ferry-two-way-'));
  dirs.push(dir);
  copyFileSync(join(EXAMPLE, 'syncflow.yaml'), join(dir, 'syncflow.yaml'));
  const secret = (name: string, url: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { url } });
  writeFileSync(join(dir, 'secrets.yaml'), [secret('church-db', church), secret('accounts-db', accounts)].map((d) => stringify(d)).join('---\n'));
  const q = (url: string) => (sql: string) => withClient(url, async (c) => (await c.query(sql)).rows);
  return { dir, state, church: q(church), accounts: q(accounts), common: ['-f', dir, '--state-db', state] };
}

describe('examples/two-way-people through the CLI', () => {
  it('links, exports, imports, lists the conflict, resolves it, and deletes an imported donation', { timeout: 600_000 }, async () => {
    const ex = await exampleSetup();
    const full = await ferry(['run', ...ex.common, '--mode', 'Full', '-o', 'json']);
    expect(full.code, full.stderr).toBe(0);
    const report = JSON.parse(full.stdout);
    const people = report.entities.find((e: { name: string }) => e.name === 'people');
    expect(people.twoWay).toMatchObject({ createdInTarget: 1, createdInSource: 1, conflicts: 1, unpaired: 2 });
    expect(people.categories).toMatchObject({ synchronised: 2, conflict: 1, new: 2 });
    expect(await ex.accounts(`SELECT name_first FROM persons ORDER BY nr`)).toEqual([{ name_first: 'John' }, { name_first: 'Anna' }, { name_first: 'Mary' }]);
    expect(await ex.church(`SELECT first_name FROM people ORDER BY id`)).toHaveLength(5);
    expect(await ex.church(`SELECT p.first_name, b.amount, b.purpose FROM bookings b JOIN people p ON p.id = b.person_id ORDER BY b.booked_on`)).toEqual([
      { first_name: 'John', amount: '50.00', purpose: 'Donation' },
      { first_name: 'John', amount: '20.00', purpose: 'Donation' },
      { first_name: 'Anna', amount: '35.00', purpose: 'Collection' },
    ]);

    // John exists on both sides with different data: a conflict, listed with both values.
    const pairs = await ferry(['pairs', ...ex.common, '--entity', 'people', '--category', 'conflict', '-o', 'json']);
    expect(pairs.code, pairs.stderr).toBe(0);
    expect(JSON.parse(pairs.stdout)).toEqual([
      expect.objectContaining({
        entity: 'people',
        sourceKey: '1',
        targetKey: '5000',
        category: 'conflict',
        differences: [{ source: 'status', target: 'category', sourceValue: 'Member', targetValue: null }],
      }),
    ]);
    // The two records without a partner are listed with their side; the counts agree with the report.
    const fresh = await ferry(['pairs', ...ex.common, '--entity', 'people', '--category', 'new', '-o', 'json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    const listed = JSON.parse(fresh.stdout);
    expect(listed.records).toHaveLength(2);
    expect(listed.records.every((r: { side: string; entity: string }) => r.entity === 'people' && ['source', 'target'].includes(r.side))).toBe(true);
    expect(listed.categories.people).toEqual(people.categories);
    const freshTable = await ferry(['pairs', ...ex.common, '--category', 'new']);
    expect(freshTable.stdout).toContain('ferry resolve --entity ENTITY --link SOURCE_KEY=TARGET_KEY');
    const table = await ferry(['pairs', ...ex.common, '--category', 'conflict']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/status \/ category\s*│?\s*Member/);
    // Every listing ends with the counts of every category, the same as the run report's.
    const counted = people.categories as Record<string, number>;
    expect(table.stdout).toContain(`people: ${['conflict', 'new', 'deleted', 'deactivated', 'synchronised', 'inactive'].map((c) => `${counted[c] ?? 0} ${c}`).join(' · ')}`);

    const resolved = await ferry(['resolve', ...ex.common, '--entity', 'people', '--key', '1', '--keep', 'source']);
    expect(resolved.code, resolved.stdout + resolved.stderr).toBe(0);
    expect(await ex.accounts(`SELECT category FROM persons WHERE nr = 5000`)).toEqual([{ category: 'Member' }]);
    const none = await ferry(['pairs', ...ex.common, '--category', 'conflict', '-o', 'json']);
    expect(JSON.parse(none.stdout)).toEqual([]);

    // A donation removed in accounting is deleted in the church (deleteInSource).
    await ex.accounts(`DELETE FROM transactions WHERE amount = 20.00`);
    const again = await ferry(['run', ...ex.common, '--mode', 'Full', '-o', 'json']);
    const bookings = JSON.parse(again.stdout).entities.find((e: { name: string }) => e.name === 'bookings');
    expect(bookings.twoWay.deletedSource).toBe(1);
    expect(await ex.church(`SELECT amount FROM bookings ORDER BY amount`)).toEqual([{ amount: '35.00' }, { amount: '50.00' }]);

    const bad = await ferry(['resolve', ...ex.common, '--entity', 'people', '--key', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/choose exactly one of --keep/);
  });

  it('with triggers installed, ferry run --watch picks a change up in about a second, not at the polling interval', { timeout: 400_000 }, async () => {
    const ex = await exampleSetup();
    expect((await ferry(['run', ...ex.common, '--mode', 'Full'])).code).toBe(0);
    const installed = await ferry(['install-triggers', ...ex.common]);
    expect(installed.stdout).toMatch(/installed change triggers on 2 source tables/);
    expect(await ex.church(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'ferry_notify_change'`)).toEqual([{ n: 2 }]);

    const watch = spawn(process.execPath, [FERRY, 'run', ...ex.common, '--watch', '--interval', '10m'], { env: { ...process.env, FERRY_LOG_LEVEL: 'info' } });
    let log = '';
    watch.stderr.on('data', (d) => (log += d));
    try {
      const until = async (check: () => Promise<boolean>, ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (await check()) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      };
      expect(await until(async () => log.includes('change notifications'), 150_000), log).toBe(true);
      expect(await until(async () => /nothing to sync|people/.test(log), 150_000), log).toBe(true);
      const started = Date.now();
      await ex.church(`INSERT INTO people (first_name, last_name, email, status, family_status) VALUES ('Zoe', 'Quick', 'zoe@example.org', 'Member', 'Married')`);
      const arrived = await until(async () => (await ex.accounts(`SELECT 1 FROM persons WHERE name_first = 'Zoe'`)).length === 1, 60_000);
      expect(arrived, log).toBe(true);
      // One Incremental run takes about a second (several on a loaded test machine); the 10-minute poll would not have come yet.
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      watch.kill('SIGTERM');
      await new Promise((r) => watch.on('exit', r));
    }
    const removed = await ferry(['install-triggers', ...ex.common, '--uninstall']);
    expect(removed.code).toBe(0);
    expect(await ex.church(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'ferry_notify_change'`)).toEqual([{ n: 0 }]);
  });
});
