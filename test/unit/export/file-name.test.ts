import { describe, expect, it } from 'vitest';
import { expandFileName, withExtensions } from '../../../src/export/file-name.js';

describe('fileNameTemplate', () => {
  const at = new Date('2026-03-29T00:30:00Z'); // the night Europe switches to summer time (01:00 UTC)

  it('expands flow, entity, date, time and a zero-padded sequence in the given time zone', () => {
    const values = { flow: 'loyalty', entity: 'members', at, seq: 7 };
    expect(expandFileName('{flow}_{entity}_{date}_{time}_{seq}', { ...values, timeZone: 'UTC' })).toBe('loyalty_members_20260329_003000_007');
    expect(expandFileName('{date}T{time}', { ...values, timeZone: 'Europe/Zurich' })).toBe('20260329T013000');
    expect(expandFileName('{date}T{time}', { ...values, at: new Date('2026-03-29T01:30:00Z'), timeZone: 'Europe/Zurich' })).toBe('20260329T033000');
    expect(expandFileName('{date}', { ...values, timeZone: 'America/Los_Angeles' })).toBe('20260328');
  });

  it('never produces a path separator', () => {
    expect(expandFileName('{flow}', { flow: 'a/b', entity: 'e', at, seq: 1, timeZone: 'UTC' })).toBe('a_b');
  });

  it('adds extensions unless the template already ends with them', () => {
    expect(withExtensions('members', '.csv')).toBe('members.csv');
    expect(withExtensions('members.csv', '.csv')).toBe('members.csv');
  });
});
