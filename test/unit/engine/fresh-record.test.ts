import { describe, expect, it } from 'vitest';
import type { DrawnKeyList } from '../../../src/engine/connector.js';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { FreshRecord, hasTargetKey } from '../../../src/engine/one-way/source-records.js';

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
