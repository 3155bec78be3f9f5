import { Command, Option } from 'commander';
import { ConfigError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';

export function registerDataApiCommand(program: Command): void {
  program
    .command('data-api')
    .description('serve the aggregated API data.ferry.dev (pairs, runs, export files) from the state database')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, or $KUBECONFIG)')
    .option('--state-db-url <url>', 'state database URL (default: $FERRY_STATE_DB_URL)')
    .requiredOption('--tls-cert-file <path>', 'serving certificate (PEM)')
    .requiredOption('--tls-private-key-file <path>', 'serving key (PEM)')
    .addOption(new Option('--port <port>', 'HTTPS port').default(8443).argParser((v) => Number(v)))
    .option('--bind-address <address>', 'address to listen on', '0.0.0.0')
    .action(async (options) => {
      const logger = createLogger();
      const stateDbUrl = options.stateDbUrl ?? process.env.FERRY_STATE_DB_URL;
      if (!stateDbUrl) throw new ConfigError('the state database is not set: pass --state-db-url or set FERRY_STATE_DB_URL');
      // Loaded only here, so commands that never talk to a cluster start without the Kubernetes client.
      const [k8s, { startDataApi }] = await Promise.all([import('@kubernetes/client-node'), import('../data-api/start.js')]);
      const kubeconfig = new k8s.KubeConfig();
      if (options.kubeconfig) kubeconfig.loadFromFile(options.kubeconfig);
      else kubeconfig.loadFromDefault();
      const running = await startDataApi({
        kubeconfig,
        stateDbUrl,
        certFile: options.tlsCertFile,
        keyFile: options.tlsPrivateKeyFile,
        port: options.port,
        host: options.bindAddress,
        logger,
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      logger.info('stopping the data API');
      await running.stop();
    });
}
