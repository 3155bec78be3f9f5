import type { V1Secret } from '@kubernetes/client-node';
import { namespaceStateUrl } from '../store/tenant-roles.js';
import { ConfigError } from '../util/errors.js';
import type { ControllerContext } from './context.js';
import { isStatus, type KubeObject } from './kube.js';
import { ANNOTATION_ROTATE_REQUESTED, ANNOTATION_ROTATED_FOR, buildCredentialsSecret, credentialsAction } from './state-credentials.js';

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
 * Only namespaces with SyncFlows get one; a namespace that has none left is retired (role dropped,
 * Secret deleted). The controller watches these Secrets by name (controller/credentials-secrets.ts), so a
 * deletion or a rotation request is acted on at once; each is also checked every `checkEveryMs`. One
 * namespace at a time, so two triggers issue one password.
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
    return this.serialised(namespace, () => this.keep(namespace));
  }

  async reconcile(namespace: string): Promise<{ requeueAfterMs: number } | void> {
    const hasFlows = this.ctx.flows.list((f) => f.metadata.namespace === namespace).length > 0;
    if (!hasFlows) return this.serialised(namespace, () => this.retire(namespace));
    await this.ensure(namespace);
    return { requeueAfterMs: this.checkEveryMs };
  }

  /** Namespaces that still have a role but no SyncFlow (their last flow went while no controller led), to retire. */
  async orphaned(watchedNamespace?: string): Promise<string[]> {
    const withRoles = await this.ctx.runs.namespacesWithRoles();
    return withRoles.filter(
      (ns) => (watchedNamespace === undefined || ns === watchedNamespace) && this.ctx.flows.list((f) => f.metadata.namespace === ns).length === 0,
    );
  }

  private serialised(namespace: string, work: () => Promise<void>): Promise<void> {
    const previous = this.inFlight.get(namespace) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    const tail = next.catch(() => {});
    this.inFlight.set(namespace, tail);
    void tail.then(() => {
      if (this.inFlight.get(namespace) === tail) this.inFlight.delete(namespace);
    });
    return next;
  }

  /**
   * A namespace without SyncFlows (the last one deleted, or the namespace itself) keeps no credential: its
   * role is dropped (open sessions ended) and the Secret Ferry wrote there deleted. Its rows stay.
   */
  private async retire(namespace: string): Promise<void> {
    const role = await this.ctx.runs.retireCredential(namespace);
    const existing = await this.current(namespace);
    if (existing && credentialsAction(existing, this.secretRef.key) !== 'refuse') {
      try {
        await this.ctx.kube.core.deleteNamespacedSecret({ namespace, name: this.secretRef.name });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    }
    if (role || existing) this.ctx.logger.info({ namespace, role, secret: this.secretRef.name }, 'state database credential retired: the namespace has no SyncFlows');
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
    // An explicit rotation (kubectl ferry rotate-credentials) also ends the sessions open with the old password.
    const annotations = existing?.metadata?.annotations ?? {};
    const rotationRequested = annotations[ANNOTATION_ROTATE_REQUESTED] !== undefined && annotations[ANNOTATION_ROTATE_REQUESTED] !== annotations[ANNOTATION_ROTATED_FOR];
    const credential = await this.ctx.runs.issueCredential(namespace, { endSessions: rotationRequested });
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
