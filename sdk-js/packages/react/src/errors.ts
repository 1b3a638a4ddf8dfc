import { NetworkError } from '@authstack/client';
import { format, type Strings } from './localization';

/** The parts of an error the components read: the API's stable `code` and its message. */
interface CodedError {
  code?: unknown;
  message?: unknown;
  status?: unknown;
}

/** The API error code carried by `error` (`invalid_credentials`, ...), or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const code = (error as CodedError).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/**
 * `error` in plain words, in the provider's language: the localized text for its API error
 * code, with the server's explanation filled in where the text has a `{message}` slot.
 */
export function describeError(error: unknown, strings: Strings): string {
  const code =
    errorCode(error) ??
    (error instanceof NetworkError || error instanceof TypeError ? 'network_error' : 'unknown');
  const raw =
    error && typeof error === 'object' && typeof (error as CodedError).message === 'string'
      ? ((error as CodedError).message as string)
      : String(error);
  const message = raw.replace(/[.\s]+$/, '');
  const template = strings.errors[code] ?? strings.errors['unknown'] ?? '{message}';
  return format(template, { message });
}
