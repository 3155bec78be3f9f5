import type { Command } from 'commander';
import { loadManifests } from '../api/manifests.js';
import { formatValidationErrors, validateManifests, type ValidationError } from '../api/validate.js';

export interface ValidateResult {
  errors: ValidationError[];
  manifestCount: number;
  /** What `ferry validate` prints. */
  report: string;
}

/** Loads and validates files or directories; the testable core of `ferry validate`. */
export function validatePaths(paths: readonly string[]): ValidateResult {
  const loaded = loadManifests(paths);
  const manifestCount = loaded.flows.length + loaded.jobs.length + loaded.targets.length;
  const errors = validateManifests(loaded);
  if (errors.length === 0 && manifestCount === 0) {
    errors.push({ path: '', message: 'no Ferry manifests found', source: paths.join(', ') });
  }
  const report =
    errors.length > 0
      ? formatValidationErrors(errors, paths.join(', '))
      : `✓ ${manifestCount} manifest${manifestCount === 1 ? '' : 's'} valid`;
  return { errors, manifestCount, report };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `ferry validate -f FILE|DIR [-f ...]`: exit code 0 when valid, 2 when not. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check SyncFlow, SyncJob and ExportTarget manifests against the CRD schemas and semantic rules')
    .requiredOption('-f, --filename <path>', 'manifest file or directory (repeatable)', collect)
    .action((options: { filename: string[] }) => {
      const { errors, report } = validatePaths(options.filename);
      if (errors.length > 0) {
        console.error(report);
        process.exitCode = 2;
      } else {
        console.log(report);
        process.exitCode = 0;
      }
    });
}
