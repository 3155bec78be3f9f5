/**
 * The synchronization window of a two-way flow (seed 003): the six pair categories with their counts,
 * each a searchable, paged list; a conflict shows the differing fields side by side with both values
 * and change times, and the viewer keeps a side per field (or a whole record), which creates a Resolve
 * run. Pairs can be deactivated, reactivated, unlinked, and two records linked by hand.
 */
import { PAIR_CATEGORIES, type PairCategory, type SyncFlow } from '../../api/syncflow.js';
import type { Pair } from '../../data-api/objects.js';
import type { Access } from '../cluster.js';
import { html, query, type Html } from '../html.js';
import { csrfField, pager, time } from './layout.js';

export interface WindowInput {
  flow: SyncFlow;
  namespace: string;
  entity: string;
  category: string;
  search: string;
  /** Whether the data API already searched (every page of the category); else this page is filtered. */
  searchedByServer?: boolean;
  pairs: Pair[];
  /** Counts per entity and category from the flow's last finished run (its report), when there is one. */
  entityCounts?: { runId: string; entities: Map<string, Partial<Record<PairCategory, number>>> };
  next?: string;
  continueToken?: string;
  access: Access;
  csrf: string;
}

function pairForm(input: WindowInput, pair: Pair, action: string, label: string): Html {
  return html`<form method="post" action="/actions/resolve" class="inline">
    ${csrfField(input.csrf)}<input type="hidden" name="ns" value="${input.namespace}"><input type="hidden" name="flow" value="${input.flow.metadata.name}">
    <input type="hidden" name="entity" value="${pair.entity}"><input type="hidden" name="sourceKey" value="${pair.sourceKey}"><input type="hidden" name="targetKey" value="${pair.targetKey}">
    <button name="action" value="${action}">${label}</button></form>`;
}

function conflict(input: WindowInput, pair: Pair): Html {
  const fields = pair.conflict?.fields ?? [];
  const id = `pair-${pair.metadata.name}`;
  const editable = input.access.startRuns;
  return html`<article class="conflict card" id="${id}" aria-labelledby="${id}-title">
    <h3 id="${id}-title">${pair.entity} ${pair.sourceKey} ↔ ${pair.targetKey}</h3>
    ${pair.conflict ? html`<p>Detected ${time(pair.conflict.detectedAt)} in run ${pair.conflict.runId}.</p>` : ''}
    ${fields.length === 0
      ? html`<p>No field values recorded yet: the next run of the flow records them.</p>`
      : html`<form method="post" action="/actions/resolve">
      ${csrfField(input.csrf)}<input type="hidden" name="ns" value="${input.namespace}"><input type="hidden" name="flow" value="${input.flow.metadata.name}">
      <input type="hidden" name="entity" value="${pair.entity}"><input type="hidden" name="sourceKey" value="${pair.sourceKey}"><input type="hidden" name="targetKey" value="${pair.targetKey}">
      <table><caption>Differing fields</caption><thead><tr><th scope="col">Field</th><th scope="col">Source value</th><th scope="col">Target value</th></tr></thead><tbody>
      ${fields.map((f) => {
        const name = `keep.${f.field}`;
        const fid = `${id}-${f.field}`;
        const value = (v: string | null) => (v === null ? html`<em>(empty)</em>` : f.masked ? html`<span class="masked" title="sensitive: seeing it takes get on pairs/unmasked">${v}</span>` : html`<code>${v}</code>`);
        return html`<tr><th scope="row">${f.field === f.targetField ? f.field : `${f.field} → ${f.targetField}`}</th>
          <td>${editable ? html`<input type="radio" id="${fid}-source" name="${name}" value="source" required> <label for="${fid}-source">${value(f.sourceValue)}</label>` : value(f.sourceValue)}
            <br><small>changed ${time(f.sourceChangedAt)}</small></td>
          <td>${editable ? html`<input type="radio" id="${fid}-target" name="${name}" value="target" required> <label for="${fid}-target">${value(f.targetValue)}</label>` : value(f.targetValue)}
            <br><small>changed ${time(f.targetChangedAt)}</small></td></tr>`;
      })}
      </tbody></table>
      ${editable ? html`<button name="action" value="PerField">Resolve with the chosen values</button>` : ''}
    </form>`}
    ${editable ? html`<div class="buttons">${pairForm(input, pair, 'KeepSource', 'Keep the whole source record')}${pairForm(input, pair, 'KeepTarget', 'Keep the whole target record')}${pairForm(input, pair, 'Deactivate', 'Deactivate')}${pairForm(input, pair, 'Unlink', 'Unlink')}</div>` : ''}
  </article>`;
}

function pairRow(input: WindowInput, pair: Pair): Html {
  const editable = input.access.startRuns;
  const toggle = pair.category === 'deactivated' ? pairForm(input, pair, 'Reactivate', 'Reactivate') : pairForm(input, pair, 'Deactivate', 'Deactivate');
  return html`<tr><td>${pair.entity}</td><td>${pair.sourceKey || '-'}</td><td>${pair.targetKey || '-'}</td><td>${pair.category}</td><td>${time(pair.lastSyncedAt)}</td>
    ${editable ? html`<td>${toggle}${pair.sourceKey && pair.targetKey ? pairForm(input, pair, 'Unlink', 'Unlink') : ''}</td>` : ''}</tr>`;
}

/** Each entity's pairs per category (last run's report), each count linking to that list. */
function entityCountTable(input: WindowInput, base: string): Html {
  const rows = [...input.entityCounts!.entities].filter(([, counts]) => PAIR_CATEGORIES.some((c) => (counts[c] ?? 0) > 0));
  if (rows.length === 0) return html``;
  return html`<table class="compact"><caption>Pairs per entity, as of run ${input.entityCounts!.runId}</caption>
    <thead><tr><th scope="col">Entity</th>${PAIR_CATEGORIES.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${rows.map(([entity, counts]) => html`<tr><th scope="row">${entity}</th>${PAIR_CATEGORIES.map(
      (c) => html`<td>${(counts[c] ?? 0) > 0 ? html`<a href="${base}${query({ ns: input.namespace, category: c, entity })}">${(counts[c] ?? 0).toLocaleString('en-US')}</a>` : '0'}</td>`,
    )}</tr>`)}</tbody></table>`;
}

export function windowPage(input: WindowInput): Html {
  const { flow, namespace } = input;
  const name = flow.metadata.name;
  // With an entity chosen, its own counts (from the last run's report); otherwise the flow's.
  const entityCounts = input.entity ? input.entityCounts?.entities.get(input.entity) : undefined;
  const counts = entityCounts ?? flow.status?.categories ?? {};
  const base = `/flows/${name}/window`;
  const needle = input.search.toLowerCase();
  const matches = (p: Pair) =>
    !needle || [p.sourceKey, p.targetKey, ...(p.conflict?.fields ?? []).flatMap((f) => [f.field, f.sourceValue ?? '', f.targetValue ?? ''])].some((v) => v.toLowerCase().includes(needle));
  const shown = input.searchedByServer ? input.pairs : input.pairs.filter(matches);
  const entities = flow.spec.entities.map((e) => e.name);
  return html`<p class="counts-basis">${entityCounts ? `Counts for ${input.entity}, as of run ${input.entityCounts!.runId}.` : input.entity ? 'Counts for the whole flow (no finished run has counted this entity yet).' : 'Counts for the whole flow.'}</p>
    <nav aria-label="Categories"><ul class="tabs">${PAIR_CATEGORIES.map(
      (c) => html`<li><a href="${base}${query({ ns: namespace, category: c, entity: input.entity })}"${c === input.category ? html` aria-current="page"` : ''}>${c} <strong>${(counts[c] ?? 0).toLocaleString('en-US')}</strong></a></li>`,
    )}</ul></nav>
    ${!input.entity && input.entityCounts && input.entityCounts.entities.size > 1 ? entityCountTable(input, base) : ''}
    <form class="search" method="get" action="${base}" role="search">
      <input type="hidden" name="ns" value="${namespace}"><input type="hidden" name="category" value="${input.category}">
      <label for="entity-filter">Entity</label> <select id="entity-filter" name="entity"><option value="">all</option>${entities.map((e) => html`<option${e === input.entity ? html` selected` : ''}>${e}</option>`)}</select>
      <label for="pair-search">Search keys</label> <input id="pair-search" name="q" value="${input.search}" autocomplete="off"> <button>Search</button>
    </form>
    <h2>${input.category} (${shown.length}${needle ? (input.searchedByServer ? ' matching' : ' matching on this page') : ' on this page'})</h2>
    ${shown.length === 0
      ? html`<p>No pairs here.</p>`
      : input.category === 'conflict'
        ? shown.map((p) => conflict(input, p))
        : html`<table><caption>Pairs in ${input.category}</caption><thead><tr><th scope="col">Entity</th><th scope="col">Source key</th><th scope="col">Target key</th><th scope="col">Category</th><th scope="col">Last synced</th>${input.access.startRuns ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
          <tbody>${shown.map((p) => pairRow(input, p))}</tbody></table>`}
    ${pager(base, { ns: namespace, category: input.category, entity: input.entity || undefined, q: input.search || undefined, continue: input.continueToken }, input.next, 'Pair')}
    ${input.access.startRuns
      ? html`<h2>Link two records by hand</h2>
      <form method="post" action="/actions/resolve" class="link">
        ${csrfField(input.csrf)}<input type="hidden" name="ns" value="${namespace}"><input type="hidden" name="flow" value="${name}">
        <label for="link-entity">Entity</label> <select id="link-entity" name="entity">${entities.map((e) => html`<option>${e}</option>`)}</select>
        <label for="link-source">Source key</label> <input id="link-source" name="sourceKey" required size="10">
        <label for="link-target">Target key</label> <input id="link-target" name="targetKey" required size="10">
        <button name="action" value="Link">Link</button>
      </form>`
      : html`<p class="readonly">You can view the pairs; resolving takes the ferry-edit role in ${namespace}.</p>`}`;
}
