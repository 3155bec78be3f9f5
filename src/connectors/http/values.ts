import { createHash } from 'node:crypto';
import type { FieldType } from '../../api/http.js';

/** A value the field's type cannot hold; the message names no record, the caller adds the field. */
export class ValueError extends Error {}

function utcText(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/** Parses a timestamp in any common text form; no offset means UTC (as the connector interface says). */
export function parseTimestamp(text: string): Date {
  const trimmed = text.trim().replace(' ', 'T');
  const withZone = /([zZ]|[+-]\d{2}(:?\d{2})?)$/.test(trimmed) && /T\d/.test(trimmed) ? trimmed.replace(/([+-]\d{2})$/, '$1:00') : `${trimmed}Z`;
  const date = new Date(withZone);
  if (Number.isNaN(date.getTime())) throw new ValueError(`"${text}" is not a timestamp`);
  return date;
}

/** An API value as the text the engine compares and hashes; null for a missing value. */
export function toText(value: unknown, type: FieldType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'json':
      return JSON.stringify(value);
    case 'timestamp':
      return typeof value === 'string' && value !== '' ? utcText(parseTimestamp(value)) : value === '' ? null : String(value);
    case 'boolean':
      return value === true || value === 'true' || value === 1 || value === '1' ? 'true' : 'false';
    case 'date':
      return typeof value === 'string' ? value.slice(0, 10) || null : String(value);
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

const TRUE = new Set(['t', 'true', '1', 'yes', 'on']);
const FALSE = new Set(['f', 'false', '0', 'no', 'off']);

/** Text from the engine as the JSON value a request body carries. */
export function toJson(text: string | null, type: FieldType): unknown {
  if (text === null) return null;
  switch (type) {
    case 'integer': {
      if (!/^-?\d+$/.test(text.trim())) throw new ValueError(`"${text}" is not an integer`);
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text.trim();
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new ValueError(`"${text}" is not a number`);
      return n;
    }
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE.has(word)) return true;
      if (FALSE.has(word)) return false;
      throw new ValueError(`"${text}" is not a boolean`);
    }
    case 'timestamp':
      return utcText(parseTimestamp(text));
    case 'date': {
      if (!/^\d{4}-\d{2}-\d{2}/.test(text)) throw new ValueError(`"${text}" is not a date (YYYY-MM-DD)`);
      return text.slice(0, 10);
    }
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        throw new ValueError(`"${text.slice(0, 40)}" is not JSON`);
      }
    default:
      return text;
  }
}

/** The text a value will read back as once the API stored it (what the writer's hash predicts). */
export function storedText(text: string | null, type: FieldType): string | null {
  return toText(toJson(text, type), type);
}

/** A side's hash of mapped values: opaque to the engine, only compared with earlier hashes of this connector. */
export function hashValues(values: (string | null)[]): string {
  return createHash('md5').update(JSON.stringify(values)).digest('hex');
}
