import { describe, expect, it } from 'vitest';
import { RESOURCES, type ListRequest, type PairAccess } from '../../../src/data-api/resources.js';
import { openStateStore } from '../../../src/store/db.js';
import { currentHorizon } from '../../../src/store/change-reads.js';
import { readAsNamespace } from '../../../src/store/namespace-scope.js';
import { getSourceFile, listSourceFiles } from '../../../src/store/source-file-reads.js';
import { markFileFailed, markFilesImported, rememberFile } from '../../../src/store/source-files.js';
import { freshDatabase } from '../../helpers/databases.js';
import { awaitHorizonPastNow } from '../../helpers/horizon.js';

const access: PairAccess = { unmasked: async () => false, sensitivity: async () => ({ fields: new Map() }) as never };
const sourceFiles = RESOURCES.find((r) => r.plural === 'sourcefiles')!;
const request = (namespace: string | undefined, filters: Record<string, string> = {}, extra: Partial<ListRequest> = {}): ListRequest => ({ namespace, filters, limit: 50, access, ...extra });
const names = (page: { items: { object: unknown }[] }) => page.items.map((i) => (i.object as { fileName: string }).fileName);

describe('source file reads (the data API’s sourcefiles)', () => {
  it('lists a namespace’s files only (row-level security), filters, pages in apply order, gets by id and reports changes', async () => {
    const store = await openStateStore(await freshDatabase('source_file_reads'));
    try {
      const db = store.pool;
      const file = (flow: string, name: string) => rememberFile(db, { flow, entity: 'employees', name, sha256: name.padEnd(64, '0'), size: 10, modifiedAt: new Date('2026-11-30T08:00:00Z'), path: name, runId: 'r1' });
      const a = await file('hr/payroll', 'employees-1.csv');
      const b = await file('hr/payroll', 'employees-2.csv');
      const secret = await file('crm/partners', 'partners-1.csv');
      await markFilesImported(db, [{ id: a.id, rows: 12 }, { id: secret.id, rows: 3 }], 'r1');
      await markFileFailed(db, b.id, 'signature required: the file is not signed', 'r1');

      expect(names(await sourceFiles.list(db, request('hr')))).toEqual(['employees-1.csv', 'employees-2.csv']);
      // Whatever the query asks, a namespace's role reads its own rows only (row-level security).
      expect((await readAsNamespace(db, 'hr', (c) => listSourceFiles(c, { limit: 50 }))).map((f) => f.flow)).toEqual(['hr/payroll', 'hr/payroll']);
      expect(await readAsNamespace(db, 'hr', (c) => getSourceFile(c, String(secret.id)))).toBeUndefined();
      expect(names(await sourceFiles.list(db, request('crm')))).toEqual(['partners-1.csv']);
      expect(names(await sourceFiles.list(db, request('hr', { status: 'failed' })))).toEqual(['employees-2.csv']);

      const first = await sourceFiles.list(db, request('hr', { flow: 'payroll' }, { limit: 1 }));
      expect(names(first)).toEqual(['employees-1.csv']);
      expect(first.items[0]!.object).toMatchObject({ kind: 'SourceFile', metadata: { name: String(a.id), namespace: 'hr' }, flow: 'payroll', status: 'imported', rows: 12 });
      expect(names(await sourceFiles.list(db, request('hr', { flow: 'payroll' }, { limit: 1, after: first.next })))).toEqual(['employees-2.csv']);

      expect((await sourceFiles.get(db, 'hr', String(b.id), access))?.object).toMatchObject({ status: 'failed', reason: 'signature required: the file is not signed' });
      expect(await sourceFiles.get(db, 'hr', String(secret.id), access)).toBeUndefined();
      expect(await sourceFiles.get(db, 'hr', 'not-a-number', access)).toBeUndefined();

      await awaitHorizonPastNow(db);
      const since = await currentHorizon(db);
      await markFilesImported(db, [{ id: b.id, rows: 4 }], 'r2');
      await markFilesImported(db, [{ id: secret.id, rows: 3 }], 'r2');
      await awaitHorizonPastNow(db);
      const changes = await sourceFiles.changes(db, { namespace: 'hr', filters: {}, since, access });
      expect(changes.changed.map((c) => (c.object as unknown as { rows: number }).rows)).toEqual([4]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
