import type https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';
import { FerryError } from '../../util/errors.js';

export interface Impersonation {
  /** kubectl's --as: act as this user (the API server checks that you may impersonate them). */
  as?: string;
  /** kubectl's --as-group. */
  asGroup?: string[];
}

/**
 * A kubeconfig whose requests carry Impersonate-User / Impersonate-Group, like kubectl --as and
 * --as-group: for the Ferry kinds through the generated clients and for the data API (which the
 * API server proxies as the impersonated user, so its SubjectAccessReviews are about them).
 */
export function impersonating(kubeConfig: KubeConfig, options: Impersonation): KubeConfig {
  const groups = options.asGroup ?? [];
  if (!options.as && groups.length === 0) return kubeConfig;
  if (!options.as) throw new FerryError('--as-group needs --as (as with kubectl)', 2);
  // The generated clients carry one value per header name, and Kubernetes does not split a
  // comma-joined Impersonate-Group: more than one group would be read as one group named "a,b".
  if (groups.length > 1) throw new FerryError('kubectl ferry takes one --as-group', 2);
  const user = options.as;
  const group = groups[0];
  const config = new (class extends KubeConfig {
    override async applyToHTTPSOptions(opts: https.RequestOptions | Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
      await super.applyToHTTPSOptions(opts);
      opts.headers = { ...opts.headers, 'Impersonate-User': user, ...(group ? { 'Impersonate-Group': group } : {}) };
    }

    override async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await super.applySecurityAuthentication(context);
      context.setHeaderParam('Impersonate-User', user);
      if (group) context.setHeaderParam('Impersonate-Group', group);
    }
  })();
  config.loadFromOptions({ clusters: kubeConfig.clusters, users: kubeConfig.users, contexts: kubeConfig.contexts, currentContext: kubeConfig.getCurrentContext() });
  return config;
}
