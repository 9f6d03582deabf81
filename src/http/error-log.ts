/**
 * An unhandled error as it may be logged (pure). A database error carries the request's content: drizzle's
 * message and `params`, postgres.js's `parameters`, PGlite's `query` and `params`, and the server's own
 * message and `detail` (`invalid input syntax for type bigint: "<value>"`, `Key (name)=(<value>)`). Of a
 * database error only the statement's name (its text with literals blanked) and its SQLSTATE code are
 * kept; of any other error its class, first message line and stack frames.
 */

const SQLSTATE = /^[0-9A-Z]{5}$/;

export type LoggedError = {
  type: string;
  message?: string;
  code?: string;
  statement?: string;
  stack?: string;
  cause?: LoggedError;
};

function isDatabaseError(e: Error): boolean {
  const fields = e as unknown as Record<string, unknown>;
  return (
    (typeof fields.code === 'string' && SQLSTATE.test(fields.code) && ('severity' in fields || 'routine' in fields || 'file' in fields)) ||
    'query' in fields ||
    'params' in fields ||
    'parameters' in fields
  );
}

/** A statement named without its content: whitespace collapsed, string literals and long numbers blanked. */
export function statementName(query: string): string {
  const text = query
    .replace(/'(?:[^']|'')*'/g, "'?'")
    .replace(/\b\d{4,}\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Only the `at ...` lines: the first line of a stack repeats the message. */
function frames(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n').filter((l) => /^\s+at /.test(l));
  return lines.length > 0 ? lines.slice(0, 12).join('\n') : undefined;
}

export function loggableError(err: unknown, depth = 0): LoggedError {
  if (!(err instanceof Error)) return { type: typeof err };
  const fields = err as unknown as Record<string, unknown>;
  const out: LoggedError = { type: err.name || err.constructor?.name || 'Error' };
  if (isDatabaseError(err)) {
    if (typeof fields.code === 'string' && SQLSTATE.test(fields.code)) out.code = fields.code;
    if (typeof fields.query === 'string') out.statement = statementName(fields.query);
  } else {
    const line = err.message.split('\n')[0]!;
    out.message = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    if (typeof fields.code === 'string') out.code = fields.code;
  }
  const stack = frames(err.stack);
  if (stack) out.stack = stack;
  if (err.cause !== undefined && depth < 4) out.cause = loggableError(err.cause, depth + 1);
  return out;
}
