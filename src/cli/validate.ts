import type { Command } from 'commander';
import { loadManifests, type LoadedManifests } from '../api/manifests.js';
import { formatValidationErrors, validateManifests, type ManifestValidationOptions, type ValidationError } from '../api/validate.js';
import { readFlowCatalogs } from './validate-catalogs.js';

export interface ValidateResult {
  errors: ValidationError[];
  manifestCount: number;
  /** What `ferry validate` prints. */
  report: string;
  /** Databases that could not be read, one line per flow (printed, never an error). */
  notes: string[];
  /** Flows whose tables were checked in at least one of their databases. */
  flowsChecked: number;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function result(paths: readonly string[], loaded: LoadedManifests, options: ManifestValidationOptions, notes: string[], flowsChecked: number): ValidateResult {
  const manifestCount = loaded.flows.length + loaded.jobs.length + loaded.targets.length;
  const errors = validateManifests(loaded, options);
  if (errors.length === 0 && manifestCount === 0) {
    errors.push({ path: '', message: 'no Ferry manifests found', source: paths.join(', ') });
  }
  const checked = flowsChecked > 0 ? ` (tables, columns and types checked in the databases of ${plural(flowsChecked, 'flow')})` : '';
  const report = errors.length > 0 ? formatValidationErrors(errors, paths.join(', ')) : `✓ ${plural(manifestCount, 'manifest')} valid${checked}`;
  return { errors, manifestCount, report, notes, flowsChecked };
}

/** Loads and validates files or directories without looking at any database; the testable core of `ferry validate --offline`. */
export function validatePaths(paths: readonly string[]): ValidateResult {
  return result(paths, loadManifests(paths), {}, [], 0);
}

/** As validatePaths, plus every flow's tables, columns and mapped types checked in the databases its Secrets reach. */
export async function validatePathsWithDatabases(paths: readonly string[]): Promise<ValidateResult> {
  const loaded = loadManifests(paths);
  const { catalogs, notes } = await readFlowCatalogs(loaded);
  return result(paths, loaded, { catalog: (flow) => catalogs.get(flow) }, notes, catalogs.size);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `ferry validate -f FILE|DIR [-f ...] [--offline]`: exit code 0 when valid, 2 when not. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check SyncFlow, SyncJob and ExportTarget manifests against the CRD schemas, the semantic rules and the databases')
    .requiredOption('-f, --filename <path>', 'manifest file or directory (repeatable)', collect)
    .option('--offline', 'do not connect to the databases named by Secrets among the manifests')
    .action(async (options: { filename: string[]; offline?: boolean }) => {
      const { errors, report, notes } = options.offline ? validatePaths(options.filename) : await validatePathsWithDatabases(options.filename);
      for (const note of notes) console.error(note);
      if (errors.length > 0) {
        console.error(report);
        process.exitCode = 2;
      } else {
        console.log(report);
        process.exitCode = 0;
      }
    });
}
