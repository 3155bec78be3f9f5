import { describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';

const flow = (target: object, entity: object = {}) =>
  ({
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'site' },
    spec: {
      direction: 'OneWay',
      source: { postgres: { secretRef: { name: 'db' } } },
      target,
      entities: [
        {
          name: 'events',
          source: { table: 'events', keys: ['id'] },
          target: { table: 'ferry_event', keys: ['id'], resource: { profile: 'ferry_event' } },
          fields: [{ source: 'title', target: 'title' }],
          match: [{ source: 'code', target: 'event_code' }],
          ...entity,
        },
      ],
    },
  }) as unknown as SyncFlow;

const wordpress = { http: { baseUrl: 'https://example.org/wp-json', profile: 'wordpress', auth: { type: 'Basic', secretRef: { name: 'wp' } } } };
const summary = (f: SyncFlow) => validateSyncFlow(f).map((e) => `${e.path}: ${e.message}`);

describe('http systems in a SyncFlow', () => {
  it('accepts an http target with a profile resource and match fields', () => {
    expect(summary(flow(wordpress))).toEqual([]);
  });

  it('wants match fields where Ferry creates records through an API, naming spec.entities[i].match', () => {
    expect(summary(flow(wordpress, { match: undefined }))).toEqual([
      'spec.entities[0].match: required: Ferry creates target records through the API, and a create whose response is lost is found again by its match fields, so it is never created twice (or name the API\'s idempotency-key header in resource.create.idempotencyKeyHeader)',
    ]);
  });

  it('needs no match fields when the create endpoint names an idempotency-key header', () => {
    const api = { http: { baseUrl: 'https://api.example' } };
    const resource = (create: object) => ({ target: { table: 'records', keys: ['id'], resource: { list: { path: '/records' }, create } } });
    expect(summary(flow(api, { match: undefined, ...resource({ path: '/records', idempotencyKeyHeader: 'Idempotency-Key' }) }))).toEqual([]);
    expect(summary(flow(api, { match: undefined, ...resource({ path: '/records' }) }))[0]).toMatch(/^spec\.entities\[0\]\.match: required/);
  });

  it('still wants match fields in a two-way flow, where the API side is read as well', () => {
    const api = { http: { baseUrl: 'https://api.example' } };
    const twoWay = flow(api, {
      match: undefined,
      target: { table: 'records', keys: ['id'], resource: { list: { path: '/records' }, create: { path: '/records', idempotencyKeyHeader: 'Idempotency-Key' } } },
    });
    (twoWay.spec as { direction: string }).direction = 'TwoWay';
    expect(summary(twoWay)).toContain(
      'spec.entities[0].match: required: Ferry creates target records through the API, and a create whose response is lost is found again by its match fields, so it is never created twice, also with resource.create.idempotencyKeyHeader in a two-way flow',
    );
  });

  it('a resource only on an http side, and always there', () => {
    expect(summary(flow({ postgres: { secretRef: { name: 'crm' } } }))).toEqual(['spec.entities[0].target.resource: only used when spec.target is http']);
    const withoutResource = flow(wordpress, { target: { table: 'ferry_event', keys: ['id'] } });
    expect(summary(withoutResource)[0]).toMatch(/^spec\.entities\[0\]\.target\.resource: required/);
  });

  it('names auth settings that do not fit the auth type', () => {
    const apiKey = { http: { baseUrl: 'https://api.example', auth: { type: 'ApiKey', secretRef: { name: 'k' } } } };
    expect(summary(flow(apiKey, { target: { table: 't', keys: ['id'], resource: { list: { path: '/t' } } } }))).toContain('spec.target.http.auth.apiKey: required when type is ApiKey');
  });
});
