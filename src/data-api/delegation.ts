import * as k8s from '@kubernetes/client-node';

/**
 * The API server's front-proxy settings, as kube-apiserver publishes them in
 * kube-system/extension-apiserver-authentication (what every aggregated API server reads).
 */
export interface RequestHeaderConfig {
  /** PEM bundle that signs the API server's front-proxy client certificate. */
  clientCa: string;
  /** Common names the front-proxy certificate may have; empty means any certificate the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

const CONFIG_MAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

function jsonList(value: string | undefined, fallback: string[]): string[] {
  if (!value) return fallback;
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) throw new Error(`${CONFIG_MAP.name}: expected a JSON list of strings, got ${value.slice(0, 100)}`);
  return parsed;
}

/** Pure: the ConfigMap's data -> settings. Throws when the API server has no front proxy configured. */
export function requestHeaderConfigFrom(data: Record<string, string>): RequestHeaderConfig {
  const clientCa = data['requestheader-client-ca-file'];
  if (!clientCa) throw new Error(`${CONFIG_MAP.namespace}/${CONFIG_MAP.name} has no requestheader-client-ca-file: the API server runs without --requestheader-client-ca-file, so it cannot aggregate APIs`);
  return {
    clientCa,
    allowedNames: jsonList(data['requestheader-allowed-names'], []),
    usernameHeaders: jsonList(data['requestheader-username-headers'], ['X-Remote-User']).map((h) => h.toLowerCase()),
    groupHeaders: jsonList(data['requestheader-group-headers'], ['X-Remote-Group']).map((h) => h.toLowerCase()),
    extraHeaderPrefixes: jsonList(data['requestheader-extra-headers-prefix'], ['X-Remote-Extra-']).map((h) => h.toLowerCase()),
  };
}

export async function readRequestHeaderConfig(config: k8s.KubeConfig): Promise<RequestHeaderConfig> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const cm = await core.readNamespacedConfigMap(CONFIG_MAP);
  return requestHeaderConfigFrom(cm.data ?? {});
}
