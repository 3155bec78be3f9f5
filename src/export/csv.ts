/** RFC 4180 CSV: CRLF line ends, fields quoted when they hold the delimiter, the quote, CR or LF. */
export interface CsvOptions {
  header: boolean;
  delimiter: string;
  quote: string;
}

export const DEFAULT_CSV: CsvOptions = { header: true, delimiter: ',', quote: '"' };

export function csvField(value: string | null, options: CsvOptions): string {
  if (value === null) return '';
  const { delimiter, quote } = options;
  const needsQuotes = value.includes(delimiter) || value.includes(quote) || value.includes('\n') || value.includes('\r') || value === '';
  // An empty string is quoted so it stays distinguishable from NULL (an empty field).
  if (!needsQuotes) return value;
  return quote + value.split(quote).join(quote + quote) + quote;
}

export function csvLine(values: readonly (string | null)[], options: CsvOptions): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += options.delimiter;
    line += csvField(values[i] ?? null, options);
  }
  return line + '\r\n';
}
