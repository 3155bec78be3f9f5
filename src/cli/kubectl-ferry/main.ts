/**
 * `kubectl ferry`: start and follow syncs, read status and reports, suspend and resume schedules.
 * It talks to the API server with the user's kubeconfig; the controller does the rest.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { readYamlFile } from '../yaml-file.js';
import type { Resolution, SyncJob } from '../../api/syncjob.js';
import { ConfigError, EXIT_BAD_INPUT, EXIT_SYNC_FAILED, FerryError } from '../../util/errors.js';
import { reimportProblem } from '../reimport-option.js';
import { ferryVersion } from '../version.js';
import { failureOutput, outputFormatOf } from '../error-output.js';
import { complete, completionScript, NO_FILE_COMPLETION, type CompletionSources } from './completion.js';
import { followSyncJob } from './follow.js';
import { busyMessage, conflictsText, newRecordsText, creationTime, estimateText, flowDashboard, isTerminal, runsTable, summaryTable } from './format.js';
import { FerryClient, loadKubeConfig, type ConnectionOptions } from './kube.js';
import { buildResolve, buildRetransfer, buildSyncRequest, parseTimeout, perFieldResolutions, resolutionFromFlags, type ResolutionFlags, type SyncFlags } from '../../actions/sync-jobs.js';
import { DataApiClient } from '../../data-api/client.js';
import { dstNote } from '../../console/dst.js';
import { gitOpsNote, gitOpsOwner, suspendPatch } from './suspend.js';
import { rotateCredentials } from './rotate.js';
import { clusterFileStatuses, clusterFilesNote } from './files.js';
import { DEFAULT_FILES_LIMIT, FILES_OUTPUTS, FILE_STATES, parseFilesLimit, renderFileStatuses, type FilesOutput } from '../files-table.js';
import type { FileState } from '../../connectors/files/file-status.js';
import { DEFAULT_CREDENTIALS_SECRET } from '../../controller/config.js';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

const program = new Command()
  .name('kubectl ferry')
  .description('Start, follow and inspect Ferry syncs with your kubeconfig.')
  .version(ferryVersion(), '--version', 'print the version')
  .option('-n, --namespace <namespace>', 'namespace (default: the kubeconfig context\'s)')
  .option('--context <context>', 'kubeconfig context to use')
  .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
  .option('--as <user>', 'act as this user (impersonation, as kubectl --as)')
  .option('--as-group <group>', 'act as a member of this group (with --as)', (value: string, all: string[]) => [...all, value], [] as string[])
  .exitOverride()
  .showHelpAfterError();

function client(): FerryClient {
  const { kubeConfig, namespace } = loadKubeConfig(program.opts<ConnectionOptions>());
  return new FerryClient(kubeConfig, namespace);
}

async function printReport(api: FerryClient, job: SyncJob, format: 'text' | 'json' = 'text'): Promise<void> {
  const report = await api.getReport(job.metadata.name);
  if (format === 'json') {
    out(JSON.stringify({ name: job.metadata.name, spec: job.spec, status: job.status ?? {}, report: report ?? null }, null, 2));
    return;
  }
  const text = report?.['report.txt'] ?? report?.['report.md'] ?? (report ? Object.values(report)[0] : undefined);
  out(text ?? summaryTable(job));
}

/** Creates the SyncJob, prints its name and estimate, and with --wait follows it to the end. */
async function submit(api: FerryClient, job: SyncJob, options: { wait?: boolean; timeout?: string; output?: string }): Promise<void> {
  const created = await api.createSyncJob(job);
  const name = created.metadata.name;
  if (options.output === 'name') {
    out(`syncjob.ferry.dev/${name}`);
  } else if (options.output === 'json') {
    out(JSON.stringify(created, null, 2));
  } else {
    out(`syncjob.ferry.dev/${name} created (${created.spec.mode}${created.spec.dryRun ? ', dry run' : ''})`);
  }
  if (!options.wait) {
    // The controller writes the estimate at admission, within a moment of creation.
    const deadline = Date.now() + 3000;
    let current = created;
    while (!current.status?.estimate && !current.status?.phase?.match(/Rejected|Failed/) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      current = await api.getSyncJob(name);
    }
    if (options.output !== 'name' && options.output !== 'json') {
      if (current.status?.phase === 'Rejected') err(`rejected: ${current.status.message ?? 'no reason given'}`);
      else out(`estimate: ${estimateText(current)}`);
      out(`follow it: kubectl ferry report ${name}  |  kubectl get sj ${name} -w`);
    }
    if (current.status?.phase === 'Rejected') process.exitCode = EXIT_SYNC_FAILED;
    return;
  }
  const finished = await followSyncJob(api, name, { timeoutMs: parseTimeout(options.timeout ?? '6h'), out: process.stderr });
  // The controller writes the report ConfigMap right after the final phase; give it a moment.
  if (finished.status?.phase !== 'Rejected') {
    const deadline = Date.now() + 10_000;
    while (!(await api.getReport(name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  }
  if (finished.status?.phase === 'Rejected') {
    const flow = finished.spec.flowRef.name;
    const active = (await api.listSyncJobs())
      .filter((j) => j.spec.flowRef.name === flow && j.metadata.name !== name && !isTerminal(j) && j.status?.phase)
      .sort((a, b) => creationTime(a) - creationTime(b))[0];
    throw new FerryError(`${name} was rejected: ${active ? busyMessage(flow, active) : (finished.status.message ?? 'no reason given')}`, EXIT_SYNC_FAILED);
  }
  await printReport(api, finished);
  if (finished.status?.phase !== 'Succeeded') {
    throw new FerryError(`${name} failed: ${finished.status?.message ?? 'no reason given'}`, EXIT_SYNC_FAILED);
  }
}

const waitOptions = (command: Command) =>
  command
    .option('--wait', 'follow the run with a progress bar and print its report; exit non-zero unless it succeeds')
    .option('--timeout <duration>', 'give up waiting after this long (e.g. 90s, 15m, 6h)', '6h')
    .option('--requested-by <email>', 'who gets the report e-mail');

waitOptions(
  program
    .command('sync')
    .description('start a sync of FLOW (Incremental unless a mode flag says otherwise)')
    .argument('<flow>', 'SyncFlow name')
    .option('--full', 'every row, regardless of timestamps; detects deletions')
    .option('--incremental', 'only rows changed since the last watermark (default)')
    .option('--scope <name>', 'a named scope of the flow (incrementally, or fully with --full)')
    .option('--record <entity/key>', 'one record with its required and related records, e.g. people/42')
    .option('--dry-run', 'plan and report without writing (new rows still draw identity/sequence/AUTO_INCREMENT values in the target, so later ids skip them)')
    .option('--reimport <file...>', 'files source: import these files again (by name) although they were imported (spec.reimport)')
    .addOption(new Option('-o, --output <format>', 'what to print on creation').choices(['text', 'name', 'json']).default('text')),
).action(async (flow: string, options: SyncFlags & { wait?: boolean; timeout?: string; output?: string; reimport?: string[] }) => {
  const api = client();
  const job = buildSyncRequest({ namespace: api.namespace, flow }, options);
  if (options.reimport?.length) {
    const problem = reimportProblem({ reimport: options.reimport, mode: job.spec.mode });
    if (problem) throw new ConfigError(problem);
    job.spec.reimport = [...new Set(options.reimport)];
  }
  await submit(api, job, options);
});

program
  .command('status')
  .description('dashboard per flow: readiness, the active run, next scheduled runs, last runs, pair categories')
  .argument('[flow]', 'only this SyncFlow')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .action(async (flow: string | undefined, options: { output: string }) => {
    const api = client();
    const [flows, jobs] = await Promise.all([flow ? api.getFlow(flow).then((f) => [f]) : api.listFlows(), api.listSyncJobs()]);
    if (options.output === 'json') {
      out(JSON.stringify(flows.map((f) => ({ name: f.metadata.name, status: f.status ?? {} })), null, 2));
      return;
    }
    if (flows.length === 0) {
      out(`No SyncFlows in namespace ${api.namespace}.`);
      return;
    }
    const now = new Date();
    out(flows.map((f) => flowDashboard(f, jobs, now, dstNote)).join('\n\n'));
  });

program
  .command('runs')
  .description('past SyncJobs of FLOW, newest first, with creation and transfer status')
  .argument('<flow>', 'SyncFlow name')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .action(async (flow: string, options: { output: string }) => {
    const api = client();
    const jobs = (await api.listSyncJobs()).filter((j) => j.spec.flowRef.name === flow);
    if (options.output === 'json') out(JSON.stringify(jobs, null, 2));
    else out(runsTable(jobs, flow, new Date()));
  });

program
  .command('report')
  .description('the report of a SyncJob')
  .argument('<syncjob>', 'SyncJob name')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .action(async (name: string, options: { output: 'text' | 'json' }) => {
    const api = client();
    const job = await api.getSyncJob(name);
    if (options.output === 'text') {
      const status = job.status ?? {};
      out(`${name}: ${job.spec.mode} of ${job.spec.flowRef.name}, ${status.phase ?? 'Pending'}` + (status.duration ? ` in ${status.duration}` : '') + (status.message ? ` (${status.message})` : ''));
      if (status.estimate && !status.completedAt) out(`estimate: ${estimateText(job)}`);
    }
    await printReport(api, job, options.output);
  });

waitOptions(
  program
    .command('retransfer')
    .description('send the export file of an earlier SyncJob again')
    .argument('<syncjob>', 'the SyncJob whose file is re-sent')
    .option('--target <name>', 'only this ExportTarget (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[]),
).action(async (name: string, options: { target: string[]; wait?: boolean; timeout?: string; requestedBy?: string }) => {
  const api = client();
  const original = await api.getSyncJob(name);
  await submit(api, buildRetransfer(original, options.target, { requestedBy: options.requestedBy }), options);
});

waitOptions(
  program
    .command('resolve')
    .description('apply conflict resolutions or (de)activate pairs of FLOW')
    .argument('<flow>', 'SyncFlow name')
    .option('--entity <name>', 'entity of the pair')
    .option('--source-key <key>', 'source key of the pair')
    .option('--target-key <key>', 'target key of the pair')
    .option('--action <action>', 'KeepSource, KeepTarget, Deactivate, Reactivate, Link or Unlink')
    .option('--fields <list>', 'comma-separated fields, for KeepSource/KeepTarget')
    .option('--keep <choices>', 'per field: FIELD=source|target,... (keep the source or the target value of each field)')
    .option('-f, --filename <file>', 'YAML list of resolutions ({entity, sourceKey, targetKey, action, fields})')
    .option('--dry-run', 'report what would change without writing (new rows still draw identity/sequence/AUTO_INCREMENT values in the target, so later ids skip them)'),
).action(async (flow: string, options: ResolutionFlags & { keep?: string; filename?: string; dryRun?: boolean; wait?: boolean; timeout?: string; requestedBy?: string }) => {
  const resolutions: Resolution[] = [];
  if (options.filename) {
    const parsed = readYamlFile(options.filename);
    if (!Array.isArray(parsed)) throw new ConfigError(`${options.filename}: expected a YAML list of resolutions`);
    resolutions.push(...parsed.map((r: Record<string, string | string[]>) => resolutionFromFlags({ ...r, fields: Array.isArray(r.fields) ? r.fields.join(',') : r.fields } as ResolutionFlags)));
  }
  if (options.keep) {
    if (options.action || options.fields) throw new ConfigError('--keep chooses per field; leave out --action and --fields');
    resolutions.push(...perFieldResolutions(options, options.keep));
  } else if (options.entity || options.action) resolutions.push(resolutionFromFlags(options));
  const api = client();
  await submit(api, buildResolve({ namespace: api.namespace, flow, dryRun: options.dryRun, requestedBy: options.requestedBy }, resolutions), options);
});

/** The data API (data.ferry.dev) with the same kubeconfig, context and namespace. */
function dataApi(): { api: DataApiClient; namespace: string } {
  const { kubeConfig, namespace } = loadKubeConfig(program.opts<ConnectionOptions>());
  return { api: new DataApiClient(kubeConfig), namespace };
}

program
  .command('conflicts')
  .description('pairs of FLOW in conflict, with the differing fields side by side (from the data API)')
  .argument('<flow>', 'SyncFlow name')
  .option('--entity <name>', 'only this entity')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .action(async (flow: string, options: { entity?: string; output: string }) => {
    const { api, namespace } = dataApi();
    const pairs = await api.listPairs(namespace, { flow, entity: options.entity, category: 'conflict' });
    out(options.output === 'json' ? JSON.stringify(pairs, null, 2) : conflictsText(pairs, flow));
  });

program
  .command('new')
  .description('records of FLOW on one side without a partner (category new), with up to three suggested partners each (from the data API)')
  .argument('<flow>', 'SyncFlow name')
  .option('--entity <name>', 'only this entity')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .action(async (flow: string, options: { entity?: string; output: string }) => {
    const { api, namespace } = dataApi();
    const records = await api.listPairs(namespace, { flow, entity: options.entity, category: 'new' });
    out(options.output === 'json' ? JSON.stringify(records, null, 2) : newRecordsText(records, flow));
  });

program
  .command('files')
  .description("the files FLOW's files source has seen, per entity: imported (when, rows), unchanged (skipped), failed with the reason, pending (new, changed or still being written, from the controller's last listing of the location: its age is printed), re-import requested (records from the data API)")
  .argument('<flow>', 'SyncFlow name')
  .option('--entity <name>', 'only this entity')
  .addOption(new Option('-o, --output <format>').choices([...FILES_OUTPUTS]).default('table'))
  .addOption(new Option('--limit <n>', 'the newest files per entity to print (0: all); the counts cover every file').argParser(parseFilesLimit).default(DEFAULT_FILES_LIMIT))
  .addOption(new Option('--status <state>', 'only the files in this state').choices([...FILE_STATES]))
  .action(async (flowName: string, options: { entity?: string; output: FilesOutput; limit: number; status?: FileState }) => {
    const api = client();
    const flow = await api.getFlow(flowName);
    const { api: data, namespace } = dataApi();
    const [files, jobs] = await Promise.all([data.listSourceFiles(namespace, { flow: flowName, entity: options.entity }), api.listSyncJobs()]);
    const rows = clusterFileStatuses(flow, files, jobs, options.entity);
    out(renderFileStatuses(flowName, rows, options.output, clusterFilesNote(flow, new Date(), options.entity), { limit: options.limit, status: options.status }));
  });

program
  .command('download')
  .description("download the export file of a SyncJob's run through the data API and check its SHA-256")
  .argument('<syncjob>', 'the export SyncJob')
  .option('--file <name>', 'the file name, when the run created several')
  .requiredOption('-o, --output <file>', 'where to write it')
  .action(async (name: string, options: { file?: string; output: string }) => {
    const job = await client().getSyncJob(name);
    const runId = job.status?.runId ?? job.status?.reportRef?.runId;
    if (!runId) throw new FerryError(`SyncJob ${name} has no run yet (phase ${job.status?.phase ?? 'Pending'})`, EXIT_BAD_INPUT);
    const { api, namespace } = dataApi();
    const files = await api.listExportFiles(namespace, { run: runId });
    const chosen = options.file ? files.filter((f) => f.fileName === options.file) : files;
    if (chosen.length !== 1) {
      const names = files.map((f) => f.fileName).join(', ') || 'none';
      throw new FerryError(options.file ? `run ${runId} has no file ${options.file} (files: ${names})` : `run ${runId} created ${files.length} files (${names}): pick one with --file`, EXIT_BAD_INPUT);
    }
    const file = chosen[0];
    const partial = `${options.output}.part`;
    try {
      const { bytes, sha256 } = await api.download(namespace, file.metadata.name, createWriteStream(partial));
      renameSync(partial, options.output);
      out(`wrote ${options.output}: ${file.fileName}, ${bytes} bytes, sha256 ${sha256} (verified)`);
    } catch (error) {
      rmSync(partial, { force: true });
      throw new FerryError(`download of ${file.fileName} failed: ${error instanceof Error ? error.message : String(error)}`, EXIT_SYNC_FAILED);
    }
  });

for (const [verb, suspend] of [['suspend', true], ['resume', false]] as const) {
  program
    .command(verb)
    .description(`${verb} FLOW's schedules (all of them, or one with --schedule)`)
    .argument('<flow>', 'SyncFlow name')
    .option('--schedule <name>', 'only this schedule')
    .action(async (flowName: string, options: { schedule?: string }) => {
      const api = client();
      const flow = await api.getFlow(flowName);
      const owner = gitOpsOwner(flow);
      await api.patchFlow(flowName, suspendPatch(flow, suspend, options.schedule));
      out(`syncflow.ferry.dev/${flowName}${options.schedule ? ` schedule ${options.schedule}` : ''} ${suspend ? 'suspended' : 'resumed'}`);
      if (owner) err(gitOpsNote(flow, owner, suspend, options.schedule));
    });
}

program
  .command('rotate-credentials')
  .description("give NAMESPACE's sync Jobs a new state database password (the controller rotates it and rewrites the namespace's credentials Secret; the old password stops working for new connections)")
  .argument('<namespace>', 'namespace whose credential to rotate')
  .option('--secret <name>', "the namespace's credentials Secret (the controller's --namespace-credentials-secret)", DEFAULT_CREDENTIALS_SECRET)
  .option('--timeout <duration>', 'how long to wait for the controller', '2m')
  .action(async (namespace: string, options: { secret: string; timeout: string }) => {
    const { kubeConfig } = loadKubeConfig(program.opts<ConnectionOptions>());
    await rotateCredentials(kubeConfig, namespace, options.secret, { timeoutMs: parseTimeout(options.timeout) });
    out(`secret/${options.secret} in ${namespace}: new state database credential issued`);
  });

program
  .command('console')
  .description('serve the Ferry console (flows, runs, synchronization window, exports) on 127.0.0.1 with your kubeconfig and open it in the browser')
  .addOption(new Option('--port <port>', 'port on 127.0.0.1 (0: any free port)').default(0).argParser((v) => Number(v)))
  .option('--no-open', 'print the address instead of opening the browser')
  .action(async (options: { port: number; open: boolean }) => {
    const { kubeConfig, namespace } = loadKubeConfig(program.opts<ConnectionOptions>());
    // Loaded only here: the other commands start without the console's code.
    const [{ startLocalConsole, openBrowser }, { createLogger }] = await Promise.all([import('../../console/start.js'), import('../../util/logger.js')]);
    const running = await startLocalConsole({ kubeConfig, namespace, port: options.port, logger: createLogger() });
    out(`Ferry console for namespace ${namespace}: ${running.url}`);
    out('It acts with your kubeconfig credentials; keep the link to yourself. Ctrl-C stops it.');
    if (options.open) openBrowser(running.url);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.stop();
  });

program
  .command('completion')
  .description('print a shell completion script: source <(kubectl-ferry completion bash)')
  .argument('<shell>', 'bash or zsh')
  .action((shell: string) => {
    if (shell !== 'bash' && shell !== 'zsh') throw new ConfigError(`completion supports bash and zsh (got "${shell}")`);
    out(completionScript(shell));
  });

program
  .command('__complete', { hidden: true })
  .description('candidates for the last argument (used by kubectl and the completion scripts)')
  .argument('[args...]')
  .allowUnknownOption()
  .helpOption(false)
  .action(async (args: string[]) => {
    // The words being completed may carry -n/--context/--kubeconfig: honour them for the lookups.
    args.forEach((word, i) => {
      const flag = /^(-n|--namespace|--context|--kubeconfig)(?:=(.*))?$/.exec(word);
      const value = flag?.[2] ?? (flag ? args[i + 1] : undefined);
      if (flag && value) program.setOptionValue(flag[1] === '-n' ? 'namespace' : flag[1].slice(2), value);
    });
    const lazyClient = () => client();
    const sources: CompletionSources = {
      flows: async () => (await lazyClient().listFlows()).map((f) => f.metadata.name),
      syncJobs: async () => (await lazyClient().listSyncJobs()).map((j) => j.metadata.name),
      scopes: async (flow) => ((await lazyClient().getFlow(flow)).spec.scopes ?? []).map((s) => s.name),
      schedules: async (flow) => ((await lazyClient().getFlow(flow)).spec.schedules ?? []).map((s) => s.name),
    };
    for (const candidate of await complete(args, sources)) out(candidate);
    out(`:${NO_FILE_COMPLETION}`);
  });

export async function main(argv: string[]): Promise<number> {
  // kubectl_complete-ferry passes the words to complete straight through.
  const args = process.env.FERRY_COMPLETE === '1' ? [argv[0], argv[1], '__complete', '--', ...argv.slice(2)] : argv;
  let active: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    active = actionCommand;
  });
  try {
    await program.parseAsync(args);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    const failure = failureOutput(error, outputFormatOf(active), 'error:');
    if (failure.stdout) out(failure.stdout);
    err(failure.stderr);
    return failure.exitCode;
  }
}

process.exitCode = await main(process.argv);
