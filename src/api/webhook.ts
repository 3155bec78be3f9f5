import { Type, type Static } from '@sinclair/typebox';
import { Name, SecretKeyRefSchema, StringEnum, celRules } from './common.js';
import { JSON_POINTER_PATTERN } from './http.js';

export const WEBHOOK_AUTHENTICATIONS = ['HmacSha256', 'SharedSecret'] as const;
export type WebhookAuthentication = (typeof WEBHOOK_AUTHENTICATIONS)[number];
export const WEBHOOK_SIGNATURE_ENCODINGS = ['Hex', 'Base64'] as const;
export const WEBHOOK_RUNS = ['Incremental', 'Record'] as const;

export const WEBHOOK_DEFAULTS = {
  secretKey: 'secret',
  signatureHeader: 'X-Ferry-Signature',
  signatureEncoding: 'Hex',
  toleranceSeconds: 300,
  run: 'Incremental',
} as const;

const HeaderName = (description: string) =>
  Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 128, description });

export const WebhookSchema = Type.Object(
  {
    secretRef: SecretKeyRefSchema,
    authentication: StringEnum(WEBHOOK_AUTHENTICATIONS, {
      description:
        'HmacSha256: the signature header carries the HMAC-SHA256 of the raw body (of "<timestamp>.<body>" when timestampHeader is set), in signatureEncoding, optionally prefixed "sha256="; SharedSecret: the signature header carries the secret itself.',
    }),
    signatureHeader: Type.Optional(HeaderName(`Header with the signature or the shared secret; default ${WEBHOOK_DEFAULTS.signatureHeader}.`)),
    signatureEncoding: Type.Optional(
      StringEnum(WEBHOOK_SIGNATURE_ENCODINGS, { description: 'HmacSha256: Hex (GitHub-style) or Base64 (WooCommerce, Shopify); default Hex.' }),
    ),
    timestampHeader: Type.Optional(
      HeaderName('HmacSha256: header with the Unix time the delivery was signed at, for senders that send one; the signature then covers "<timestamp>.<body>", and deliveries older than toleranceSeconds or seen before are refused.'),
    ),
    toleranceSeconds: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 3600, description: 'With timestampHeader: how far the signed time may be from now; default 300.' }),
    ),
    run: Type.Optional(StringEnum(WEBHOOK_RUNS, { description: 'What a delivery starts: an Incremental run (default) or a Record run of the key named in the body.' })),
    record: Type.Optional(
      Type.Object(
        {
          entity: Name('Entity of the record.'),
          keyPointer: Type.String({ pattern: JSON_POINTER_PATTERN, minLength: 1, maxLength: 256, description: "Where the record's source key is in the delivery's JSON body (JSON pointer), e.g. /id or /data/id." }),
        },
        { description: 'run Record: which record a delivery names.' },
      ),
    ),
  },
  {
    description:
      'Incoming webhooks: POST /webhooks/<namespace>/<flow> on the controller (ferry controller --webhook-port) starts an Incremental run, or a Record run of the key in the body. Deliveries while such a run waits join it.',
    ...celRules(
      { rule: "!has(self.run) || self.run != 'Record' || has(self.record)", message: 'run Record needs record (entity and keyPointer)' },
      { rule: "!has(self.record) || (has(self.run) && self.run == 'Record')", message: 'record is only read with run Record' },
      { rule: "!has(self.timestampHeader) || self.authentication == 'HmacSha256'", message: 'timestampHeader needs authentication HmacSha256' },
    ),
  },
);
export type Webhook = Static<typeof WebhookSchema>;
