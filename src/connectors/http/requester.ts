import type { HttpClient } from './client.js';
import { isHttpError } from './errors.js';

/** What reader and writer need of the HTTP client (client.ts: auth, TLS, retries, limits, classified errors). */
export type Requester = Pick<HttpClient, 'request'>;

export const isNotFound = (error: unknown) => isHttpError(error) && (error.kind === 'notFound' || error.status === 410);
/** The API refused this one write (4xx, or 403: not allowed for this record): reject the record, go on. */
export const isRejected = (error: unknown) => isHttpError(error) && (error.kind === 'rejected' || error.kind === 'forbidden');
/** A create that may have reached the server though its answer was lost. */
export const mayHaveApplied = (error: unknown) => isHttpError(error) && error.mayHaveApplied;

/** The API's own words for a refused record (and the field, when it names one); never the request URL. */
export function rejectionReason(error: unknown): string {
  if (!isHttpError(error)) return error instanceof Error ? error.message : String(error);
  const status = error.status ? `HTTP ${error.status}` : error.kind;
  const message = error.apiMessage ?? error.message;
  return error.field ? `${status}: ${message} (field ${error.field})` : `${status}: ${message}`;
}
