/** What an API says about a refused request, read from the common error body shapes. */
export interface ApiError {
  message?: string;
  code?: string;
  field?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Shapes read: WordPress (`code`, `message`, `data.params` naming the field), RFC 7807 problem
 * details (`title`, `detail`), OAuth (`error`, `error_description`), `{error: {message, code}}`, and
 * `errors` as a list of `{message, field}` or a map of field to messages.
 */
export function apiErrorOf(body: unknown, rawText: string): ApiError {
  if (!isObject(body)) {
    const plain = rawText.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return plain ? { message: plain } : {};
  }
  const nested = isObject(body.error) ? body.error : undefined;
  const code = text(body.code) ?? text(nested?.code) ?? (nested ? undefined : text(body.error));
  let message = text(body.message) ?? text(nested?.message) ?? text(body.error_description) ?? text(body.detail) ?? text(body.title) ?? (nested ? undefined : text(body.error));
  let field: string | undefined;

  const data = isObject(body.data) ? body.data : undefined;
  const params = isObject(data?.params) ? data.params : undefined;
  if (params) {
    const [name, why] = Object.entries(params)[0] ?? [];
    field = name;
    if (text(why)) message = `${message ?? 'invalid parameter'} (${text(why)})`;
  }
  const errors = body.errors;
  if (Array.isArray(errors) && isObject(errors[0])) {
    const first = errors[0];
    field ??= text(first.field) ?? text(first.param) ?? text(first.path) ?? text(first.pointer);
    message ??= text(first.message) ?? text(first.detail);
  } else if (isObject(errors)) {
    const [name, why] = Object.entries(errors)[0] ?? [];
    field ??= name;
    const first = Array.isArray(why) ? text(why[0]) : text(why);
    message ??= first;
  }
  return { message, code: code === message ? undefined : code, field };
}
