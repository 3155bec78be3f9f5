import type { Direction } from './syncflow.js';
import type { FieldMapping } from './entity.js';
import { fieldPath, type ValidationError } from './validation-error.js';

/**
 * A value map must be a function forwards (one target value per source value) and, for TwoWay
 * flows, backwards too: when several source values map to one target value, exactly one entry maps
 * it back (the others say `reverse: false`), so the value a target change writes to the source is
 * never a guess.
 */
export function valueMapErrors(field: FieldMapping, direction: Direction, path: string): ValidationError[] {
  const map = field.valueMap;
  if (!map) return [];
  const errors: ValidationError[] = [];
  const at = (...segments: (string | number)[]) => fieldPath(path, 'valueMap', ...segments);
  const bySource = new Map<string, number>();
  map.entries.forEach((entry, i) => {
    const first = bySource.get(entry.source);
    if (first !== undefined) errors.push({ path: at('entries', i, 'source'), message: `source value "${entry.source}" is mapped twice (also at entries[${first}])` });
    else bySource.set(entry.source, i);
    for (const [name, value] of [['source', entry.source], ['target', entry.target]] as const) {
      if (value.includes('\0') || value.includes('\u0001')) errors.push({ path: at('entries', i, name), message: 'must not contain the control characters \\u0000 or \\u0001' });
    }
  });
  if (direction !== 'TwoWay') return errors;
  const back = new Map<string, number[]>();
  map.entries.forEach((entry, i) => back.set(entry.target, [...(back.get(entry.target) ?? []), i]));
  for (const [target, indexes] of back) {
    const reversing = indexes.filter((i) => map.entries[i].reverse !== false);
    if (reversing.length === 1) continue;
    const sources = indexes.map((i) => `"${map.entries[i].source}"`).join(', ');
    errors.push({
      path: at('entries', indexes[0], 'reverse'),
      message:
        reversing.length === 0
          ? `target value "${target}" maps back to no source value: let one of ${sources} keep reverse: true`
          : `not invertible: target value "${target}" comes from ${sources}; mark all but the one it maps back to with reverse: false`,
    });
  }
  return errors;
}
