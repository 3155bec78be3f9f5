import nodemailer from 'nodemailer';
import { ConfigError } from '../util/errors.js';
import type { EmailContent } from './report-email.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  username?: string;
  password?: string;
  from: string;
  /** Accept self-signed server certificates (test servers only). */
  insecureSkipVerify?: boolean;
}

/**
 * SMTP settings from a Secret's keys: `host`, `port` (default 587, or 465 when secure), `secure`,
 * `username`, `password`, `from`; or a single `url` (smtp:// or smtps://user:pass@host:port) plus `from`.
 */
export function smtpSettingsFromSecret(data: Record<string, string>, secretName: string): SmtpSettings {
  const from = data.from;
  if (!from) throw new ConfigError(`SMTP Secret "${secretName}" has no key "from"`);
  if (data.url) {
    const url = new URL(data.url);
    const secure = url.protocol === 'smtps:';
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      from,
      insecureSkipVerify: data.insecureSkipVerify === 'true',
    };
  }
  if (!data.host) throw new ConfigError(`SMTP Secret "${secretName}" needs "host" or "url"`);
  const secure = data.secure === 'true';
  return {
    host: data.host,
    port: data.port ? Number(data.port) : secure ? 465 : 587,
    secure,
    username: data.username,
    password: data.password,
    from,
    insecureSkipVerify: data.insecureSkipVerify === 'true',
  };
}

/**
 * Sends one e-mail. The Message-ID is derived from `messageKey` (the SyncJob uid), so in the rare
 * case a crash forces a re-send, receiving servers and clients can tell it is the same message.
 */
export async function sendEmail(smtp: SmtpSettings, to: string[], content: EmailContent, messageKey: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.username ? { user: smtp.username, pass: smtp.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !smtp.insecureSkipVerify },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    await transport.sendMail({
      from: smtp.from,
      to,
      subject: content.subject,
      text: content.text,
      html: content.html,
      messageId: `<${messageKey}@ferry.dev>`,
    });
  } finally {
    transport.close();
  }
}
