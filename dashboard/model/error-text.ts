import { OwpError } from '../../protocol/errors.ts';

/** An error as the page shows it: a sentence, and the protocol code when there is one. */
export interface ErrorText {
  message: string;
  /** The OwpError code (`invalid_transition`, `unauthorized`, …), or `network` when unreachable. */
  code: string | null;
}

/** Turns anything thrown by an API call into words a maintainer can act on. */
export function describeError(error: unknown): ErrorText {
  if (error instanceof OwpError) {
    return { message: error.message, code: error.code };
  }
  // fetch rejects with a TypeError when the server cannot be reached at all.
  if (error instanceof TypeError) {
    return {
      message: 'Cannot reach the server. Check that it is running and try again.',
      code: 'network',
    };
  }
  if (error instanceof Error && error.message) return { message: error.message, code: null };
  return { message: String(error), code: null };
}

/**
 * Field-level messages from a `validation_failed` answer (`details.issues[].path`), so a form can
 * show each next to its input; the rest stays in the general message.
 */
export function fieldIssues(error: unknown): Record<string, string> {
  if (!(error instanceof OwpError) || error.code !== 'validation_failed') return {};
  const issues = (error.details?.issues ?? []) as Array<{ path?: unknown; message?: unknown }>;
  const byField: Record<string, string> = {};
  for (const issue of issues) {
    const field = typeof issue.path === 'string' ? issue.path.split('.')[0] : undefined;
    if (field && typeof issue.message === 'string' && !byField[field]) {
      byField[field] = issue.message;
    }
  }
  return byField;
}
