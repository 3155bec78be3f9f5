import { Command, Option } from 'commander';
import type { LoadedManifests } from '../api/manifests.js';
import type { SyncFlow } from '../api/syncflow.js';
import type { FileStatusRow, LocationListing } from '../connectors/files/file-status.js';
import { secretsFromManifests } from '../export/secrets.js';
import { loadValidManifests } from '../local/local-run.js';
import { sourceFiles } from '../store/source-files.js';
import { ConfigError } from '../util/errors.js';
import { flowIdOf, withLocalState } from './exports.js';
import { DEFAULT_FILES_LIMIT, FILES_OUTPUTS, FILE_STATES, parseFilesLimit, renderFileStatuses, type FilesOutput } from './files-table.js';
import { stateDbFileOption, stateDbOption } from './state-db-options.js';

function pickFilesFlow(loaded: LoadedManifests, files: string[], name: string | undefined): SyncFlow {
  const candidates = loaded.flows.filter((f) => f.spec.source.files);
  const flow = name ? loaded.flows.find((f) => f.metadata.name === name) : candidates.length === 1 ? candidates[0] : undefined;
  if (!flow) {
    if (name) throw new ConfigError(`SyncFlow "${name}" not found in ${files.join(', ')}`);
    throw new ConfigError(`choose a SyncFlow with --flow (found with a files source: ${candidates.map((f) => f.metadata.name).join(', ') || 'none'})`);
  }
  if (!flow.spec.source.files) throw new ConfigError(`SyncFlow "${flow.metadata.name}" has no files source (spec.source.files)`);
  return flow;
}

/** The source's location, listed twice as a run lists it (ExportTarget and Secrets from the manifests). */
async function listLocation(loaded: LoadedManifests, flow: SyncFlow): Promise<LocationListing> {
  const endpoint = flow.spec.source.files!;
  // The files connector (its transports, ssh2 and FTP, its parsers) loads only for this command, not at every start of the CLI.
  const [{ lookTwice }, { openLocation }] = await Promise.all([import('../connectors/files/inventory.js'), import('../connectors/files/location.js')]);
  const location = await openLocation(endpoint, { targets: Object.fromEntries(loaded.targets.map((t) => [t.metadata.name, t.spec])), secrets: secretsFromManifests(loaded.secrets) });
  try {
    return await lookTwice(location, endpoint);
  } finally {
    await location.close();
  }
}

/** What `ferry files` prints: every entity's recorded files, and the location's files not imported yet (unless `recordedOnly`). */
export async function localFileStatuses(options: { file: string[]; flow?: string; recordedOnly?: boolean; stateDb?: string; stateDbFile?: string; dataDir?: string }): Promise<{ flow: SyncFlow; rows: FileStatusRow[] }> {
  const loaded = loadValidManifests(options.file);
  const flow = pickFilesFlow(loaded, options.file, options.flow);
  const entities = flow.spec.entities.flatMap((e) => (e.source.file ? [{ name: e.name, pattern: e.source.file.pattern }] : []));
  // A SyncJob in the manifests asking for a re-import: `ferry run -f DIR` would run it.
  const reimport = loaded.jobs.filter((j) => j.spec.flowRef.name === flow.metadata.name).flatMap((j) => j.spec.reimport ?? []);
  const [records, listing] = await Promise.all([
    withLocalState(options, (store) => sourceFiles(store.pool, flowIdOf(flow))),
    options.recordedOnly ? undefined : listLocation(loaded, flow),
  ]);
  const { fileStatuses } = await import('../connectors/files/file-status.js');
  return { flow, rows: fileStatuses(entities, records, listing, reimport) };
}

export function registerFilesCommand(program: Command): void {
  program
    .command('files')
    .description('list the files a files source has seen, per entity: imported (when, rows), pending (at the location, not imported yet, or still being written), failed with the reason, unchanged (skipped), re-import requested')
    .requiredOption('-f, --file <path...>', 'manifest file or directory (SyncFlow, ExportTargets, Secrets)')
    .option('--flow <name>', 'SyncFlow (default: the only one with a files source)')
    .option('--recorded-only', 'only the files the state database recorded; do not list the location')
    .addOption(stateDbOption('the embedded PostgreSQL of `ferry run`'))
    .addOption(stateDbFileOption())
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...FILES_OUTPUTS]).default('table'))
    .addOption(new Option('--limit <n>', 'the newest files per entity to print (0: all); the counts cover every file').argParser(parseFilesLimit).default(DEFAULT_FILES_LIMIT))
    .addOption(new Option('--status <state>', 'only the files in this state').choices([...FILE_STATES]))
    .action(async (options) => {
      const { flow, rows } = await localFileStatuses(options);
      const note = options.recordedOnly ? 'the location was not listed (--recorded-only): files not read by a run yet are not shown' : undefined;
      process.stdout.write(renderFileStatuses(flow.metadata.name, rows, options.output as FilesOutput, note, { limit: options.limit, status: options.status }) + '\n');
    });
}
