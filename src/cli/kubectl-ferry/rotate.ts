import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { ANNOTATION_ROTATE_REQUESTED, ANNOTATION_ROTATED_FOR } from '../../controller/state-credentials.js';
import { EXIT_SYNC_FAILED, FerryError } from '../../util/errors.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    if (parsed && typeof parsed === 'object' && 'message' in parsed) return String((parsed as { message: unknown }).message);
  } catch {
    /* not JSON */
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * `kubectl ferry rotate-credentials NAMESPACE`: asks the controller for a new state database password
 * for the namespace (an annotation on its credentials Secret) and waits until the Secret holds it.
 * The old password stops working for new connections; runs already connected finish.
 */
export async function rotateCredentials(
  kubeConfig: KubeConfig,
  namespace: string,
  secretName: string,
  options: { timeoutMs: number; pollMs?: number },
): Promise<{ rotatedFor: string }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const request = new Date().toISOString();
  try {
    await core.patchNamespacedSecret({ namespace, name: secretName, body: { metadata: { annotations: { [ANNOTATION_ROTATE_REQUESTED]: request } } } }, mergePatch);
  } catch (error) {
    throw new FerryError(`cannot request a new credential in Secret ${namespace}/${secretName}: ${apiMessage(error)}`, EXIT_SYNC_FAILED);
  }
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let secret: V1Secret;
    try {
      secret = await core.readNamespacedSecret({ namespace, name: secretName });
    } catch (error) {
      throw new FerryError(`cannot read Secret ${namespace}/${secretName}: ${apiMessage(error)}`, EXIT_SYNC_FAILED);
    }
    if (secret.metadata?.annotations?.[ANNOTATION_ROTATED_FOR] === request) return { rotatedFor: request };
    if (Date.now() > deadline) {
      throw new FerryError(`the controller has not rotated the credential in Secret ${namespace}/${secretName} yet (is it running?); the request stays in place`, EXIT_SYNC_FAILED);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}
