import { Command, Option } from 'commander';
import { createLogger } from '../util/logger.js';

/**
 * `ferry console`: the console in the cluster (chart value console.enabled), behind a sign-in proxy
 * that forwards each user's bearer token. The pod holds no Kubernetes credentials of its own.
 */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description('serve the Ferry console for users signed in through a proxy that forwards their bearer token (e.g. oauth2-proxy)')
    .option('--server <url>', 'the API server (default: the in-cluster one)')
    .option('--ca-file <path>', "CA of the API server's certificate (default: the pod's service account CA)")
    .option('--namespace <namespace>', 'the namespace shown first', 'default')
    .option('--sign-in-url <url>', 'where the sign-in page sends people without a token (e.g. /oauth2/start)')
    .addOption(new Option('--port <port>', 'HTTP port').default(8080).argParser((v) => Number(v)))
    .option('--bind-address <address>', 'address to listen on', '0.0.0.0')
    .action(async (options) => {
      const logger = createLogger();
      const { startClusterConsole, inClusterApiServer } = await import('../console/start.js');
      const cluster = options.server ? { server: options.server as string, ...(options.caFile ? { caFile: options.caFile as string } : {}) } : inClusterApiServer(options.caFile);
      const running = await startClusterConsole({ cluster, namespace: options.namespace, port: options.port, host: options.bindAddress, logger, signInUrl: options.signInUrl });
      logger.info({ port: running.port, apiServer: cluster.server }, 'console listening');
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await running.stop();
    });
}
