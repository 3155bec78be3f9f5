import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { withClient } from './databases.js';

/** Migrates a state database up to (not including) the migration whose tag starts with `before`, as a database of an older release. */
export async function migratedBefore(url: string, before: string): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'ferry-migrations-'));
  try {
    cpSync(fileURLToPath(new URL('../../drizzle', import.meta.url)), folder, { recursive: true });
    const journalFile = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
    const end = journal.entries.findIndex((e) => e.tag.startsWith(before));
    if (end <= 0) throw new Error(`no migration ${before}* after the first`);
    writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, end) }));
    await withClient(url, (c) => migrate(drizzle(c), { migrationsFolder: folder, migrationsSchema: 'ferry' }));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
