import { TableClass } from '../util/on-demand.js';
import type { PairCategory, SyncFlowSpec } from '../api/syncflow.js';
import { PAIR_CATEGORIES } from '../api/syncflow.js';
import { suggestionLabel, toUnpairedPair } from '../data-api/objects.js';
import { StateConnection } from '../store/state-connection.js';
import { categoryCounts } from '../store/two-way-pairs.js';
import { listUnpaired, type UnpairedPosition } from '../store/unpaired-records.js';
import { ConfigError } from '../util/errors.js';

/** A record of category `new` as `ferry pairs --category new` shows it: the same view the data API serves. */
export interface NewRecordListing {
  entity: string;
  side: 'source' | 'target';
  key: string;
  reason: string;
  inScope: boolean;
  seenAt: string;
  suggestions: { key: string; agreeing: { source: string; target: string }[] }[];
}

export interface NewRecordPage {
  records: NewRecordListing[];
  /** Pass as `--continue` for the next page; absent on the last page. */
  continue?: string;
  /** Records per category and entity, the numbers run reports and SyncFlow.status show. */
  categories: Record<string, Partial<Record<PairCategory, number>>>;
}

export function encodeContinue(position: UnpairedPosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeContinue(token: string): UnpairedPosition {
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (['flow', 'entity', 'side', 'key'].every((k) => typeof p[k] === 'string') && (p.side === 'source' || p.side === 'target')) return p as unknown as UnpairedPosition;
  } catch {
    // reported below
  }
  throw new ConfigError('--continue: not a token printed by ferry pairs');
}

/** One page of the unpaired records of a flow (read from the state DB, kept current by runs; no scan of either system). */
export async function listNewRecords(
  stateUrl: string,
  flowId: string,
  spec: SyncFlowSpec,
  options: { entity?: string; limit: number; continue?: string },
): Promise<NewRecordPage> {
  const state = await StateConnection.open(stateUrl);
  try {
    const after = options.continue ? decodeContinue(options.continue) : undefined;
    const rows = await listUnpaired(state.client, { flow: flowId, entity: options.entity, after, limit: options.limit + 1 });
    const shown = rows.slice(0, options.limit);
    const match = new Map(spec.entities.map((e) => [e.name, (e.match ?? []).map((m) => ({ source: m.source, target: m.target }))]));
    const records = shown.map((r) => {
      const pair = toUnpairedPair(r, match.get(r.entity));
      const view = pair.unpaired!;
      return { entity: r.entity, side: view.side, key: pair.sourceKey || pair.targetKey, reason: view.reason, inScope: view.inScope, seenAt: pair.lastSyncedAt, suggestions: view.suggestions };
    });
    const last = shown[shown.length - 1];
    return {
      records,
      ...(rows.length > options.limit && last ? { continue: encodeContinue({ flow: last.flow, entity: last.entity, side: last.side, key: last.key }) } : {}),
      categories: await entityCategories(state, flowId, options.entity),
    };
  } finally {
    await state.close();
  }
}

async function entityCategories(state: StateConnection, flowId: string, entity: string | undefined): Promise<NewRecordPage['categories']> {
  const counts = await categoryCounts(state.client, flowId);
  return Object.fromEntries([...counts].filter(([name]) => !entity || name === entity));
}

/** The pairs per category of each entity (of one entity), as every run report counts them: the footer of `ferry pairs`. */
export async function flowCategories(stateUrl: string, flowId: string, entity?: string): Promise<NewRecordPage['categories']> {
  const state = await StateConnection.open(stateUrl);
  try {
    return await entityCategories(state, flowId, entity);
  } finally {
    await state.close();
  }
}

/** `people: 0 conflict · 3 new · ...`, one line per entity, every category. */
export function categorySummary(categories: NewRecordPage['categories']): string {
  return Object.entries(categories)
    .map(([entity, counts]) => `${entity}: ${PAIR_CATEGORIES.map((c) => `${counts[c] ?? 0} ${c}`).join(' · ')}`)
    .join('\n');
}

export function renderNewRecords(page: NewRecordPage): string {
  const parts: string[] = [];
  if (page.records.length === 0) parts.push('no unpaired records');
  else {
    const Table = TableClass();
    const table = new Table({ head: ['entity', 'side', 'key', 'why unpaired', 'suggested partners (agreeing match fields)'], style: { head: [], border: [] } });
    for (const r of page.records) {
      const suggestions = r.suggestions.map(suggestionLabel);
      const why = r.reason === 'duplicate' ? 'matches a record, link is off' : r.inScope ? 'no match' : 'outside its conditions';
      table.push([r.entity, r.side, r.key, why, suggestions.join('\n') || '-']);
    }
    parts.push(table.toString());
  }
  if (page.continue) parts.push(`more: --continue ${page.continue}`);
  parts.push('link one: ferry resolve --entity ENTITY --link SOURCE_KEY=TARGET_KEY');
  const summary = categorySummary(page.categories);
  if (summary) parts.push(summary);
  return parts.join('\n');
}
