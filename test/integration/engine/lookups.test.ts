import { describe, expect, it } from 'vitest';
import { KeyCodec } from '../../../src/engine/keys.js';
import { LookupTranslator, type LookupCache } from '../../../src/engine/lookups.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { openStateStore } from '../../../src/store/db.js';
import { StateConnection } from '../../../src/store/state-connection.js';
import { freshDatabase } from '../../helpers/databases.js';

const FLOW = 'crm/members';
const PEOPLE = 60_000; // above the 50,000 pairs kept as a map of strings
const integer = new KeyCodec(['integer']);
const plans = new Map([['people', { source: { codec: integer }, target: { codec: integer } } as unknown as EntityPlan]]);
const targetOf = (id: number) => String(100_000_000 + id);

/** `count` source ids from `first` on, as the distinct values of one batch. */
const batch = (first: number, count: number) => new Set(Array.from({ length: count }, (_, i) => String(first + i)));

describe('lookup translation of a large integer-keyed entity', () => {
  it('asks per batch at first, then keeps the whole entity once asked enough, with the same answers', async () => {
    const url = await freshDatabase('lookups');
    const store = await openStateStore(url);
    const state = await StateConnection.open(url);
    try {
      // Pairs for the even ids only, inserted in shuffled order.
      await store.pool.query(
        `INSERT INTO ferry.pairs (scope, source_key, target_key)
           SELECT (SELECT ferry.pair_scope($1, 'people')), 'p' || lpad(i::text, 19, '0'), 'p' || lpad((100000000 + i)::text, 19, '0')
             FROM generate_series(2, ${PEOPLE * 2}, 2) AS i ORDER BY random()`,
        [FLOW],
      );
      const expected = (values: Set<string>) => new Map([...values].filter((v) => Number(v) % 2 === 0 && Number(v) <= PEOPLE * 2).map((v) => [v, targetOf(Number(v))]));
      const cache: LookupCache = new Map();
      const translator = new LookupTranslator(state, FLOW, plans, cache);

      // A few hundred values (an Incremental run's worth) are looked up in the state DB each time:
      // a pair removed in between is gone from the next answer.
      expect(await translator.translate('people', batch(1, 400))).toEqual(expected(batch(1, 400)));
      await store.pool.query(`DELETE FROM ferry.pairs WHERE source_key = 'p0000000000000000010'`);
      const afterDelete = expected(batch(1, 20));
      afterDelete.delete('10');
      expect(await translator.translate('people', batch(1, 20))).toEqual(afterDelete);

      // Past 2% of the pairs the whole entity is loaded and answers from memory.
      expect(await translator.translate('people', batch(1000, 1000))).toEqual(expected(batch(1000, 1000)));
      await store.pool.query(`DELETE FROM ferry.pairs WHERE source_key = 'p0000000000000000012'`);
      const cached = await translator.translate('people', batch(1, 20));
      expect(cached.get('12')).toBe(targetOf(12));
      expect(cached.has('10')).toBe(false);
      expect(await translator.translate('people', batch(PEOPLE * 2 - 500, 1000))).toEqual(expected(batch(PEOPLE * 2 - 500, 1000)));
      // Values that are not plain integers find what the key encoding finds.
      expect(await translator.translate('people', new Set(['-2', '0004', '00000000000000000000004', 'x', '']))).toEqual(new Map([['0004', targetOf(4)]]));

      // Another lane shares the loaded entity.
      const otherLane = new LookupTranslator(state, FLOW, plans, cache);
      expect((await otherLane.translate('people', batch(1, 20))).get('12')).toBe(targetOf(12));

      // Record runs never load whole entities.
      const record = new LookupTranslator(state, FLOW, plans, new Map(), false);
      for (let i = 0; i < 5; i++) expect((await record.translate('people', batch(1, 2000))).has('12')).toBe(false);
    } finally {
      await state.close();
      await store.close();
    }
  });
});
