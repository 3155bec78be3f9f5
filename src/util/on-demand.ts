import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';
import type * as Yaml from 'yaml';

/*
 * Packages only some commands and outputs use, loaded (synchronously, as CommonJS, which both ship
 * as under Node) the first time one is needed: a `ferry run` reads well-formed manifests with js-yaml
 * and prints JSON without them, so it does not load `yaml` (74 modules) or cli-table3 at start-up.
 */
const require = createRequire(import.meta.url);

/** The `yaml` package: YAML output, the CRD files, and the error of a manifest that does not parse. */
export const yamlPackage = (): typeof Yaml => require('yaml') as typeof Yaml;

/** cli-table3's Table, for table output. */
export const TableClass = (): typeof CliTable => require('cli-table3') as typeof CliTable;
