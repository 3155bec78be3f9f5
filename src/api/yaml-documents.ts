import jsYaml from 'js-yaml';
import { yamlPackage } from '../util/on-demand.js';

/** One document of a YAML stream: its value, or why it could not be read. */
export interface YamlDocument {
  value: unknown;
  errors: string[];
}

/** Aliases one document may expand in the slow path; a manifest needs few, and an alias bomb needs many. */
const MAX_YAML_ALIASES = 100;
/** Nodes aliases may add in the fast path (the same tree written out would be this much larger). */
const MAX_ALIAS_EXPANSION = 100_000;

class AliasError extends Error {}

/**
 * The documents of a YAML text under the YAML 1.2 core schema. A well-formed text is read by
 * js-yaml, in time linear in its size (the `yaml` package took about 2 s per MB and 150 bytes of
 * heap per byte); one with a syntax error is read again by `yaml`, which reports each broken
 * document on its own. Aliases are bounded in both: a document whose aliases would expand into
 * a tree much larger than itself, or refer to their own ancestor, is refused.
 */
export function parseYamlDocuments(text: string): YamlDocument[] {
  let values: unknown[];
  try {
    values = jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA });
  } catch {
    return parseDocumentsSlowly(text);
  }
  return values.map((value) => {
    try {
      return { value: unshare(value), errors: [] };
    } catch (error) {
      if (!(error instanceof AliasError)) throw error;
      return { value: undefined, errors: [error.message] };
    }
  });
}

function parseDocumentsSlowly(text: string): YamlDocument[] {
  const documents = yamlPackage().parseAllDocuments(text);
  return (Array.isArray(documents) ? documents : [documents]).map((doc) => {
    if (doc.errors.length > 0) return { value: undefined, errors: doc.errors.map((e) => e.message) };
    try {
      return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }), errors: [] };
    } catch (error) {
      return { value: undefined, errors: [`more than ${MAX_YAML_ALIASES} aliases to expand (${(error as Error).message})`] };
    }
  });
}

/**
 * js-yaml gives an alias the very object of its anchor, so a document is a graph, not a tree.
 * Counts the tree it stands for (once per object, memoised), refuses cycles and large expansions,
 * and gives each use of a shared object its own copy, as `yaml` did: callers may then mutate freely.
 */
function unshare(root: unknown): unknown {
  const treeSize = new Map<object, number>();
  const inProgress = new Set<object>();
  let spelledOut = 0;
  let shared = false;
  const size = (node: unknown): number => {
    if (typeof node !== 'object' || node === null) return 1;
    const known = treeSize.get(node);
    if (known !== undefined) {
      shared = true;
      return known;
    }
    if (inProgress.has(node)) throw new AliasError('an alias refers to its own ancestor (a document that never ends)');
    inProgress.add(node);
    let total = 1;
    spelledOut++;
    for (const child of Object.values(node)) {
      if (typeof child !== 'object' || child === null) spelledOut++;
      total += size(child);
    }
    inProgress.delete(node);
    treeSize.set(node, total);
    return total;
  };
  const total = size(root);
  if (total - spelledOut > MAX_ALIAS_EXPANSION) {
    throw new AliasError(`aliases would expand this document to ${total} nodes, more than ${MAX_ALIAS_EXPANSION} beyond the ${spelledOut} it spells out`);
  }
  return shared ? copyTree(root) : root;
}

/** A deep copy in which no object appears twice (Object.fromEntries: a "__proto__" key stays a key). */
function copyTree(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map(copyTree);
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, copyTree(value)]));
}
