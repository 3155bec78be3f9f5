/**
 * What is wrong with `--reimport` as given, as a SyncJob's spec.reimport would be refused: a name
 * only (files are listed in one directory), in a Full or Incremental run, not under --watch.
 */
export function reimportProblem(options: { reimport?: string[]; mode?: string; record?: string; scope?: string; watch?: boolean }): string | undefined {
  if (!options.reimport?.length) return undefined;
  if (options.watch) return '--reimport asks for one run; it cannot be combined with --watch';
  const mode = options.mode ?? (options.record ? 'Record' : options.scope ? 'Scope' : 'Incremental');
  if (mode !== 'Full' && mode !== 'Incremental') return `--reimport is only used with mode Full or Incremental, not ${mode}`;
  const bad = options.reimport.find((name) => !/^[^/\0]{1,256}$/.test(name));
  if (bad !== undefined) return `--reimport ${JSON.stringify(bad)}: a file name, without a directory (files are read where they are now, e.g. processed/)`;
  return undefined;
}
