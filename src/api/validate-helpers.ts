import { FILE_NAME_PLACEHOLDERS } from './export-settings.js';

/** Positions of values already seen earlier in the list, with the position of the first occurrence. */
export function repeatedItems<T>(items: readonly T[], keyOf: (item: T) => string): { index: number; first: number; key: string }[] {
  const firstSeen = new Map<string, number>();
  const repeats: { index: number; first: number; key: string }[] = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    const first = firstSeen.get(key);
    if (first === undefined) firstSeen.set(key, index);
    else repeats.push({ index, first, key });
  });
  return repeats;
}

/** Why a file name template is unusable, or undefined. */
export function fileNameTemplateProblem(template: string): string | undefined {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((m) => m[1])
    .filter((name) => !(FILE_NAME_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length === 0) return undefined;
  return `unknown placeholder {${unknown[0]}}; use ${FILE_NAME_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`;
}
