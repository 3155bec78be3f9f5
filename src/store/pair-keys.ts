import type pg from 'pg';
import { copyOutRows, type Row } from '../util/copy-out.js';
import { literal } from '../util/sql.js';

/**
 * Every pair of one entity as `[from key, to key]` (encoded), streamed: `from` names the side whose
 * key comes first. A caller that keeps them in a compact form never holds them all as strings.
 */
export function streamPairKeys(streamClient: pg.ClientBase, flow: string, entity: string, from: 'source' | 'target'): AsyncGenerator<Row> {
  const columns = from === 'source' ? 'source_key, target_key' : 'target_key, source_key';
  return copyOutRows(streamClient, `SELECT ${columns} FROM ferry.pairs WHERE flow = ${literal(flow)} AND entity = ${literal(entity)}`);
}
