import type { Logger } from 'pino';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import type { Connector, Session } from '../../engine/connector.js';
import { fieldPath } from '../../api/validation-error.js';
import { ConfigError } from '../../util/errors.js';
import { createHttpClient, type HttpClient } from './client.js';
import { clientConfig, parseCredentials } from './client-config.js';
import { resolveResource, type ResolvedResource } from './resource.js';
import { HttpSession } from './session.js';

export { HTTP_CAPABILITIES } from './session.js';

/** Every entity side's resource of one http system, by the name the side gives it (`table`). */
export function resourcesOf(spec: SyncFlowSpec, side: 'source' | 'target'): Map<string, ResolvedResource> {
  const endpoint = spec[side].http;
  if (!endpoint) throw new ConfigError(`spec.${side}: not an http system`);
  const resources = new Map<string, ResolvedResource>();
  (spec.entities ?? []).forEach((entity, i) => {
    const resource = entity[side].resource;
    const path = fieldPath('spec', 'entities', i, side, 'resource');
    if (!resource) throw new ConfigError(`${path}: required on an http ${side}`);
    resources.set(entity[side].table, resolveResource(endpoint, resource, entity[side].table, path));
  });
  return resources;
}

/**
 * A JSON-over-HTTP API as one side of a flow. `credentials` is the secret material its Secrets hold
 * (client-config.ts); all sessions share one client, so concurrency and rate limits hold for the run.
 */
export function httpConnector(spec: SyncFlowSpec, side: 'source' | 'target', credentials: string, what: string, logger?: Logger): Connector & { client(): HttpClient } {
  const endpoint = spec[side].http!;
  const resources = resourcesOf(spec, side);
  let client: HttpClient | undefined;
  const noted = new Set<string>();
  const shared = () => (client ??= createHttpClient(clientConfig(endpoint, parseCredentials(credentials), `spec.${side}.http`), logger));
  return {
    kind: 'http',
    what,
    client: shared,
    async open(): Promise<Session> {
      return new HttpSession(shared(), resources, {
        clientSideFilter(resource) {
          if (noted.has(resource)) return;
          noted.add(resource);
          logger?.info({ resource }, `${what}: resource ${resource} has no server-side filter; Incremental lists every record and filters in Ferry`);
        },
      });
    },
  };
}
