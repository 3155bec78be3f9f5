export interface ValidationError {
  /** Field path inside the manifest, e.g. `spec.entities[2].fields[0].lookup`; empty for whole-file problems. */
  path: string;
  message: string;
  /** File the manifest came from (with `#n` when the file holds several documents). */
  source?: string;
}

/** Joins path segments: fieldPath('spec', 'entities', 2, 'name') === 'spec.entities[2].name'. */
export function fieldPath(...segments: (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (segment !== '') out += out ? `.${segment}` : segment;
  }
  return out;
}

/** One line per error: `file: path: message`. */
export function formatValidationErrors(errors: readonly ValidationError[], sourceName: string): string {
  return errors
    .map((e) => [e.source ?? sourceName, e.path, e.message].filter((part) => part !== '').join(': '))
    .join('\n');
}
