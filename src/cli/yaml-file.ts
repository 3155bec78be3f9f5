import { readFileSync } from 'node:fs';
import { yamlPackage } from '../util/on-demand.js';
import { ConfigError } from '../util/errors.js';

/** Aliases a small input file may expand; more is an alias bomb, not a resolution list. */
const MAX_ALIASES = 100;

/**
 * A YAML (or JSON) file given on the command line, parsed; a missing file or bad YAML is a
 * one-line ConfigError naming the file (the parser's code frame stays out of the terminal).
 */
export function readYamlFile(path: string): unknown {
  try {
    return yamlPackage().parse(readFileSync(path, 'utf8'), { maxAliasCount: MAX_ALIASES });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.trim();
    throw new ConfigError(`${path}: ${message}`);
  }
}
