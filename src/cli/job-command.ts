import type { Command } from 'commander';

/** Adds `ferry job`; its code (and the Kubernetes client) loads only when a Job pod runs it. */
export function registerJobCommand(program: Command): void {
  program
    .command('job')
    .description('run one SyncJob (the entrypoint of the Kubernetes Job pods the controller creates)')
    .requiredOption('--namespace <ns>', 'namespace of the SyncJob')
    .requiredOption('--name <name>', 'name of the SyncJob')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, or $KUBECONFIG)')
    .action(async (options) => {
      const { runJob } = await import('./job.js');
      process.exitCode = await runJob({ namespace: options.namespace, name: options.name, kubeconfig: options.kubeconfig });
    });
}
