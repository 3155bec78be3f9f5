import type { V1Secret } from '@kubernetes/client-node';
import { namespaceStateUrl } from '../store/tenant-roles.js';
import { ConfigError } from '../util/errors.js';
import type { ControllerContext } from './context.js';
import { isStatus, type KubeObject } from './kube.js';
import { ANNOTATION_ROTATE_REQUESTED, buildCredentialsSecret, credentialsAction } from './state-credentials.js';

export type SecretObject = V1Secret & KubeObject;

function decoded(secret: V1Secret | undefined): Record<string, string> | undefined {
  if (!secret) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  return { ...out, ...(secret.stringData ?? {}) };
}

/**
 * Keeps each namespace's state-database credential: a PostgreSQL role of its own (store/tenant-roles)
 * and a Secret in the namespace with its URL, which the namespace's sync Jobs read. A missing Secret
 * (never made, or deleted) or a rotation request gets a new password; the old one stops working.
 * Only namespaces with SyncFlows get one, checked every `checkEveryMs` with a `get` by name (no list
 * or watch of Secrets, so the controller's RBAC stays narrow). One namespace at a time, so two triggers
 * issue one password.
 */
export class StateCredentialsReconciler {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly ownerUrl: string,
    private readonly checkEveryMs: number,
  ) {}

  /** Before a Job is created in the namespace: its Secret exists (issued now if not). */
  ensure(namespace: string): Promise<void> {
    const previous = this.inFlight.get(namespace) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.keep(namespace));
    const tail = next.catch(() => {});
    this.inFlight.set(namespace, tail);
    void tail.then(() => {
      if (this.inFlight.get(namespace) === tail) this.inFlight.delete(namespace);
    });
    return next;
  }

  async reconcile(namespace: string): Promise<{ requeueAfterMs: number } | void> {
    const hasFlows = this.ctx.flows.list((f) => f.metadata.namespace === namespace).length > 0;
    if (!hasFlows) return;
    await this.ensure(namespace);
    return { requeueAfterMs: this.checkEveryMs };
  }

  private get secretRef() {
    return this.ctx.config.stateDbSecret;
  }

  private async current(namespace: string): Promise<SecretObject | undefined> {
    try {
      return (await this.ctx.kube.core.readNamespacedSecret({ namespace, name: this.secretRef.name })) as SecretObject;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async keep(namespace: string): Promise<void> {
    const existing = await this.current(namespace);
    const action = credentialsAction(existing, this.secretRef.key, decoded(existing));
    if (action === 'keep') return;
    if (action === 'refuse') {
      throw new ConfigError(
        `Secret ${namespace}/${this.secretRef.name} exists but is not managed by Ferry: delete it, and Ferry writes the namespace's own state database credential there`,
      );
    }
    const credential = await this.ctx.runs.issueCredential(namespace);
    const body = buildCredentialsSecret({
      namespace,
      secret: this.secretRef,
      url: namespaceStateUrl(this.ownerUrl, credential),
      role: credential.role,
      rotatedAt: this.ctx.now(),
      rotatedFor: existing?.metadata?.annotations?.[ANNOTATION_ROTATE_REQUESTED],
    });
    if (existing) {
      body.metadata!.resourceVersion = existing.metadata.resourceVersion;
      await this.ctx.kube.core.replaceNamespacedSecret({ namespace, name: this.secretRef.name, body });
    } else {
      await this.ctx.kube.core.createNamespacedSecret({ namespace, body });
    }
    const verb = existing ? 'rotated' : 'issued';
    this.ctx.logger.info({ namespace, role: credential.role, secret: this.secretRef.name }, `state database credential ${verb}`);
  }
}
