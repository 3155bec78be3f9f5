import { Type, type Static } from '@sinclair/typebox';
import {
  Count,
  LocalObjectReferenceSchema,
  Message,
  SecretKeyRefSchema,
  StringEnum,
  Timestamp,
  celRules,
  resourceSchema,
} from './common.js';
import { ConditionsSchema } from './conditions.js';
import { DEFAULTS } from './defaults-values.js';
import { FileNameTemplate } from './export-settings.js';

export const PROTOCOLS = ['SFTP', 'FTPS', 'FTPS-Implicit', 'FTP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const ACCESS_MODES = ['ReadWrite', 'ReadOnly'] as const;

export const DEFAULT_PORTS: Record<Protocol, number> = { SFTP: 22, FTPS: 21, 'FTPS-Implicit': 990, FTP: 21 };

export const ExportTargetSpecSchema = Type.Object(
  {
    protocol: StringEnum(PROTOCOLS, { description: 'SFTP, FTPS (explicit TLS), FTPS-Implicit or plain FTP.' }),
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9:.\\[\\]-]+$', description: 'Host name or IP.' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 22 (SFTP), 21 (FTPS, FTP), 990 (FTPS-Implicit).' })),
    directory: Type.Optional(Type.String({ maxLength: 1024, description: 'Remote directory.' })),
    credentialsSecretRef: Type.Object(
      { ...LocalObjectReferenceSchema.properties },
      { description: 'Secret with keys username, and password and/or privateKey.' },
    ),
    sftp: Type.Optional(
      Type.Object(
        {
          hostKey: Type.Optional(Type.String({ maxLength: 16384, description: 'Pinned public host key (OpenSSH format).' })),
          hostKeyFingerprint: Type.Optional(
            Type.String({
              maxLength: 128,
              pattern: '^(SHA256:[A-Za-z0-9+/]{43}=?|MD5:([0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2})$',
              description: 'Pinned host key fingerprint, e.g. SHA256:...',
            }),
          ),
        },
        { description: 'SFTP options.' },
      ),
    ),
    ftps: Type.Optional(
      Type.Object(
        {
          caSecretRef: Type.Optional(SecretKeyRefSchema),
          insecureSkipVerify: Type.Optional(Type.Boolean({ description: 'Do not verify the server certificate.' })),
        },
        { description: 'FTPS options.' },
      ),
    ),
    insecure: Type.Optional(Type.Boolean({ description: 'Allow unencrypted or unpinned connections; required for FTP.' })),
    access: Type.Optional(
      StringEnum(ACCESS_MODES, {
        default: 'ReadWrite',
        description:
          'ReadWrite (default): exports write here, the probe writes a probe file. ReadOnly: a partner location files sources only read from; the probe lists instead of writing, and exports to it are refused.',
      }),
    ),
    fileNameTemplate: Type.Optional(FileNameTemplate('Overrides the flow fileNameTemplate for this target.')),
    retry: Type.Optional(
      Type.Object(
        {
          maxAttempts: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 20, default: DEFAULTS.transferAttempts, description: 'Attempts per file, including the first; default 4.' }),
          ),
          initialDelaySeconds: Type.Optional(
            Type.Number({ minimum: 0, maximum: 3600, default: DEFAULTS.transferInitialDelaySeconds, description: 'Delay before the first retry, doubled each time (with jitter); default 2.' }),
          ),
          maxDelaySeconds: Type.Optional(
            Type.Number({ minimum: 0, maximum: 3600, default: DEFAULTS.transferMaxDelaySeconds, description: 'Upper bound of a retry delay; default 60.' }),
          ),
        },
        { description: 'Retries of transient transfer failures (connection lost, timeouts, 4xx replies).' },
      ),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3600, default: DEFAULTS.transferTimeoutSeconds, description: 'Connect and reply timeout; default 30.' }),
    ),
    probeIntervalSeconds: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 86400,
        default: DEFAULTS.probeIntervalSeconds,
        description: 'Seconds between connectivity probes; default 300.',
      }),
    ),
  },
  {
    description: 'A file destination.',
    ...celRules({
      rule: "self.protocol != 'FTP' || (has(self.insecure) && self.insecure)",
      message: 'plain FTP requires insecure: true',
    }),
  },
);
export type ExportTargetSpec = Static<typeof ExportTargetSpecSchema>;

export const ExportTargetStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Count('metadata.generation last reconciled.')),
    conditions: Type.Optional(ConditionsSchema()),
    lastTransfer: Type.Optional(
      Type.Object(
        {
          runId: Type.String({ maxLength: 128 }),
          state: Type.String({ maxLength: 64, description: 'Outcome, e.g. Succeeded or Failed.' }),
          at: Timestamp('When the transfer finished.'),
          bytes: Type.Optional(Count('Bytes transferred.')),
          message: Type.Optional(Message('Details.', 1024)),
        },
        { description: 'Most recent transfer to this target.' },
      ),
    ),
  },
  { description: 'Observed state, written by the controller.' },
);
export type ExportTargetStatus = Static<typeof ExportTargetStatusSchema>;

export const ExportTargetSchema = resourceSchema('ExportTarget', ExportTargetSpecSchema, ExportTargetStatusSchema);
export type ExportTarget = Static<typeof ExportTargetSchema>;
