/** The synchronization window counts pairs per entity (from the last run's report), not only per flow. */
import { describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { windowPage, type WindowInput } from '../../../src/console/pages/window.js';

const flow = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncFlow',
  metadata: { name: 'church', namespace: 'crm' },
  spec: { direction: 'TwoWay', entities: [{ name: 'people' }, { name: 'groups' }] },
  status: { categories: { conflict: 5, new: 7, synchronised: 100 } },
} as unknown as SyncFlow;

const base: WindowInput = {
  flow,
  namespace: 'crm',
  entity: '',
  category: 'conflict',
  search: '',
  pairs: [],
  access: { startRuns: false, editFlows: false, download: false },
  csrf: 't',
  entityCounts: { runId: 'church-run-7', entities: new Map([['people', { conflict: 4, new: 2, synchronised: 60 }], ['groups', { conflict: 1, new: 5, synchronised: 40 }]]) },
};
const tab = (text: string, category: string) => new RegExp(`>${category} <strong>([\\d,]+)</strong>`).exec(text)?.[1];

describe('category counts in the synchronization window', () => {
  it("with an entity chosen, the tabs count that entity's pairs, and say so", () => {
    const text = windowPage({ ...base, entity: 'groups' }).text;
    expect([tab(text, 'conflict'), tab(text, 'new'), tab(text, 'synchronised')]).toEqual(['1', '5', '40']);
    expect(text).toContain('Counts for groups, as of run church-run-7.');
  });

  it("for the whole flow, the flow's counts and a table per entity linking to each list", () => {
    const text = windowPage(base).text;
    expect([tab(text, 'conflict'), tab(text, 'new')]).toEqual(['5', '7']);
    expect(text).toContain('<caption>Pairs per entity, as of run church-run-7</caption>');
    expect(text).toContain('<a href="/flows/church/window?ns=crm&#38;category=new&#38;entity=people">2</a>');
  });

  it('without a finished run the flow-wide counts stay, labelled as such', () => {
    const text = windowPage({ ...base, entity: 'people', entityCounts: undefined }).text;
    expect(tab(text, 'conflict')).toBe('5');
    expect(text).toContain('Counts for the whole flow (no finished run has counted this entity yet).');
  });
});
