/**
 * The data API's sourcefiles paged past its first page, as `kubectl ferry files` and `kubectl get
 * sourcefiles` read them (500 a page): every file once, in the order files apply.
 *
 * listSourceFiles selects `id::text AS id`; ordering by `flow, id` took the text alias ('1', '10',
 * '100', ...) while the keyset condition compares the bigint, so past the first page files repeated
 * and others were never listed (a flow with 1,500 files showed 555 in the cluster). It orders by
 * the column now.
 */
import { describe, expect, it } from 'vitest';
import { RESOURCES, type ListRequest, type PairAccess } from '../../../src/data-api/resources.js';
import { openStateStore } from '../../../src/store/db.js';
import { rememberFile } from '../../../src/store/source-files.js';
import { freshDatabase } from '../../helpers/databases.js';

const access: PairAccess = { unmasked: async () => false, sensitivity: async () => ({ fields: new Map() }) as never };
const sourceFiles = RESOURCES.find((r) => r.plural === 'sourcefiles')!;

describe('sourcefiles past the first page', () => {
  it('lists every file once, in the order files apply, page after page', async () => {
    const store = await openStateStore(await freshDatabase('source_file_paging'));
    try {
      const names = Array.from({ length: 12 }, (_, i) => `employees-${String(i + 1).padStart(2, '0')}.csv`);
      for (const name of names) {
        await rememberFile(store.pool, { flow: 'hr/payroll', entity: 'employees', name, sha256: name.padEnd(64, '0'), size: 10, modifiedAt: new Date('2026-11-30T08:00:00Z'), path: name, runId: 'r1' });
      }
      const listed: string[] = [];
      let after: unknown;
      do {
        const request: ListRequest = { namespace: 'hr', filters: { flow: 'payroll' }, limit: 5, access, ...(after ? { after } : {}) };
        const page = await sourceFiles.list(store.pool, request);
        listed.push(...page.items.map((i) => (i.object as unknown as { fileName: string }).fileName));
        after = page.next;
      } while (after && listed.length < 100);
      expect(listed).toEqual(names);
    } finally {
      await store.close();
    }
  }, 60_000);
});
