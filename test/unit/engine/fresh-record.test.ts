import { describe, expect, it } from 'vitest';
import type { DrawnKeyList } from '../../../src/engine/connector.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { FreshRecord, FreshRecordPool, hasTargetKey } from '../../../src/engine/one-way/source-records.js';

/** FreshRecord reads only the width of the source key from its plan. */
const plan = { source: { keys: ['employee_no'] } } as unknown as EntityPlan;
const record = (key: string) => new FreshRecord(plan, [key, '000000000001:000000000001', 'hash', 't', 'Ann'], key);

describe('FreshRecord target keys', () => {
  it('has none until one is drawn or set', () => {
    const item = record('E1');
    expect(item.targetKey).toBeUndefined();
    expect(item.hasTargetKey).toBe(false);
    expect(hasTargetKey(item)).toBe(false);
  });

  it("takes a drawn key as its place in the batch's flat list (one column)", () => {
    const drawn: DrawnKeyList = { columns: 1, values: ['101', '102', '103'] };
    const items = ['E1', 'E2', 'E3'].map(record);
    items.forEach((item, i) => item.takeDrawnKey(drawn, i));
    expect(items.map((item) => item.targetKey)).toEqual([['101'], ['102'], ['103']]);
    expect(items.map((item) => item.targetKeyPart(0))).toEqual(['101', '102', '103']);
    expect(items.every(hasTargetKey)).toBe(true);
  });

  it('takes a drawn key of several columns', () => {
    const drawn: DrawnKeyList = { columns: 2, values: ['1', 'a', '2', 'b'] };
    const item = record('E2');
    item.takeDrawnKey(drawn, 1);
    expect(item.targetKey).toEqual(['2', 'b']);
    expect([item.targetKeyPart(0), item.targetKeyPart(1)]).toEqual(['2', 'b']);
  });

  it('answers a key set afterwards instead of the drawn one, and none once cleared', () => {
    const item = record('E1');
    item.takeDrawnKey({ columns: 1, values: ['7'] }, 0);
    item.targetKey = ['42'];
    expect(item.targetKey).toEqual(['42']);
    expect(item.targetKeyPart(0)).toBe('42');
    item.targetKey = undefined;
    expect(item.hasTargetKey).toBe(false);
    expect(item.targetKey).toBeUndefined();
  });
});

describe('FreshRecordPool', () => {
  const row = (key: string, cursor: string) => [key, cursor, `hash of ${key}`, 't', 'Ann'];

  it('makes records until some are given back, then reuses them as new ones', () => {
    const pool = new FreshRecordPool(10);
    const first = pool.take(plan, row('E1', 'c1'), 'E1');
    first.takeDrawnKey({ columns: 1, values: ['101'] }, 0);
    first.freshRow = 3;
    pool.giveBack([first]);
    expect(pool.size).toBe(1);
    const again = pool.take(plan, row('E2', 'c2'), 'E2');
    expect(again).toBe(first);
    expect(pool.size).toBe(0);
    // Nothing of the row it had before.
    expect([again.key, again.keyParts, again.cursor, again.hash, again.inScope]).toEqual(['E2', ['E2'], 'c2', 'hash of E2', true]);
    expect([again.targetKey, again.freshRow, again.values]).toEqual([undefined, undefined, undefined]);
    expect(pool.take(plan, row('E3', 'c3'), 'E3')).not.toBe(first);
  });

  it('keeps only FreshRecords, and at most its limit of them', () => {
    const pool = new FreshRecordPool(2);
    const plain = { record: { key: 'E9', keyParts: ['E9'], cursor: null, hash: 'h', inScope: true }, kind: 'new' as const };
    pool.giveBack([plain, ...['E1', 'E2', 'E3'].map((key) => pool.take(plan, row(key, 'c'), key))]);
    expect(pool.size).toBe(2);
  });

  it("lets go of a given-back record's row and key", () => {
    const pool = new FreshRecordPool(1);
    const record = pool.take(plan, row('E1', 'c1'), 'E1');
    pool.giveBack([record]);
    expect([record.key, record.hasTargetKey, record.values]).toEqual(['', false, undefined]);
  });
});
