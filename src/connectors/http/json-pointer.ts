/** RFC 6901 JSON pointers: where a field lives in an API record. '' is the whole document. */

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at `pointer`, or undefined when any step is missing. */
export function getPointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const token of tokens(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(token)] : (node as Record<string, unknown>)[token];
  }
  return node;
}

/** Sets the value at `pointer`, creating objects (arrays for numeric steps) on the way. */
export function setPointer(document: Record<string, unknown>, pointer: string, value: unknown): void {
  const steps = tokens(pointer);
  if (steps.length === 0) throw new Error('cannot set the whole document');
  let node: Record<string, unknown> | unknown[] = document;
  steps.forEach((token, i) => {
    const last = i === steps.length - 1;
    const container = node as Record<string, unknown>;
    if (last) {
      container[token] = value;
      return;
    }
    let next = container[token];
    if (next === null || typeof next !== 'object') {
      next = /^\d+$/.test(steps[i + 1]) ? [] : {};
      container[token] = next;
    }
    node = next as Record<string, unknown>;
  });
}
