import { describe, expect, it } from 'vitest';
import { inScope, readField } from '../../../../src/connectors/http/records.js';
import type { ResolvedField } from '../../../../src/connectors/http/resource.js';

/** An http source filters in memory; its conditions must mean what the SQL connectors' compiled ones mean. */
const categories = { name: 'categories', pointer: '/categories', type: 'json' } as unknown as ResolvedField;
const tags = { name: 'tags', pointer: '/meta/tags', type: 'text' } as unknown as ResolvedField;
const values = (record: unknown) => (name: string) => readField(record, name === 'categories' ? categories : tags);

describe('http conditions', () => {
  it('Contains on a JSON array field (WordPress categories) holds when an item equals a value', () => {
    const contains = [{ field: 'categories', operator: 'Contains' as const, values: ['150'] }];
    expect(inScope(values({ categories: [3, 150] }), contains)).toBe(true);
    expect(inScope(values({ categories: [1500] }), contains)).toBe(false);
    expect(inScope(values({ categories: [] }), contains)).toBe(false);
    expect(inScope(values({}), contains)).toBe(false);
  });

  it('Contains on delimited text uses the separator and trims each item', () => {
    const contains = [{ field: 'tags', operator: 'Contains' as const, values: ['board'], separator: ',' }];
    expect(inScope(values({ meta: { tags: 'cleaning, board' } }), contains)).toBe(true);
    expect(inScope(values({ meta: { tags: 'boardroom' } }), contains)).toBe(false);
  });

  it('In still compares the whole value, AND across clauses', () => {
    const both = [
      { field: 'tags', operator: 'In' as const, values: ['board'] },
      { field: 'categories', operator: 'NotNull' as const, values: [] },
    ];
    expect(inScope(values({ meta: { tags: 'board' }, categories: [1] }), both)).toBe(true);
    expect(inScope(values({ meta: { tags: 'cleaning, board' }, categories: [1] }), both)).toBe(false);
    expect(inScope(values({ meta: { tags: 'board' } }), both)).toBe(false);
  });
});
