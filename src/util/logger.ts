import pino, { type Logger } from 'pino';

/** Paths pino must never print, whatever object they sit in. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'url',
  '*.url',
  'connectionString',
  '*.connectionString',
  'stringData',
  '*.stringData',
  'data',
  '*.data',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'headers.authorization',
];

export function createLogger(options: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.FERRY_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };
  if (pretty && !options.destination) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } } });
  }
  return pino({ level, redact }, (options.destination as pino.DestinationStream) ?? pino.destination(2));
}
