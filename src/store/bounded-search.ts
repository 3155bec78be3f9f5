/**
 * Text search over a keyset-paged list, bounded: one request reads at most `scan` rows of the list
 * after its position (through the list's own index order) and returns the rows among them that
 * contain the text. When the window is full, the last row read is where the next page continues, so
 * a search for something rare costs the same per page as a plain list, and the client pages on.
 */
import type { StateDb } from './state-connection.js';

export const SEARCH_SCAN_ROWS = 5000;

export interface BoundedSearch {
  /** `SELECT <columns> FROM <table> WHERE <scope and position>` (no ORDER BY, no LIMIT). */
  select: string;
  params: unknown[];
  /** The list's order, e.g. `flow, entity, source_key`; and the same columns descending. */
  order: string;
  orderDescending: string;
  /** Text expressions (of the selected columns) the search looks into. */
  searched: string[];
  text: string;
  /** Rows of hits to return at most. */
  limit: number;
  scan?: number;
}

export interface BoundedSearchResult {
  hits: Record<string, unknown>[];
  /** The last row read when the window was full: the next page starts after it. */
  scanEnd?: Record<string, unknown>;
  /** Rows of the list read. */
  scanned: number;
}

/** Case-insensitive substring match of `text` in any of the searched expressions (no pattern syntax). */
export async function boundedSearch(db: StateDb, search: BoundedSearch): Promise<BoundedSearchResult> {
  const scan = search.scan ?? SEARCH_SCAN_ROWS;
  const params = [...search.params, search.text.toLowerCase(), search.limit, scan];
  const [text, limit, window] = [params.length - 2, params.length - 1, params.length].map((n) => `$${n}`);
  const match = search.searched.map((e) => `strpos(lower(${e}), ${text}) > 0`).join(' OR ');
  const result = await db.query(
    `WITH scanned AS (${search.select} ORDER BY ${search.order} LIMIT ${window}),
          hits AS (SELECT * FROM scanned WHERE ${match} ORDER BY ${search.order} LIMIT ${limit})
     SELECT false AS is_scan_end, 0::bigint AS scanned_rows, hits.* FROM hits
     UNION ALL
     SELECT true, (SELECT count(*) FROM scanned), last.* FROM (SELECT * FROM scanned ORDER BY ${search.orderDescending} LIMIT 1) last
     ORDER BY is_scan_end, ${search.order}`,
    params,
  );
  const hits = result.rows.filter((r) => !r.is_scan_end);
  const end = result.rows.find((r) => r.is_scan_end);
  const scanned = end === undefined ? 0 : Number(end.scanned_rows);
  return { hits, scanned, ...(scanned >= scan ? { scanEnd: end } : {}) };
}
