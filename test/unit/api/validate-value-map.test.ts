import { describe, expect, it } from 'vitest';
import type { FieldMapping } from '../../../src/api/entity.js';
import { valueMapErrors } from '../../../src/api/validate-value-map.js';

const field = (entries: NonNullable<FieldMapping['valueMap']>['entries']): FieldMapping => ({ source: 'status', target: 'category', valueMap: { entries } });
const at = 'spec.entities[0].fields[3]';

describe('value maps', () => {
  it('a source value mapped twice is refused, naming it', () => {
    const errors = valueMapErrors(field([{ source: 'Member', target: '150' }, { source: 'Member', target: '151' }]), 'OneWay', at);
    expect(errors).toEqual([{ path: `${at}.valueMap.entries[1].source`, message: 'source value "Member" is mapped twice (also at entries[0])' }]);
  });

  it('OneWay: several source values may map to one target value', () => {
    expect(valueMapErrors(field([{ source: 'Member', target: '150' }, { source: 'Full member', target: '150' }]), 'OneWay', at)).toEqual([]);
  });

  it('TwoWay: a target value from several source values needs the one it maps back to', () => {
    const ambiguous = valueMapErrors(field([{ source: 'Member', target: '150' }, { source: 'Full member', target: '150' }]), 'TwoWay', at);
    expect(ambiguous).toEqual([
      { path: `${at}.valueMap.entries[0].reverse`, message: 'not invertible: target value "150" comes from "Member", "Full member"; mark all but the one it maps back to with reverse: false' },
    ]);
    const none = valueMapErrors(field([{ source: 'Member', target: '150', reverse: false }]), 'TwoWay', at);
    expect(none[0].message).toBe('target value "150" maps back to no source value: let one of "Member" keep reverse: true');
    expect(valueMapErrors(field([{ source: 'Member', target: '150' }, { source: 'Full member', target: '150', reverse: false }]), 'TwoWay', at)).toEqual([]);
  });

  it('map values cannot hold the control characters Ferry reserves', () => {
    expect(valueMapErrors(field([{ source: 'a\u0001', target: 'b' }]), 'OneWay', at)[0].path).toBe(`${at}.valueMap.entries[0].source`);
  });
});
