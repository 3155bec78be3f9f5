import { describe, expect, it } from 'vitest';
import { getCondition, isConditionTrue, removeCondition, setCondition, type Condition } from '../../../src/api/index.js';

const t0 = new Date('2024-03-01T10:00:00.123Z');
const t1 = new Date('2024-03-01T11:00:00Z');

describe('conditions', () => {
  it('adds a condition with a second-precision transition time', () => {
    const conditions = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Probing', message: 'first probe' }, t0);
    expect(conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'Probing', message: 'first probe', lastTransitionTime: '2024-03-01T10:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime while the status holds and updates the rest', () => {
    const before = setCondition([], { type: 'Ready', status: 'False', reason: 'Probing', message: 'a' }, t0);
    const after = setCondition(before, { type: 'Ready', status: 'False', reason: 'AuthFailed', message: 'b', observedGeneration: 2 }, t1);
    expect(after[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'AuthFailed',
      message: 'b',
      observedGeneration: 2,
      lastTransitionTime: '2024-03-01T10:00:00Z',
    });
    expect(before[0].reason).toBe('Probing');
  });

  it('moves lastTransitionTime when the status changes', () => {
    const before = setCondition([], { type: 'Ready', status: 'False', reason: 'Probing', message: '' }, t0);
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'Connected', message: '' }, t1);
    expect(after[0].lastTransitionTime).toBe('2024-03-01T11:00:00Z');
  });

  it('keeps the order of other conditions', () => {
    let conditions: Condition[] = [];
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'A', message: '' }, t0);
    conditions = setCondition(conditions, { type: 'Reconciling', status: 'True', reason: 'B', message: '' }, t0);
    conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'C', message: '' }, t1);
    expect(conditions.map((c) => c.type)).toEqual(['Ready', 'Reconciling']);
    expect(isConditionTrue(conditions, 'Ready')).toBe(true);
    expect(getCondition(conditions, 'Stalled')).toBeUndefined();
    expect(removeCondition(conditions, 'Reconciling').map((c) => c.type)).toEqual(['Ready']);
    expect(removeCondition(undefined, 'Ready')).toEqual([]);
  });
});
