import type { Row } from '../engine/connector.js';
import { csvLine, type CsvOptions } from './csv.js';
import { compareJsonbKeys, jsonbText, numericText } from './jsonb-text.js';
import type { ExportColumn, ExportFileFormat, ExportValueKind } from './source.js';

/** Formatted records with the offset just past each record end, as the file writer takes them. */
export interface RecordChunk {
  data: Buffer;
  ends: number[];
}

// Records are handed on in chunks of about this size: large enough to keep per-write costs small.
const CHUNK_BYTES = 64 * 1024;

/** `.ffffff` with trailing zeros dropped (and no point when nothing is left), as PostgreSQL prints it. */
function trimFraction(value: string): string {
  const point = value.indexOf('.');
  if (point < 0) return value;
  const fraction = value.slice(point + 1).replace(/0+$/, '');
  return fraction ? `${value.slice(0, point)}.${fraction}` : value.slice(0, point);
}

const TRUE_TEXT = new Set(['t', 'true', '1']);

/** A value's text in a CSV file: PostgreSQL's output form for the kind. */
export function csvText(value: string | null, kind: ExportValueKind): string | null {
  if (value === null) return null;
  switch (kind) {
    case 'boolean':
      return TRUE_TEXT.has(value.toLowerCase()) ? 't' : 'f';
    case 'timestamp':
    case 'time':
      return trimFraction(value);
    case 'timestamptz':
      return `${trimFraction(value)}+00`;
    case 'json':
      return jsonbText(value);
    default:
      return value;
  }
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** A value's JSON text in a JSON Lines file: what PostgreSQL's `to_jsonb` makes of the kind. */
export function jsonText(value: string | null, kind: ExportValueKind): string {
  if (value === null) return 'null';
  switch (kind) {
    case 'number':
      // jsonb holds numbers as numeric, which prints an exponent out (a MariaDB DOUBLE can read `1e21`).
      if (!JSON_NUMBER.test(value)) return JSON.stringify(value);
      return /[eE]/.test(value) ? numericText(value) : value;
    case 'boolean':
      return TRUE_TEXT.has(value.toLowerCase()) ? 'true' : 'false';
    case 'json':
      return jsonbText(value);
    case 'time':
      return JSON.stringify(trimFraction(value));
    case 'timestamp':
      return JSON.stringify(trimFraction(value).replace(' ', 'T'));
    case 'timestamptz':
      return JSON.stringify(`${trimFraction(value).replace(' ', 'T')}+00:00`);
    default:
      return JSON.stringify(value);
  }
}

/** One record's text, ending in CRLF (CSV, RFC 4180) or LF (JSON Lines). */
export function recordFormatter(columns: ExportColumn[], file: ExportFileFormat): (row: Row) => string {
  if (file.format === 'Csv') {
    const csv: CsvOptions = file.csv;
    const texts: (string | null)[] = new Array(columns.length);
    return (row) => {
      for (let i = 0; i < columns.length; i++) texts[i] = csvText(row[i] ?? null, columns[i].kind);
      return csvLine(texts, csv);
    };
  }
  // PostgreSQL builds each line as a jsonb object, which orders its keys.
  const order = columns.map((c, i) => ({ i, key: JSON.stringify(c.name) + ': ', name: c.name })).sort((a, b) => compareJsonbKeys(a.name, b.name));
  return (row) => {
    let line = '{';
    for (let n = 0; n < order.length; n++) {
      const { i, key } = order[n];
      line += (n > 0 ? ', ' : '') + key + jsonText(row[i] ?? null, columns[i].kind);
    }
    return line + '}\n';
  };
}

/** Formats neutral rows into record chunks of bounded size. */
export async function* formatRows(columns: ExportColumn[], rows: AsyncIterable<Row>, file: ExportFileFormat): AsyncGenerator<RecordChunk> {
  const format = recordFormatter(columns, file);
  let parts: Buffer[] = [];
  let ends: number[] = [];
  let length = 0;
  for await (const row of rows) {
    const record = Buffer.from(format(row), 'utf8');
    parts.push(record);
    length += record.length;
    ends.push(length);
    if (length >= CHUNK_BYTES) {
      yield { data: Buffer.concat(parts, length), ends };
      parts = [];
      ends = [];
      length = 0;
    }
  }
  if (length > 0) yield { data: Buffer.concat(parts, length), ends };
}
