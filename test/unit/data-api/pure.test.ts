import { describe, expect, it } from 'vitest';
import { requestHeaderConfigFrom } from '../../../src/data-api/delegation.js';
import { apiResourceList } from '../../../src/data-api/discovery.js';
import { displayKey, keySegment, pairName, parsePairName, storedKeysOf } from '../../../src/data-api/names.js';
import { MASK, toPair } from '../../../src/data-api/objects.js';
import { BadRequest, decodeContinue, encodeContinue, listFilters, pageLimit } from '../../../src/data-api/selectors.js';
import { subjectAccessReview } from '../../../src/data-api/authz.js';
import { withAuthenticatedGroup } from '../../../src/data-api/authn.js';
import { age, toTable, wantsTable } from '../../../src/data-api/table.js';
import { isSensitive, sensitivityOf } from '../../../src/data-api/sensitivity.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';

describe('pair names', () => {
  it('show integer and safe text keys as they read, anything else as ~base64url, and parse back', () => {
    const cases: [string, string][] = [
      ['p0000000000000000042', '42'],
      ['n9223372036854775807', '-1'],
      ['ab-12', 'ab-12'],
      ['a b', '~YSBi'],
      ['3.14', '~My4xNA'],
      ['p0000000000000000001\u0001chess', '~cDAwMDAwMDAwMDAwMDAwMDAwMDEBY2hlc3M'],
    ];
    for (const [stored, segment] of cases) {
      expect(keySegment(stored)).toBe(segment);
      expect(storedKeysOf(segment)).toContain(stored);
    }
    expect(displayKey('p0000000000000000001\u0001chess')).toBe('1,chess');
    const name = pairName('crm.sync', 'people', 'p0000000000000000042');
    expect(name).toBe('crm.sync.people.42');
    expect(parsePairName(name)).toEqual({ flowName: 'crm.sync', entity: 'people', segment: '42' });
    expect(parsePairName('nodots')).toBeUndefined();
  });
});

describe('filters and paging', () => {
  const fields = { flow: ['spec.flow'], category: [] };

  it('reads query parameters and field selectors, which must agree', () => {
    expect(listFilters(new URLSearchParams('fieldSelector=category%3Dconflict,spec.flow==crm'), fields)).toEqual({ category: 'conflict', flow: 'crm' });
    expect(listFilters(new URLSearchParams('flow=crm&fieldSelector=flow%3Dcrm'), fields)).toEqual({ flow: 'crm' });
    expect(() => listFilters(new URLSearchParams('flow=a&fieldSelector=flow%3Db'), fields)).toThrow(/conflicting values for flow/);
    expect(() => listFilters(new URLSearchParams('fieldSelector=color%3Dred'), fields)).toThrow(/field label not supported: color/);
    expect(() => listFilters(new URLSearchParams('fieldSelector=category!%3Dnew'), fields)).toThrow(BadRequest);
  });

  it('caps page sizes and ties continue tokens to their request', () => {
    expect(pageLimit(new URLSearchParams('limit=20'))).toBe(20);
    expect(pageLimit(new URLSearchParams(''))).toBe(500);
    expect(pageLimit(new URLSearchParams('limit=100000'))).toBe(1000);
    expect(() => pageLimit(new URLSearchParams('limit=-1'))).toThrow(BadRequest);
    const token = encodeContinue('pairs', { flow: 'crm' }, { sourceKey: 'p1' });
    expect(decodeContinue(token, 'pairs', { flow: 'crm' })).toEqual({ sourceKey: 'p1' });
    expect(() => decodeContinue(token, 'pairs', { flow: 'other' })).toThrow(/different list request/);
    expect(() => decodeContinue('%%%', 'pairs', {})).toThrow(/invalid continue token/);
  });
});

describe('server-side printing', () => {
  it('recognises kubectl get\'s Accept header and builds a Table', () => {
    expect(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).toBe(true);
    expect(wantsTable('application/json')).toBe(false);
    const now = new Date('2026-01-02T00:00:00Z');
    expect(age('2026-01-01T23:59:15Z', now)).toBe('45s');
    expect(age('2026-01-01T21:00:00Z', now)).toBe('3h');
    expect(age('2025-12-30T22:00:00Z', now)).toBe('2d2h');
    const table = toTable([{ name: 'Name', type: 'string', description: 'n', cell: (i: { metadata: { name: string; namespace: string } }) => i.metadata.name }], [{ metadata: { name: 'a', namespace: 'ns' } }], { includeObject: 'Metadata', continueToken: 'c', now });
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { continue: 'c' }, rows: [{ cells: ['a'], object: { kind: 'PartialObjectMetadata', metadata: { name: 'a' } } }] });
  });
});

describe('delegation', () => {
  it('reads the front-proxy settings the API server publishes', () => {
    const config = requestHeaderConfigFrom({
      'requestheader-client-ca-file': '-----BEGIN CERTIFICATE-----',
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    });
    expect(config).toMatchObject({ allowedNames: ['front-proxy-client'], usernameHeaders: ['x-remote-user'], groupHeaders: ['x-remote-group'], extraHeaderPrefixes: ['x-remote-extra-'] });
    expect(() => requestHeaderConfigFrom({})).toThrow(/requestheader-client-ca-file/);
  });

  it('asks the API server about the user it authenticated, with the subresource', () => {
    expect(
      subjectAccessReview({ name: 'alice', groups: ['devs'], extra: {} }, { kind: 'resource', verb: 'get', group: 'data.ferry.dev', version: 'v1alpha1', resource: 'exportfiles', subresource: 'download', namespace: 'crm', name: 'f1' }).spec,
    ).toEqual({ user: 'alice', groups: ['devs'], extra: {}, resourceAttributes: { verb: 'get', group: 'data.ferry.dev', version: 'v1alpha1', resource: 'exportfiles', subresource: 'download', namespace: 'crm', name: 'f1' } });
  });

  it('puts every authenticated user in system:authenticated, as kube does (the aggregator fetches /openapi/v2 with no groups)', () => {
    expect(withAuthenticatedGroup({ name: 'system:aggregator', groups: [], extra: {} }).groups).toEqual(['system:authenticated']);
    expect(withAuthenticatedGroup({ name: 'alice', groups: ['devs', 'system:authenticated'], extra: {} }).groups).toEqual(['devs', 'system:authenticated']);
    expect(withAuthenticatedGroup({ name: 'system:anonymous', groups: ['system:unauthenticated'], extra: {} }).groups).toEqual(['system:unauthenticated']);
  });

  it('lists every resource and the subresources RBAC rules name', () => {
    expect(apiResourceList().resources.map((r) => `${r.name}:${r.verbs.join(',')}`)).toEqual([
      'pairs:get,list,watch', 'pairs/unmasked:get', 'runs:get,list,watch', 'runs/report:get', 'exportfiles:get,list,watch', 'exportfiles/download:get', 'sourcefiles:get,list,watch',
    ]);
  });
});

describe('masking', () => {
  it('masks the values of the fields a flow marks sensitive, and everything of a flow it cannot read', () => {
    const record = { flow: 'crm/members', entity: 'people', sourceKey: 'p0000000000000000007', targetKey: 'p0000000000000005007', category: 'conflict', lastOrigin: 'source', lastSyncedAt: new Date(0), sourceGoneAt: null, targetGoneAt: null };
    const field = { field: 'iban', targetField: 'account_iban', sourceValue: 'DE001', targetValue: null, sourceChangedAt: null, targetChangedAt: null, sensitive: false, runId: 'r', detectedAt: new Date(0) };
    expect(toPair(record, [field], () => true).conflict?.fields[0]).toEqual({ field: 'iban', targetField: 'account_iban', sourceValue: MASK, targetValue: null, masked: true });
    expect(toPair(record, [field], () => false).conflict?.fields[0]).toMatchObject({ sourceValue: 'DE001' });
    expect(toPair(record, [field], () => false).metadata).toEqual({ name: 'members.people.7', namespace: 'crm', creationTimestamp: '1970-01-01T00:00:00.000Z' });

    const flow = { spec: { entities: [{ name: 'people', fields: [{ source: 'iban', target: 'account_iban', sensitive: true }, { source: 'email', target: 'mail' }] }] } } as unknown as Pick<SyncFlow, 'spec'>;
    const sensitivity = sensitivityOf(flow);
    expect(isSensitive(sensitivity, 'people', 'iban', 'account_iban')).toBe(true);
    expect(isSensitive(sensitivity, 'people', 'email', 'mail')).toBe(false);
    expect(isSensitive(sensitivity, 'firms', 'iban', 'account_iban')).toBe(false);
    expect(isSensitive({ known: false, fields: new Map() }, 'people', 'email', 'mail')).toBe(true);
  });
});

describe('run report subresource', () => {
  it('renders text and escaped HTML with the rejected rows', async () => {
    const { reportHtml, reportText, reportFormat } = await import('../../../src/data-api/report.js');
    const doc = {
      apiVersion: 'data.ferry.dev/v1alpha1' as const,
      kind: 'RunReport' as const,
      metadata: { name: 'run-1', namespace: 'crm' },
      rejectedRows: [{ entity: 'people', key: '7', reason: 'value too long for <varchar(20)>', detail: null, at: '2026-01-01T00:00:00.000Z' }],
      continue: '41',
    };
    expect(reportText(doc)).toContain('people 7: value too long for <varchar(20)>');
    expect(reportText(doc)).toContain('?continue=41');
    expect(reportHtml(doc)).toContain('value too long for &lt;varchar(20)&gt;');
    expect(reportHtml(doc)).not.toContain('<varchar');
    expect(reportFormat(null)).toBe('json');
    expect(reportFormat('pdf')).toBeUndefined();
  });

  it('heads text and HTML with the same run summary as the e-mail, -o html and the console', async () => {
    const { reportHtml, reportText } = await import('../../../src/data-api/report.js');
    const { renderRunSummary } = await import('../../../src/report/run-summary.js');
    const { partialRejectsReport } = await import('../../helpers/run-reports.js');
    const report = partialRejectsReport();
    const doc = { apiVersion: 'data.ferry.dev/v1alpha1' as const, kind: 'RunReport' as const, metadata: { name: report.runId, namespace: 'crm' }, report, rejectedRows: [] };
    const summary = renderRunSummary(report);
    expect(reportHtml(doc)).toContain(summary.toHtml());
    expect(reportHtml(doc)).not.toMatch(/<script|<link|<style/);
    expect(reportText(doc).startsWith(summary.toText())).toBe(true);
    expect(reportText(doc)).toContain(summary.summary.headline);
  });
});
