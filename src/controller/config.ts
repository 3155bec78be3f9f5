/** Resource requests and limits as Kubernetes quantities. */
export interface ResourceSettings {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

/** Sizes of a Job pod's /tmp (an emptyDir, also requested as ephemeral-storage), as Kubernetes quantities. */
export interface ScratchDefaults {
  /** A flow without a files source: exports and the like spool little there. */
  sizeLimit: string;
  /** A flow with a files source: the files it imports are decoded there (kept within half of it), plus a key census of a large snapshot. */
  filesSizeLimit: string;
}

export interface JobDefaults {
  resources: ResourceSettings;
  scratch: ScratchDefaults;
  backoffLimit: number;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
}

/** Everything the controller is told by its flags (and the Helm chart's values). */
export interface ControllerConfig {
  /** Image of the Job pods: the same image as the controller. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Pull secrets (in each flow's namespace) for the Job pods' image. */
  imagePullSecrets?: string[];
  /** Command that starts the ferry CLI inside the image. */
  command: string[];
  /** Service account of the Job pods (needs get on SyncJobs and SyncFlows only). */
  jobServiceAccountName?: string;
  /** Environment name matched against schedules' `enabledIn`. */
  environment?: string;
  /**
   * The Secret the controller writes into each flow's namespace with the state DB URL of that
   * namespace's own role (not the owner credential); the Job pods read it.
   */
  stateDbSecret: { name: string; key: string };
  /** SMTP Secret for report e-mails of flows that name none (the chart's smtp.existingSecret). */
  defaultSmtpSecret?: { namespace: string; name: string };
  /** The console's external address (the chart's console.url): report e-mails link to each run's page there. */
  consoleUrl?: string;
  jobDefaults: JobDefaults;
}

export const DEFAULT_JOB_DEFAULTS: JobDefaults = {
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  // A files flow's 10Gi holds several GB of decoded files (gzip often packs CSV 4 to 10 times) and is
  // the largest ephemeral-storage request some managed node pools allow (GKE Autopilot: 10Gi).
  scratch: { sizeLimit: '1Gi', filesSizeLimit: '10Gi' },
  backoffLimit: 0,
  activeDeadlineSeconds: 6 * 3600,
  ttlSecondsAfterFinished: 7 * 24 * 3600,
};

export const DEFAULT_CREDENTIALS_SECRET = 'ferry-state-db-credentials';

/** The non-root user the image declares (Dockerfile `USER 10001`); Job pods run as it. */
export const IMAGE_USER_ID = 10001;

/** Secrets are mounted here in the Job pod, one directory per Secret (`<dir>/<secret>/<key>`). */
export const SECRETS_MOUNT_DIR = '/var/run/ferry/secrets';
