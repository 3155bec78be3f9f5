/**
 * Shell completion. kubectl (1.26+) completes plugin arguments by running `kubectl_complete-ferry ARGS...`
 * from PATH, cobra style: one candidate per line, then `:<directive>`. The same logic serves
 * `kubectl-ferry completion bash|zsh` for calling the plugin directly.
 */
export const COMMANDS = ['sync', 'status', 'runs', 'report', 'retransfer', 'resolve', 'suspend', 'resume', 'completion'] as const;

const FLAGS: Record<string, string[]> = {
  sync: ['--full', '--incremental', '--scope', '--record', '--dry-run', '--wait', '--timeout', '--requested-by', '--output'],
  status: ['--output'],
  runs: ['--output'],
  report: ['--output'],
  retransfer: ['--target', '--wait', '--timeout', '--requested-by'],
  resolve: ['--entity', '--source-key', '--target-key', '--action', '--fields', '--filename', '--dry-run', '--wait', '--timeout', '--requested-by'],
  suspend: ['--schedule'],
  resume: ['--schedule'],
  completion: [],
};
const GLOBAL_FLAGS = ['--namespace', '--context', '--kubeconfig'];
const ACTIONS = ['KeepSource', 'KeepTarget', 'Deactivate', 'Reactivate', 'Link', 'Unlink'];

/** cobra's ShellCompDirectiveNoFileComp: no file names after our candidates. */
export const NO_FILE_COMPLETION = 4;

export interface CompletionSources {
  flows(): Promise<string[]>;
  syncJobs(): Promise<string[]>;
  scopes(flow: string): Promise<string[]>;
  schedules(flow: string): Promise<string[]>;
}

/** Candidates for the last word of `args` (the words after `kubectl ferry`, the last one possibly empty). */
export async function complete(args: string[], sources: CompletionSources): Promise<string[]> {
  const words = args.length ? args : [''];
  const current = words[words.length - 1];
  const previous = words.length > 1 ? words[words.length - 2] : undefined;
  const positional = words.slice(0, -1).filter((w, i, all) => !w.startsWith('-') && !(i > 0 && /^--(namespace|context|kubeconfig|scope|record|timeout|requested-by|target|entity|source-key|target-key|action|fields|filename|schedule|output)$|^-[no]$/.test(all[i - 1])));
  const command = positional[0];
  const match = (candidates: string[]) => candidates.filter((c) => c.startsWith(current));
  const safe = async (load: () => Promise<string[]>) => load().catch(() => [] as string[]);

  if (!command) return match(current.startsWith('-') ? GLOBAL_FLAGS : [...COMMANDS]);
  const flow = positional[1];
  switch (previous) {
    case '--scope':
      return flow ? match(await safe(() => sources.scopes(flow))) : [];
    case '--schedule':
      return flow ? match(await safe(() => sources.schedules(flow))) : [];
    case '--action':
      return match(ACTIONS);
    case '--output':
    case '-o':
      return match(command === 'report' ? ['text', 'json'] : ['text', 'json', 'name']);
    case '--record':
    case '--entity':
    case '--source-key':
    case '--target-key':
    case '--timeout':
    case '--requested-by':
    case '--target':
    case '--fields':
    case '--filename':
    case '--namespace':
    case '-n':
    case '--context':
    case '--kubeconfig':
      return [];
  }
  if (current.startsWith('-')) return match([...(FLAGS[command] ?? []), ...GLOBAL_FLAGS]);
  if (positional.length >= 2) return [];
  if (command === 'completion') return match(['bash', 'zsh']);
  if (command === 'report' || command === 'retransfer') return match(await safe(() => sources.syncJobs()));
  return match(await safe(() => sources.flows()));
}

/** A script for `source <(kubectl-ferry completion bash)`, delegating to `kubectl-ferry __complete`. */
export function completionScript(shell: 'bash' | 'zsh'): string {
  const bash = [
    '# kubectl-ferry completion for bash. kubectl 1.26+ completes `kubectl ferry` through',
    '# kubectl_complete-ferry on PATH (installed with the package); this covers `kubectl-ferry` itself.',
    '_kubectl_ferry() {',
    '  local IFS=$\'\\n\'',
    '  local out',
    '  out=$(kubectl-ferry __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null | sed \'/^:/d\')',
    '  COMPREPLY=( $(compgen -W "$out" -- "${COMP_WORDS[COMP_CWORD]}") )',
    '}',
    'complete -F _kubectl_ferry kubectl-ferry',
    '',
  ].join('\n');
  if (shell === 'bash') return bash;
  return ['#compdef kubectl-ferry', 'autoload -U +X bashcompinit && bashcompinit', bash].join('\n');
}
