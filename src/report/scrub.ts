import { redactSecrets } from '../util/redact.js';

/** Removes credentials from text: passwords in URLs and connection strings, and every known secret value. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = redactSecrets(text);
  for (const secret of secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}
