import { describe, expect, it } from 'vitest';
import type { EntityPlan } from '../../../src/engine/plan.js';
import { parseRecordKey } from '../../../src/engine/run-selection.js';
import { parseRecordOption } from '../../../src/local/local-run.js';

const plan = (keys: string[], kinds: ('integer' | 'text')[]) => ({ name: 'things', source: { keys, keyKinds: kinds } }) as unknown as EntityPlan;

describe('record keys', () => {
  it('takes a single key as it is, and composite keys as comma-separated parts in key order', () => {
    expect(parseRecordKey(plan(['id'], ['integer']), '42')).toEqual(['42']);
    expect(parseRecordKey(plan(['code'], ['text']), 'a,b')).toEqual(['a,b']);
    expect(parseRecordKey(plan(['person_id', 'tag'], ['integer', 'text']), '7,golf')).toEqual(['7', 'golf']);
  });

  it('explains a key with the wrong number of parts or a non-number for an integer column', () => {
    expect(() => parseRecordKey(plan(['person_id', 'tag'], ['integer', 'text']), '7')).toThrow(
      'record key "7" of things needs 2 parts (person_id, tag), separated by commas',
    );
    expect(() => parseRecordKey(plan(['id'], ['integer']), '4x')).toThrow('record key "4x": id of things is a whole number, got "4x"');
  });

  it('splits --record ENTITY/KEY at the first slash', () => {
    expect(parseRecordOption('people/42')).toEqual({ entity: 'people', key: '42' });
    expect(parseRecordOption('files/a/b')).toEqual({ entity: 'files', key: 'a/b' });
    for (const bad of ['people', '/42', 'people/']) expect(() => parseRecordOption(bad)).toThrow('--record takes ENTITY/KEY');
  });
});
