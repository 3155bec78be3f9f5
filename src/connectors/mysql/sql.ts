/** SQL text with its bind parameters, built together so `?` placeholders and values stay in step. */
export interface Sql {
  text: string;
  values: (string | number | null)[];
}

export function sql(text: string, values: (string | number | null)[] = []): Sql {
  return { text, values };
}

export function joinSql(parts: Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), values: parts.flatMap((p) => p.values) };
}

/** Backtick-quotes an identifier (names are validated by the API schema; a backtick is still doubled). */
export function ident(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function qualified(schema: string, table: string): string {
  return schema ? `${ident(schema)}.${ident(table)}` : ident(table);
}

export function placeholders(count: number): string {
  return new Array(count).fill('?').join(', ');
}
