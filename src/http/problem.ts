import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Stable problem types (RFC 9457). The URI is an identifier, documented in the README. */
export const PROBLEM_BASE = 'https://clearframe.dev/problems/';

export type ProblemType =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'unprocessable'
  | 'not-ready'
  | 'upstream'
  | 'too-many-requests'
  | 'request-timeout'
  | 'headers-too-large'
  | 'bad-request'
  | 'internal';

const TITLES: Record<ProblemType, string> = {
  validation: 'The request is not valid',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed for this role',
  'not-found': 'Not found',
  conflict: 'Conflicts with the current state',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Payload too large',
  unprocessable: 'The request cannot be processed',
  'not-ready': 'Not configured or not ready',
  upstream: 'An upstream service failed',
  'too-many-requests': 'Too many requests',
  'request-timeout': 'The request took too long to arrive',
  'headers-too-large': 'Request headers too large',
  'bad-request': 'The request could not be read',
  internal: 'Internal error',
};

export type FieldError = { field: string; message: string };

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

/** An error that carries its own problem+json answer; services throw it, the HTTP layer renders it. */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly problemType: ProblemType,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }

  body(instance?: string): ProblemBody {
    return {
      type: PROBLEM_BASE + this.problemType,
      title: TITLES[this.problemType],
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const problems = {
  validation: (detail: string, errors: FieldError[] = []) => new Problem(422, 'validation', detail, { errors }),
  badRequest: (detail: string, errors: FieldError[] = []) => new Problem(400, 'validation', detail, { errors }),
  unauthenticated: (detail: string) => new Problem(401, 'unauthenticated', detail),
  forbidden: (detail: string) => new Problem(403, 'forbidden', detail),
  notFound: (detail: string) => new Problem(404, 'not-found', detail),
  conflict: (detail: string, ext: Record<string, unknown> = {}) => new Problem(409, 'conflict', detail, ext),
};

export function problemResponse(c: Context, problem: Problem): Response {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (problem.status === 401) headers['www-authenticate'] = 'Bearer';
  // The body it refused may still be arriving: say the connection ends here, so the client does not
  // send its next request on a socket that is about to close.
  if (problem.status === 413) headers.connection = 'close';
  return c.body(JSON.stringify(problem.body(c.req.path)), problem.status, headers);
}

/** zod issues as field errors: `path.to.field` and the message. */
export function fieldErrors(issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[]): FieldError[] {
  return issues.flatMap((i) =>
    // A strict object's unknown keys (an unknown query filter among them): each key named as the field.
    i.code === 'unrecognized_keys' && i.keys?.length
      ? i.keys.map((k) => ({ field: [...i.path.map(String), k].join('.'), message: `unknown field "${k}"` }))
      : [{ field: i.path.map(String).join('.') || '(body)', message: i.message }],
  );
}
