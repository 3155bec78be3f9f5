/** Field selectors and query-parameter filters, and opaque continue tokens. */
export class BadRequest extends Error {}

/**
 * `a=b,c==d` -> { a: 'b', c: 'd' }, for the fields a resource supports. Only equality: the
 * filters are columns of the state DB, and `!=` would turn keyset pages into scans.
 */
export function parseFieldSelector(selector: string | null, supported: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!selector) return out;
  for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw new BadRequest(`invalid field selector term "${term}"`);
    const [, field, op, value] = match;
    if (op === '!=') throw new BadRequest(`field selector "${term}": only = and == are supported`);
    if (!supported.includes(field)) throw new BadRequest(`field label not supported: ${field} (supported: ${supported.join(', ')})`);
    if (field in out && out[field] !== value) throw new BadRequest(`field selector sets ${field} twice`);
    out[field] = value;
  }
  return out;
}

/**
 * The filters of a list request: query parameters (`?flow=`) and field selectors (`flow=` or an
 * alias such as `spec.flow`), which must agree when both are given.
 */
export function listFilters(params: URLSearchParams, fields: Record<string, string[]>): Record<string, string> {
  const supported = Object.entries(fields).flatMap(([name, aliases]) => [name, ...aliases]);
  const selected = parseFieldSelector(params.get('fieldSelector'), supported);
  const out: Record<string, string> = {};
  for (const [name, aliases] of Object.entries(fields)) {
    const values = [params.get(name), ...[name, ...aliases].map((f) => selected[f])].filter((v): v is string => v !== null && v !== undefined);
    if (values.length === 0) continue;
    if (values.some((v) => v !== values[0])) throw new BadRequest(`conflicting values for ${name}: ${[...new Set(values)].join(', ')}`);
    out[name] = values[0];
  }
  return out;
}

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 500;

export function pageLimit(params: URLSearchParams): number {
  const raw = params.get('limit');
  if (raw === null || raw === '' || raw === '0') return DEFAULT_PAGE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`invalid limit "${raw}"`);
  return Math.min(n, MAX_PAGE);
}

/** A continue token names the resource, the filters and the last position; it is opaque to clients. */
export function encodeContinue(resource: string, filters: Record<string, string>, position: unknown): string {
  return Buffer.from(JSON.stringify({ r: resource, f: filters, p: position })).toString('base64url');
}

export function decodeContinue<P>(token: string | null, resource: string, filters: Record<string, string>): P | undefined {
  if (!token) return undefined;
  let parsed: { r?: unknown; f?: unknown; p?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequest('invalid continue token');
  }
  if (parsed.r !== resource || JSON.stringify(parsed.f) !== JSON.stringify(filters)) throw new BadRequest('the continue token belongs to a different list request');
  return parsed.p as P;
}

export const MAX_SEARCH_LENGTH = 100;

/** `?search=`: text to look for, trimmed; undefined when absent or empty. */
export function searchText(params: URLSearchParams, maxLength: number): string | undefined {
  const text = params.get('search')?.trim();
  if (!text) return undefined;
  if (text.length > maxLength) throw new BadRequest(`search is at most ${maxLength} characters`);
  return text;
}
