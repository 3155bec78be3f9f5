import type { Params, ResolvedResource } from './resource.js';
import { getPointer } from './json-pointer.js';
import type { HttpResponse as ApiResponse } from './client.js';
import { isHttpError } from './errors.js';
import type { Requester } from './requester.js';

const DEFAULT_PAGE_SIZE = 100;

/** `Link: <url>; rel="next"` (RFC 8288); undefined when there is none. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(match[2])) return match[1];
  }
  return undefined;
}

function header(response: ApiResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function recordsOf(response: ApiResponse, pointer: string): unknown[] {
  const records = getPointer(response.body, pointer);
  if (records === undefined || records === null) return [];
  if (!Array.isArray(records)) throw new Error(`the list response has no array at "${pointer || '(the body)'}"`);
  return records;
}

/**
 * Every record of a list, page by page in the API's order. `extra` adds query parameters (the
 * incremental filter, the sort). Only one page is held at a time.
 */
export async function* listRecords(client: Requester, list: ResolvedResource['list'], extra: Params = []): AsyncGenerator<unknown[]> {
  const p = list.pagination;
  const size = p.pageSize ?? DEFAULT_PAGE_SIZE;
  const base = Object.fromEntries([...list.query, ...extra]);
  let page = p.firstPage ?? 1;
  let offset = 0;
  let token: string | undefined;
  let next: string | undefined;
  for (;;) {
    const query: Record<string, string> = { ...base };
    switch (p.style) {
      case 'PageNumber':
        query[p.pageParam ?? 'page'] = String(page);
        query[p.sizeParam ?? 'per_page'] = String(size);
        break;
      case 'OffsetLimit':
        query[p.offsetParam ?? 'offset'] = String(offset);
        query[p.sizeParam ?? 'limit'] = String(size);
        break;
      case 'Cursor':
        if (p.sizeParam) query[p.sizeParam] = String(size);
        if (token !== undefined) query[p.cursorParam ?? 'cursor'] = token;
        break;
      default:
        if (p.sizeParam) query[p.sizeParam] = String(size);
    }
    let response: ApiResponse;
    try {
      response = next ? await client.request({ method: 'GET', path: next }) : await client.request({ method: 'GET', path: list.path, query });
    } catch (error) {
      // WordPress answers a page past the last with 400 rest_post_invalid_page_number.
      if (p.style === 'PageNumber' && page > (p.firstPage ?? 1) && isHttpError(error) && error.status === 400) return;
      throw error;
    }
    const records = recordsOf(response, list.records);
    if (records.length > 0) yield records;
    switch (p.style) {
      case 'PageNumber': {
        const total = p.totalPagesHeader ? Number(header(response, p.totalPagesHeader)) : NaN;
        if (records.length === 0 || records.length < size || (Number.isFinite(total) && page - (p.firstPage ?? 1) + 1 >= total)) return;
        page++;
        break;
      }
      case 'OffsetLimit':
        if (records.length < size) return;
        offset += records.length;
        break;
      case 'Cursor': {
        const value = p.cursorPointer ? getPointer(response.body, p.cursorPointer) : undefined;
        if (value === undefined || value === null || value === '' || records.length === 0) return;
        token = String(value);
        break;
      }
      case 'LinkHeader':
        next = nextLink(header(response, 'link'));
        if (!next) return;
        break;
      case 'NextUrl': {
        const value = p.nextPointer ? getPointer(response.body, p.nextPointer) : undefined;
        if (typeof value !== 'string' || value === '') return;
        next = value;
        break;
      }
      default:
        return;
    }
  }
}
