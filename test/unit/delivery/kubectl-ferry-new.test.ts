import { describe, expect, it } from 'vitest';
import { newRecordsText } from '../../../src/cli/kubectl-ferry/format.js';
import { toUnpairedPair } from '../../../src/data-api/objects.js';

describe('kubectl ferry new', () => {
  const record = (side: 'source' | 'target', key: string, suggestions: { key: string; agreeing: number[] }[]) =>
    toUnpairedPair(
      { flow: 'crm/members', entity: 'people', side, key, reason: 'unmatched', inScope: true, runId: 'r1', seenAt: new Date('2026-01-01T10:00:00Z'), suggestions },
      [
        { source: 'first_name', target: 'name_first' },
        { source: 'last_name', target: 'name_last' },
      ],
    );

  it('lists each unpaired record with its side and suggested partners, naming the agreeing match fields', () => {
    const text = newRecordsText([record('source', 'p0000000000000000042', [{ key: 'p0000000000000005001', agreeing: [1] }]), record('target', 'A-7', [])], 'members');
    expect(text).toContain('source');
    expect(text).toMatch(/42\s.*5001 \(last_name\/name_last\)/);
    expect(text).toMatch(/target\s.*A-7\s.*-/);
    expect(text).toContain('2 unpaired records. Link one: kubectl ferry resolve members --entity ENTITY --link SOURCE_KEY=TARGET_KEY');
  });

  it('a source and a target record with the same key get different names', () => {
    expect(record('source', 'x', []).metadata.name).not.toBe(record('target', 'x', []).metadata.name);
  });

  it('says so when there is none', () => expect(newRecordsText([], 'members')).toBe('No unpaired records in flow members.'));
});
