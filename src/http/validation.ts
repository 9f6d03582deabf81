import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';
import { fieldErrors, problems } from './problem.ts';

/** A router whose schema failures become 422 problem+json naming each failing field. */
export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' || result.target === 'form' ? 'body' : result.target;
        throw problems.validation(`the request ${where} is not valid`, fieldErrors(result.error.issues));
      }
    },
  });
}
