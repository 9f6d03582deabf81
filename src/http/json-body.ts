import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { decodeUtf8, jsonNestsDeeperThan, jsonTextFault, MAX_JSON_DEPTH, queryFault, textFault } from './hostile-input.ts';
import { type FieldError, Problem, problems } from './problem.ts';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const FORM_MEDIA_TYPES = new Set(['multipart/form-data', 'application/x-www-form-urlencoded']);

export type BodyLimits = {
  /** The JSON body limit of the route that answers (`method`, hono's path such as `/v1/datasets/:id`). */
  json(method: string, routePath: string | undefined): number;
  /** Every other body: uploads (multipart, media types). */
  upload: number;
  /** The limit of a body of another media type, read by its route as a stream (hono's bodyLimit). */
  other: MiddlewareHandler;
};

const tooLarge = (limit: number, what: string) => new Problem(413, 'payload-too-large', `the ${what} is larger than ${limit} bytes`, { limit });

/** Hono's cache of what was read of the body: promises, though typed as the values. */
const cache = (c: Context) => c.req.bodyCache as Record<string, Promise<unknown>>;

/** The route that answers this request (not a `*` middleware), as hono names its path. */
function answeringRoute(c: Context): { method: string; path: string } | undefined {
  return matchedRoutes(c)
    .filter((r) => r.method !== 'ALL')
    .at(-1);
}

/** The path parameter a bad path segment stands for, named as the route names it. */
function pathFault(c: Context, route: { path: string } | undefined): FieldError | undefined {
  const segments = c.req.path.split('/');
  const template = route?.path.split('/') ?? [];
  for (const [i, segment] of segments.entries()) {
    const fault = textFault(segment);
    if (fault) {
      const name = template[i]?.startsWith(':') ? template[i]!.slice(1).replace(/\{.*$/, '') : 'path';
      return { field: name, message: fault };
    }
  }
  return undefined;
}

/** The body's bytes, refusing more than `limit` before reading them all (a Content-Length says so first). */
async function readLimited(c: Context, limit: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit, what);
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client went away or Node timed the request out (REQUEST_TIMEOUT_MS): nothing to answer to.
      throw problems.badRequest('the request body did not arrive whole');
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit, what);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Whether the request carries a body, asked of its headers first: on @hono/node-server, touching
 * `c.req.raw.body` builds the whole Fetch Request (its headers, an AbortSignal) that a request without a
 * body never needs. Over HTTP/1.1 a body comes with Content-Length or Transfer-Encoding; a GET or HEAD
 * Request cannot have one; anything else (a Request made in-process) is asked directly.
 */
function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return length !== '0' || c.req.header('transfer-encoding') !== undefined;
  if (c.req.header('transfer-encoding') !== undefined) return true;
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return false;
  return c.req.raw.body !== null;
}

/**
 * Refuses request input that no route can use, before any route reads it: text the database cannot
 * store (NUL, lone surrogates) in the path, the query or the body; a cursor longer than any this API
 * gives out; a JSON body over its route's limit, not UTF-8, or nested deeper than MAX_JSON_DEPTH. The
 * JSON body is read once, here, and handed to the route's validator already parsed; a form's fields are
 * checked the same way (its files are bytes, not text).
 */
export function hostileInput(limits: BodyLimits): MiddlewareHandler {
  return async (c, next) => {
    const route = answeringRoute(c);
    const inPath = pathFault(c, route);
    if (inPath) throw problems.validation(`the request path is not valid: ${inPath.field}`, [inPath]);
    const q = c.req.url.indexOf('?');
    if (q !== -1) {
      // Hono decodes the query with decodeURIComponent; so does URLSearchParams.
      const inQuery = queryFault(new URLSearchParams(c.req.url.slice(q + 1)));
      if (inQuery) throw problems.validation(`the request query is not valid: ${inQuery.field}`, [inQuery]);
    }
    if (!hasBody(c)) return next();
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (JSON_MEDIA_TYPE.test(mediaType)) {
      const limit = limits.json(c.req.method, route?.path);
      const bytes = await readLimited(c, limit, 'JSON request body');
      const text = decodeUtf8(bytes);
      if (text === undefined) throw problems.badRequest('the request body is not UTF-8', [{ field: '(body)', message: 'not UTF-8' }]);
      if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
        throw problems.validation(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`, [{ field: '(body)', message: `nests deeper than ${MAX_JSON_DEPTH}` }]);
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw problems.badRequest('the request body is not valid JSON', [{ field: '(body)', message: 'not valid JSON' }]);
      }
      const inBody = jsonTextFault(value);
      if (inBody) throw problems.validation(`the request body is not valid: ${inBody.field}`, [inBody]);
      // Hono's request keeps what it read: the validator's c.req.json() answers from here.
      cache(c).arrayBuffer = Promise.resolve(bytes.buffer);
      cache(c).json = Promise.resolve(value);
      return next();
    }
    if (FORM_MEDIA_TYPES.has(mediaType)) {
      const bytes = await readLimited(c, limits.upload, 'request body');
      cache(c).arrayBuffer = Promise.resolve(bytes.buffer);
      let form: FormData | undefined;
      try {
        form = await new Response(bytes, { headers: { 'content-type': c.req.header('content-type')! } }).formData();
      } catch {
        // Not a readable form: the route's validator reads the same bytes and answers 400.
      }
      if (form) {
        for (const [name, value] of form) {
          const fault = textFault(name) ?? (typeof value === 'string' ? textFault(value) : textFault(value.name));
          if (fault) throw problems.validation(`the request body is not valid: ${name}`, [{ field: name, message: fault }]);
        }
        cache(c).formData = Promise.resolve(form);
      }
      return next();
    }
    return limits.other(c, next);
  };
}
