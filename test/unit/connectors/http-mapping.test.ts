import { describe, expect, it } from 'vitest';
import { getPointer, setPointer } from '../../../src/connectors/http/json-pointer.js';
import { nextLink } from '../../../src/connectors/http/pagination.js';
import { resolveResource } from '../../../src/connectors/http/resource.js';
import { filterValue } from '../../../src/connectors/http/cursor.js';
import { storedText, toJson, toText, ValueError } from '../../../src/connectors/http/values.js';

describe('JSON pointers', () => {
  it('read nested members, array items and escaped names; missing steps are undefined', () => {
    const doc = { title: { raw: 'A' }, tags: ['x', 'y'], 'a/b': { '~k': 1 } };
    expect(getPointer(doc, '/title/raw')).toBe('A');
    expect(getPointer(doc, '/tags/1')).toBe('y');
    expect(getPointer(doc, '/a~1b/~0k')).toBe(1);
    expect(getPointer(doc, '')).toBe(doc);
    expect(getPointer(doc, '/meta/x')).toBeUndefined();
  });

  it('write nested members, creating objects and arrays on the way', () => {
    const body: Record<string, unknown> = {};
    setPointer(body, '/meta/capacity', 5);
    setPointer(body, '/title', 'T');
    setPointer(body, '/tags/0', 'x');
    expect(body).toEqual({ meta: { capacity: 5 }, title: 'T', tags: ['x'] });
  });
});

describe('field values', () => {
  it('timestamps: any common form, no offset means UTC, read back in one form', () => {
    expect(toText('2026-03-01T10:00:00', 'timestamp')).toBe('2026-03-01T10:00:00Z');
    expect(toJson('2026-03-01 11:00:00+01', 'timestamp')).toBe('2026-03-01T10:00:00Z');
    expect(storedText('2026-03-01 10:00:00.250+00', 'timestamp')).toBe('2026-03-01T10:00:00.250Z');
  });

  it('numbers and booleans as the API holds them; a value the type cannot hold is a ValueError', () => {
    expect(storedText('25.00', 'number')).toBe('25');
    expect(toJson('t', 'boolean')).toBe(true);
    expect(toJson('12', 'integer')).toBe(12);
    expect(() => toJson('twelve', 'integer')).toThrow(ValueError);
    expect(() => toJson('{', 'json')).toThrow(ValueError);
    expect(toText({ a: [1] }, 'json')).toBe('{"a":[1]}');
  });

  it('an exclusive whole-second filter starts one second before the watermark', () => {
    expect(filterValue({ cursor: '2026-03-01 10:00:05.4+00', key: ['1'] }, 'timestamp', 'Exclusive')).toBe('2026-03-01T10:00:04Z');
    expect(filterValue({ cursor: '2026-03-01T10:00:05Z', key: ['1'] }, 'timestamp', 'Inclusive')).toBe('2026-03-01T10:00:05Z');
  });
});

describe('pagination', () => {
  it('follows RFC 8288 rel="next" among several links', () => {
    expect(nextLink('<https://api.example/items?page=1>; rel="prev", <https://api.example/items?page=3>; rel="next"')).toBe('https://api.example/items?page=3');
    expect(nextLink('<https://api.example/items?page=3>; rel="last"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe('resources', () => {
  const endpoint = { baseUrl: 'https://example.org/wp-json', profile: 'wordpress' as const };

  it('a custom post type takes the profile\'s post shape under its own rest_base, with the site\'s meta added', () => {
    const r = resolveResource(endpoint, { profile: 'ferry_event', fields: [{ name: 'capacity', pointer: '/meta/capacity', type: 'integer' }] }, 'ferry_event', 'spec.entities[0].target.resource');
    expect(r.list.path).toBe('/wp/v2/ferry_event');
    expect(r.update?.path).toBe('/wp/v2/ferry_event/{key}');
    expect(r.delete?.query).toEqual([['force', 'true']]);
    expect(r.incremental).toEqual({ query: [['modified_after', '{cursor}']], boundary: 'Exclusive' });
    expect(r.fields.get('title')?.pointer).toBe('/title/raw');
    expect(r.fields.get('capacity')).toMatchObject({ pointer: '/meta/capacity', type: 'integer' });
  });

  it("gives a site's meta fields the profile's unset value by type, unless the field names its own", () => {
    const endpoint = { baseUrl: 'https://x', profile: 'wordpress' as const };
    const r = resolveResource(
      endpoint,
      {
        profile: 'ferry_event',
        fields: [
          { name: 'capacity', pointer: '/meta/capacity', type: 'integer' },
          { name: 'venue', pointer: '/meta/venue' },
          { name: 'start', pointer: '/meta/start', type: 'timestamp' },
          { name: 'level', pointer: '/meta/level', unsetValue: 'none' },
          { name: 'blob', pointer: '/meta/blob', type: 'json' },
          { name: 'other', pointer: '/acf/other' },
        ],
      },
      'ferry_event',
      'spec.entities[0].target.resource',
    );
    const unset = (name: string) => r.fields.get(name)?.unsetValue;
    expect([unset('capacity'), unset('venue'), unset('start'), unset('level'), unset('blob'), unset('other')]).toEqual(['0', '', '', 'none', undefined, undefined]);
  });

  it('names the field path when the profile is missing or a resource has no list', () => {
    expect(() => resolveResource({ baseUrl: 'https://x' }, { profile: 'posts' }, 'posts', 'spec.entities[1].source.resource')).toThrow(/spec\.entities\[1\]\.source\.resource\.profile/);
    expect(() => resolveResource({ baseUrl: 'https://x' }, {}, 'things', 'spec.entities[0].target.resource')).toThrow(/spec\.entities\[0\]\.target\.resource\.list: required/);
  });
});
