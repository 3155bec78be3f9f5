import { Command, Option } from 'commander';
import { SIZE_QUANTITY_PATTERN } from '../api/syncflow.js';
import { DEFAULT_CREDENTIALS_SECRET, DEFAULT_JOB_DEFAULTS, type ControllerConfig } from '../controller/config.js';
import { ConfigError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';

function positiveInt(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${flag} takes a whole number, got "${value}"`);
    return n;
  };
}

function sizeQuantity(flag: string) {
  return (value: string) => {
    if (!new RegExp(SIZE_QUANTITY_PATTERN).test(value)) throw new ConfigError(`${flag} takes a size such as 10Gi, got "${value}"`);
    return value;
  };
}

function namespacedName(value: string): { namespace: string; name: string } {
  const [namespace, name, extra] = value.split('/');
  if (!namespace || !name || extra !== undefined) throw new ConfigError(`--smtp-secret takes NAMESPACE/NAME, got "${value}"`);
  return { namespace, name };
}

function consoleUrl(value: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) throw new ConfigError(`--console-url takes an http(s) address, got "${value}"`);
  return value.replace(/\/+$/, '');
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('run the Kubernetes controller: SyncFlow schedules, SyncJob admission and Jobs, ExportTarget probes')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, or $KUBECONFIG)')
    .option('--namespace <ns>', 'watch only this namespace (default: all namespaces)')
    .option('--environment <name>', "this cluster's environment, matched against schedules' enabledIn", process.env.FERRY_ENVIRONMENT)
    .option('--state-db-url <url>', 'state database URL (default: $FERRY_STATE_DB_URL)')
    .option(
      '--namespace-credentials-secret <name>',
      "Secret the controller writes into each namespace with flows: the state DB URL of that namespace's own role, which its Jobs use",
      DEFAULT_CREDENTIALS_SECRET,
    )
    .addOption(
      new Option('--smtp-secret <namespace/name>', 'default SMTP Secret for flows without notifications.smtpSecretRef (default: $FERRY_SMTP_SECRET)').argParser(namespacedName),
    )
    .option('--console-url <url>', "the console's external address, linked from report e-mails (default: $FERRY_CONSOLE_URL)", process.env.FERRY_CONSOLE_URL)
    .option('--image <image>', 'image of the Job pods (default: $FERRY_IMAGE)', process.env.FERRY_IMAGE)
    .addOption(new Option('--image-pull-policy <policy>').choices(['Always', 'IfNotPresent', 'Never']))
    .option('--job-image-pull-secret <name...>', "pull secrets of the Job pods' image (in each flow's namespace)")
    .option('--job-command <cmd>', 'command that starts ferry in the image', 'ferry')
    .option('--job-service-account <name>', 'service account of the Job pods (get on SyncJobs, SyncFlows, ExportTargets)')
    .option('--job-cpu-request <q>', 'default CPU request of Job pods', DEFAULT_JOB_DEFAULTS.resources.requests?.cpu)
    .option('--job-cpu-limit <q>', 'default CPU limit of Job pods')
    .option('--job-memory-request <q>', 'default memory request of Job pods', DEFAULT_JOB_DEFAULTS.resources.requests?.memory)
    .option('--job-memory-limit <q>', 'default memory limit of Job pods (also sizes the V8 heap)', DEFAULT_JOB_DEFAULTS.resources.limits?.memory)
    .addOption(
      new Option('--job-scratch-size <q>', "default size of Job pods' /tmp (emptyDir, also requested as ephemeral-storage)")
        .argParser(sizeQuantity('--job-scratch-size'))
        .default(DEFAULT_JOB_DEFAULTS.scratch.sizeLimit),
    )
    .addOption(
      new Option('--job-files-scratch-size <q>', "default size of /tmp for flows with a files source (the files a run imports are decoded there)")
        .argParser(sizeQuantity('--job-files-scratch-size'))
        .default(DEFAULT_JOB_DEFAULTS.scratch.filesSizeLimit),
    )
    .addOption(new Option('--job-backoff-limit <n>').argParser(positiveInt('--job-backoff-limit')).default(DEFAULT_JOB_DEFAULTS.backoffLimit))
    .addOption(new Option('--job-active-deadline <seconds>').argParser(positiveInt('--job-active-deadline')).default(DEFAULT_JOB_DEFAULTS.activeDeadlineSeconds))
    .addOption(new Option('--job-ttl <seconds>', 'ttlSecondsAfterFinished of Jobs').argParser(positiveInt('--job-ttl')).default(DEFAULT_JOB_DEFAULTS.ttlSecondsAfterFinished))
    .addOption(new Option('--health-port <port>', '/healthz, /readyz and /metrics').argParser(positiveInt('--health-port')).default(8080))
    .addOption(new Option('--webhook-port <port>', 'POST /webhooks/<namespace>/<flow> for flows with spec.webhook (default: off)').argParser(positiveInt('--webhook-port')))
    .option('--no-leader-elect', 'do not use a Lease (single replica only)')
    .option('--lease-namespace <ns>', 'namespace of the leader Lease (default: $POD_NAMESPACE or default)')
    .option('--lease-name <name>', 'name of the leader Lease', 'ferry-controller')
    .addOption(new Option('--workers <n>', 'reconciles run side by side').argParser(positiveInt('--workers')).default(4))
    .action(async (options) => {
      const logger = createLogger();
      const stateDbUrl = options.stateDbUrl ?? process.env.FERRY_STATE_DB_URL;
      if (!stateDbUrl) throw new ConfigError('the state database is not set: pass --state-db-url or set FERRY_STATE_DB_URL');
      if (!options.image) throw new ConfigError('the Job image is not set: pass --image or set FERRY_IMAGE');
      const config: ControllerConfig = {
        image: options.image,
        imagePullPolicy: options.imagePullPolicy,
        ...(options.jobImagePullSecret ? { imagePullSecrets: options.jobImagePullSecret } : {}),
        command: String(options.jobCommand).split(/\s+/).filter(Boolean),
        jobServiceAccountName: options.jobServiceAccount,
        environment: options.environment,
        stateDbSecret: { name: options.namespaceCredentialsSecret, key: 'url' },
        ...(options.smtpSecret || process.env.FERRY_SMTP_SECRET
          ? { defaultSmtpSecret: options.smtpSecret ?? namespacedName(process.env.FERRY_SMTP_SECRET!) }
          : {}),
        ...(options.consoleUrl ? { consoleUrl: consoleUrl(options.consoleUrl) } : {}),
        jobDefaults: {
          resources: {
            requests: { ...(options.jobCpuRequest ? { cpu: options.jobCpuRequest } : {}), ...(options.jobMemoryRequest ? { memory: options.jobMemoryRequest } : {}) },
            limits: { ...(options.jobCpuLimit ? { cpu: options.jobCpuLimit } : {}), ...(options.jobMemoryLimit ? { memory: options.jobMemoryLimit } : {}) },
          },
          scratch: { sizeLimit: options.jobScratchSize, filesSizeLimit: options.jobFilesScratchSize },
          backoffLimit: options.jobBackoffLimit,
          activeDeadlineSeconds: options.jobActiveDeadline,
          ttlSecondsAfterFinished: options.jobTtl,
        },
      };
      // The Kubernetes client is loaded only by the commands that talk to a cluster: `ferry run` starts faster.
      const [{ Controller }, { Kube }] = await Promise.all([import('../controller/controller.js'), import('../controller/kube.js')]);
      const controller = new Controller({
        kube: Kube.fromDefault(options.kubeconfig),
        config,
        stateDbUrl,
        logger,
        namespace: options.namespace,
        workers: options.workers,
        healthPort: options.healthPort,
        webhookPort: options.webhookPort,
        processMetrics: true,
        leaderElection: options.leaderElect
          ? { namespace: options.leaseNamespace ?? process.env.POD_NAMESPACE ?? 'default', name: options.leaseName, identity: process.env.POD_NAME }
          : false,
      });
      await controller.start();
      logger.info({ identity: controller.identity, healthPort: controller.healthPort, webhookPort: controller.webhookPort ?? null, environment: config.environment ?? null }, 'controller started');
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          controller.stop({ release: true }).then(resolve, resolve);
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
      });
    });
}
