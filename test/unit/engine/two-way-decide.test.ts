import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/api/entity.js';
import { ACTION_CONDITIONS, conditionsAllow, rowMeetsConditions } from '../../../src/engine/conditions.js';
import { decide, type Candidate, type DecideOptions } from '../../../src/engine/two-way/decide.js';
import type { Pair, SideRow } from '../../../src/engine/two-way/types.js';

const row = (key: string, values: (string | null)[], o: Partial<SideRow> = {}): SideRow => ({
  key,
  keyParts: [key],
  cursor: null,
  modifiedAt: 0,
  hash: values.join('|'),
  inScope: true,
  archived: false,
  raw: values,
  out: values,
  match: [],
  ...o,
});
const pair = (o: Partial<Pair> = {}): Pair => ({
  sourceKey: 's',
  targetKey: 't',
  sourceHash: 'a|b',
  targetHash: 'a|b',
  sourceCursor: null,
  targetCursor: null,
  lastOrigin: 'source',
  lastSyncedAt: new Date(0),
  category: 'synchronised',
  sourceGone: false,
  targetGone: false,
  heldUntil: null,
  ...o,
});
const options = (actions: Action[], o: Partial<DecideOptions> = {}): DecideOptions => ({
  actions: new Set(actions),
  policy: 'NewerWins',
  fieldPolicies: [],
  hasArchive: { source: true, target: true },
  windowSeconds: 0,
  now: 10_000,
  ...o,
});

describe('conditions (seed 002)', () => {
  const married = [
    { field: 'status', operator: 'In' as const, values: ['Member', 'Friend'] },
    { field: 'family', operator: 'In' as const, values: ['Married'] },
  ];
  it.each([
    { row: { status: 'Member', family: 'Married' }, meets: true, why: 'both fields match (AND)' },
    { row: { status: 'Friend', family: 'Married' }, meets: true, why: 'another listed value of status (OR)' },
    { row: { status: 'Member', family: 'Single' }, meets: false, why: 'one field fails' },
    { row: { status: 'Lapsed', family: 'Married' }, meets: false, why: 'value not listed' },
    { row: { status: null, family: 'Married' }, meets: false, why: 'null never matches In' },
  ])('married Members or Friends: $why', ({ row: r, meets }) => expect(rowMeetsConditions(married, r)).toBe(meets));

  it('no conditions means every row', () => expect(rowMeetsConditions([], { status: null })).toBe(true));
  it('NotIn keeps nulls, IsNull and NotNull test presence', () => {
    expect(rowMeetsConditions([{ field: 'a', operator: 'NotIn', values: ['x'] }], { a: null })).toBe(true);
    expect(rowMeetsConditions([{ field: 'a', operator: 'NotIn', values: ['x'] }], { a: 'x' })).toBe(false);
    expect(rowMeetsConditions([{ field: 'a', operator: 'IsNull', values: [] }], { a: null })).toBe(true);
    expect(rowMeetsConditions([{ field: 'a', operator: 'NotNull', values: [] }], { a: null })).toBe(false);
  });

  it.each([
    { value: '{"150: Members","300: Choir"}', condition: {}, meets: true, why: 'a PostgreSQL array holding the value' },
    { value: '["150: Members old", 150]', condition: {}, meets: false, why: 'a JSON array holding a longer item only' },
    { value: '[150]', condition: { values: ['150'] }, meets: true, why: 'a number in a JSON array, by its text' },
    { value: ' 300: Choir , 150: Members ', condition: { separator: ',' }, meets: true, why: 'delimited text, items trimmed' },
    { value: '1500: Members,300: Choir', condition: { separator: ',' }, meets: false, why: 'delimited text with a longer item only' },
    { value: null, condition: {}, meets: false, why: 'null contains nothing' },
  ])('Contains: $why', ({ value, condition, meets }) => {
    const contains = { field: 'cats', operator: 'Contains' as const, values: ['150: Members', '151: Honorary'], ...condition };
    expect(rowMeetsConditions([contains], { cats: value })).toBe(meets);
  });

  it.each([
    ['createInTarget', { source: true, target: false }, true],
    ['createInTarget', { source: false, target: true }, false],
    ['createInSource', { source: true, target: false }, false],
    ['createInSource', { source: false, target: true }, true],
    ['updateNewerWins', { source: false, target: true }, true],
    ['updateSource', { source: true, target: false }, true],
    ['updateTarget', { source: false, target: false }, false],
    ['archiveInSource', { source: true, target: false }, true],
    ['deleteInSource', { source: false, target: true }, false],
    ['archiveInTarget', { source: true, target: false }, false],
    ['deleteInTarget', { source: false, target: true }, true],
    ['link', { source: true }, true],
    ['link', { target: false }, false],
  ] as const)('%s checks the seed’s side(s): %o -> %s', (action, scope, allowed) => {
    expect(conditionsAllow(action, scope)).toBe(allowed);
  });
  it('every action has a rule', () => expect(Object.keys(ACTION_CONDITIONS)).toHaveLength(10));
});

describe('decide', () => {
  const S = (values: (string | null)[], o: Partial<SideRow> = {}) => row('s', values, o);
  const T = (values: (string | null)[], o: Partial<SideRow> = {}) => row('t', values, o);
  const cases: { name: string; candidate: Candidate; options: DecideOptions; expect: Record<string, unknown> }[] = [
    { name: 'unchanged pair', candidate: { source: S(['a', 'b']), target: T(['a', 'b']), pair: pair() }, options: options(['updateNewerWins']), expect: { outcome: 'unchanged', category: 'synchronised' } },
    {
      name: 'source changed: target written',
      candidate: { source: S(['x', 'b']), target: T(['a', 'b']), pair: pair() },
      options: options(['updateNewerWins']),
      expect: { outcome: 'updated', write: new Set(['target']), origin: 'source' },
    },
    {
      name: 'target changed but only updateTarget enabled: skipped',
      candidate: { source: S(['a', 'b']), target: T(['a', 'y']), pair: pair() },
      options: options(['updateTarget']),
      expect: { outcome: 'skipped', pair: 'keep' },
    },
    {
      name: 'both changed, Manual: conflict keeping the old hashes',
      candidate: { source: S(['x', 'b']), target: T(['y', 'b']), pair: pair() },
      options: options(['updateNewerWins'], { policy: 'Manual' }),
      expect: { outcome: 'conflict', category: 'conflict', keepHashes: true },
    },
    {
      name: 'both changed, NewerWins: the newer side',
      candidate: { source: S(['x', 'b'], { modifiedAt: 5 }), target: T(['y', 'b'], { modifiedAt: 7 }), pair: pair() },
      options: options(['updateNewerWins']),
      expect: { outcome: 'updated', write: new Set(['source']) },
    },
    {
      name: 'both changed to the same values: no write, hashes remembered',
      candidate: { source: S(['x', 'b']), target: T(['x', 'b']), pair: pair() },
      options: options(['updateNewerWins'], { policy: 'Manual' }),
      expect: { outcome: 'unchanged', pair: 'save', write: new Set() },
    },
    {
      name: 'reverse direction inside the window: held back until the window ends',
      candidate: { source: S(['a', 'b']), target: T(['a', 'y']), pair: pair({ lastOrigin: 'source', lastSyncedAt: new Date(9_000) }) },
      options: options(['updateNewerWins'], { windowSeconds: 3600 }),
      expect: { outcome: 'blocked', heldUntil: new Date(9_000 + 3_600_000) },
    },
    {
      name: 'same direction inside the window: flows',
      candidate: { source: S(['x', 'b']), target: T(['a', 'b']), pair: pair({ lastOrigin: 'source', lastSyncedAt: new Date(9_000) }) },
      options: options(['updateNewerWins'], { windowSeconds: 3600 }),
      expect: { outcome: 'updated' },
    },
    {
      name: 'deactivated pair is left alone',
      candidate: { source: S(['x', 'b']), target: T(['a', 'b']), pair: pair({ category: 'deactivated' }) },
      options: options(['updateNewerWins']),
      expect: { outcome: 'deactivated', pair: 'keep' },
    },
    {
      name: 'unpaired source row outside its conditions: new, not exported',
      candidate: { source: S(['a', 'b'], { inScope: false }) },
      options: options(['createInTarget']),
      expect: { outcome: 'unpaired', category: 'new' },
    },
    {
      name: 'unpaired target row with a duplicate in the source: not imported',
      candidate: { target: T(['a', 'b']), duplicateOf: 'x' },
      options: options(['createInSource']),
      expect: { outcome: 'duplicate' },
    },
    {
      name: 'partner gone, own row fails its conditions: kept, category deleted',
      candidate: { source: S(['a', 'b'], { inScope: false }), pair: pair() },
      options: options(['archiveInSource']),
      expect: { outcome: 'partnerGone', category: 'deleted' },
    },
    {
      name: 'Resolve KeepTarget for one field leaves the rest unresolved',
      candidate: { source: S(['x', 'b']), target: T(['y', 'c']), pair: pair({ category: 'conflict' }) },
      options: options([], { keep: { side: 'target', fields: new Set([0]) } }),
      expect: { outcome: 'updated', write: new Set(['source']), unresolved: [1], category: 'conflict' },
    },
  ];
  it.each(cases)('$name', ({ candidate, options: o, expect: e }) => expect(decide(candidate, o)).toMatchObject(e));
});

describe('inactive pairs (seed 003)', () => {
  const all: Action[] = ['link', 'updateNewerWins', 'archiveInTarget'];
  it('a change to a pair with an archived row is held back, keeping the old hashes', () => {
    const d = decide({ pair: pair(), source: row('s', ['a', 'new']), target: row('t', ['a', 'b'], { archived: true }) }, options(all));
    expect(d).toMatchObject({ outcome: 'inactive', category: 'inactive', pair: 'save', keepHashes: true });
    expect(d.write.size).toBe(0);
  });
  it('stays held (pair untouched) while it is inactive', () => {
    const d = decide({ pair: pair({ category: 'inactive' }), source: row('s', ['a', 'new'], { archived: true }), target: row('t', ['a', 'b']) }, options(all));
    expect(d).toMatchObject({ outcome: 'inactive', pair: 'keep' });
  });
  it('once active again on both sides the newest values sync', () => {
    const d = decide({ pair: pair({ category: 'inactive' }), source: row('s', ['a', 'new']), target: row('t', ['a', 'b']) }, options(all));
    expect(d).toMatchObject({ outcome: 'updated', category: 'synchronised' });
    expect([...d.write]).toEqual(['target']);
  });
});

describe('a read-only side (files): nothing is ever planned there, whatever the actions say', () => {
  const all: Action[] = ['link', 'createInSource', 'createInTarget', 'updateNewerWins', 'updateSource', 'updateTarget', 'archiveInSource', 'deleteInSource', 'archiveInTarget', 'deleteInTarget'];
  const readOnly = (o: Partial<DecideOptions> = {}) => options(all, { readOnly: 'source', ...o });
  const writesSource = (d: ReturnType<typeof decide>) => d.write.has('source') || d.create === 'source' || d.archive === 'source' || d.remove === 'source';

  it('a database-only record stays unpaired (category new), not created in the files', () => {
    const d = decide({ target: row('t', ['a', 'b']) }, readOnly());
    expect(d).toMatchObject({ outcome: 'unpaired', category: 'new', pair: 'keep' });
    expect(writesSource(d)).toBe(false);
  });

  it('a record gone from the database is not archived or deleted in the files', () => {
    const d = decide({ pair: pair(), source: row('s', ['a', 'b']) }, readOnly());
    expect(d).toMatchObject({ outcome: 'partnerGone', category: 'deleted' });
    expect(writesSource(d)).toBe(false);
  });

  it('a record gone from the files follows the database side action', () => {
    expect(decide({ pair: pair(), target: row('t', ['a', 'b']) }, readOnly())).toMatchObject({ outcome: 'archived', archive: 'target' });
  });

  it('a database change of a paired record is left alone; a file change goes to the database', () => {
    const dbChange = decide({ pair: pair(), source: row('s', ['a', 'b']), target: row('t', ['a', 'db']) }, readOnly());
    expect(dbChange).toMatchObject({ outcome: 'skipped', pair: 'keep' });
    const fileChange = decide({ pair: pair(), source: row('s', ['a', 'file']), target: row('t', ['a', 'b']) }, readOnly());
    expect([...fileChange.write]).toEqual(['target']);
  });

  it('a conflict the policy would give to the database, or a newer database value, never writes the files', () => {
    for (const policy of ['TargetWins', 'NewerWins'] as const) {
      const d = decide(
        { pair: pair(), source: row('s', ['a', 'file'], { modifiedAt: 1 }), target: row('t', ['a', 'db'], { modifiedAt: 2 }) },
        readOnly({ policy }),
      );
      expect(writesSource(d)).toBe(false);
    }
    const linked = decide({ linked: true, source: row('s', ['a', 'file']), target: row('t', ['a', 'db']) }, readOnly({ policy: 'TargetWins' }));
    expect(writesSource(linked)).toBe(false);
    expect(decide({ pair: pair(), source: row('s', ['a', 'x']), target: row('t', ['a', 'y']) }, readOnly({ keep: { side: 'target' } })).write.size).toBe(0);
  });
});
