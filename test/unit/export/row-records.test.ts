import { describe, expect, it } from 'vitest';
import { jsonbText, numericText } from '../../../src/export/jsonb-text.js';
import { csvText, formatRows, jsonText, recordFormatter } from '../../../src/export/row-records.js';
import { DEFAULT_CSV } from '../../../src/export/csv.js';

describe('numericText: a JSON number as PostgreSQL numeric prints it', () => {
  it.each([
    ['1', '1'],
    ['1.50', '1.50'],
    ['1e2', '100'],
    ['1.5e1', '15'],
    ['1.50e-1', '0.150'],
    ['1.5E-3', '0.0015'],
    ['-0', '0'],
    ['-0.0', '0.0'],
    ['-12.340', '-12.340'],
    ['0.001e3', '1'],
    ['123e-5', '0.00123'],
  ])('%s -> %s', (input, expected) => {
    expect(numericText(input)).toBe(expected);
  });
});

describe('jsonbText: JSON in the canonical form of jsonb', () => {
  it.each([
    ['{"b":1,"a":2,"aa":3}', '{"a": 2, "b": 1, "aa": 3}'],
    ['{"a":1,"a":2}', '{"a": 2}'],
    ['[ 1 , [ ] , { } , "x" , null , true , false ]', '[1, [], {}, "x", null, true, false]'],
    ['{"é":1,"z":2}', '{"z": 2, "é": 1}'],
    ['"tab\\tand\\u0001 \\/ é"', '"tab\\tand\\u0001 / é"'],
    ['{"n": 2.50e0}', '{"n": 2.50}'],
  ])('%s', (input, expected) => {
    expect(jsonbText(input)).toBe(expected);
  });

  it('leaves text that is not JSON as it is', () => {
    for (const text of ['{', '[1,]', '01', 'tru', '"a" "b"']) expect(jsonbText(text)).toBe(text);
  });
});

describe('values in files', () => {
  it('writes CSV text as PostgreSQL does', () => {
    expect(csvText('1', 'boolean')).toBe('t');
    expect(csvText('0', 'boolean')).toBe('f');
    expect(csvText('2026-03-01 09:00:00.500000', 'timestamptz')).toBe('2026-03-01 09:00:00.5+00');
    expect(csvText('2026-03-01 09:00:00.000000', 'timestamp')).toBe('2026-03-01 09:00:00');
    expect(csvText('10:00:00.120', 'time')).toBe('10:00:00.12');
    expect(csvText(null, 'text')).toBeNull();
  });

  it('writes JSON values with their JSON types', () => {
    expect(jsonText('1.50', 'number')).toBe('1.50');
    expect(jsonText('1e21', 'number')).toBe('1000000000000000000000');
    expect(jsonText('NaN', 'number')).toBe('"NaN"');
    expect(jsonText('1', 'boolean')).toBe('true');
    expect(jsonText('2026-03-01 09:00:00', 'timestamptz')).toBe('"2026-03-01T09:00:00+00:00"');
    expect(jsonText('2026-03-01 09:00:00.25', 'timestamp')).toBe('"2026-03-01T09:00:00.25"');
    expect(jsonText('{"b":[1]}', 'json')).toBe('{"b": [1]}');
    expect(jsonText('\\x00ff', 'binary')).toBe('"\\\\x00ff"');
    expect(jsonText(null, 'json')).toBe('null');
  });

  it('formats records: CSV with CRLF and quoting, JSON objects in jsonb key order with LF', () => {
    const columns = [
      { name: 'name', kind: 'text' as const },
      { name: 'id', kind: 'number' as const },
    ];
    expect(recordFormatter(columns, { format: 'Csv', csv: DEFAULT_CSV })(['a, "b"', '1'])).toBe('"a, ""b""",1\r\n');
    expect(recordFormatter(columns, { format: 'Csv', csv: DEFAULT_CSV })(['', null])).toBe('"",\r\n');
    expect(recordFormatter(columns, { format: 'JsonLines', csv: DEFAULT_CSV })(['x', '7'])).toBe('{"id": 7, "name": "x"}\n');
  });

  it('hands records on in bounded chunks with every record end', async () => {
    async function* rows() {
      for (let i = 0; i < 10_000; i++) yield [String(i), 'x'.repeat(20)];
    }
    const columns = [
      { name: 'id', kind: 'number' as const },
      { name: 'v', kind: 'text' as const },
    ];
    let records = 0;
    let chunks = 0;
    for await (const { data, ends } of formatRows(columns, rows(), { format: 'Csv', csv: DEFAULT_CSV })) {
      chunks++;
      records += ends.length;
      expect(ends[ends.length - 1]).toBe(data.length);
      expect(data.length).toBeLessThan(70 * 1024);
    }
    expect(records).toBe(10_000);
    expect(chunks).toBeGreaterThan(1);
  });
});
