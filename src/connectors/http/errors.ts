import { FerryError } from '../../util/errors.js';

/**
 * Why a request failed, in the terms a caller acts on:
 * - rateLimited, unavailable, timeout, network: transient; retried within the budget, thrown when it is spent;
 * - auth: credentials refused (401): new credentials are needed;
 * - forbidden: credentials accepted, this request not allowed (403), e.g. editing another user's post;
 * - rejected: the API refused this one request (400, 409, 422 and other 4xx but 408/429): reject the record, go on;
 * - notFound: 404 and 410;
 * - malformed: a body that is not the JSON it claims to be.
 */
export type HttpErrorKind = 'rateLimited' | 'unavailable' | 'timeout' | 'network' | 'auth' | 'forbidden' | 'rejected' | 'notFound' | 'malformed';

export interface HttpErrorDetails {
  kind: HttpErrorKind;
  method: string;
  /** The request address with every secret masked. */
  url: string;
  status?: number;
  /** The API's own message (e.g. WordPress's `message`), secrets masked. */
  apiMessage?: string;
  /** The API's error code (e.g. `rest_invalid_param`), when it sends one. */
  apiCode?: string;
  /** The field the API names as the culprit, when it names one. */
  field?: string;
  /** A write that may have reached the server: the caller must look the record up before writing it again. */
  mayHaveApplied?: boolean;
  /** Attempts made, retries included. */
  attempts?: number;
}

/** A classified HTTP failure; its message never holds a credential. */
export class HttpError extends FerryError {
  readonly kind: HttpErrorKind;
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly apiMessage: string | undefined;
  readonly apiCode: string | undefined;
  readonly field: string | undefined;
  readonly mayHaveApplied: boolean;
  readonly attempts: number;

  constructor(message: string, details: HttpErrorDetails) {
    super(message);
    this.name = 'HttpError';
    this.kind = details.kind;
    this.method = details.method;
    this.url = details.url;
    this.status = details.status;
    this.apiMessage = details.apiMessage;
    this.apiCode = details.apiCode;
    this.field = details.field;
    this.mayHaveApplied = details.mayHaveApplied ?? false;
    this.attempts = details.attempts ?? 1;
  }

  /** Worth another attempt later (another run), as opposed to a refusal of this request. */
  get transient(): boolean {
    return this.kind === 'rateLimited' || this.kind === 'unavailable' || this.kind === 'timeout' || this.kind === 'network';
  }
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}
