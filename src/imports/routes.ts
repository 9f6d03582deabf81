import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { sha256Hex } from '../assets/schemas.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, IdParam } from '../http/openapi-common.ts';
import { problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { ManifestEngine } from '../provenance/c2pa/types.ts';
import { fileFactOf } from './file-facts.ts';
import type { FileFact } from './plan.ts';
import { getImport, type ImportJobView, isFinished, jobView, startImport } from './service.ts';
import { IMPORT_STATES } from './tables.ts';

/** What the import routes need from the running service. */
export type ImportDeps = { database: Database; ledger: Ledger; verifyToken: TokenVerifier; c2pa: ManifestEngine; logger: { error(o: object, msg: string): void } };

const text = (max: number) => z.string().trim().min(1).max(max);
const flag = z.boolean().default(false);
const formFlag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');
const relativePath = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path relative to the imported folder');

const Counts = z
  .object({
    files: z.number().int().openapi({ description: 'files sent' }),
    created: z.number().int().openapi({ description: 'files registered as new assets (or given their first license)' }),
    amended: z.number().int().openapi({ description: 'assets given a new license version (amend)' }),
    unchanged: z.number().int().openapi({ description: 'registered already with these terms: left alone' }),
    skipped: z.number().int().openapi({ description: 'files no row names, or of a failing row' }),
    errors: z.number().int().openapi({ description: 'failing rows (see the error file), then files that failed to register' }),
    done: z.number().int().openapi({ description: 'files of the plan written so far' }),
    planned: z.number().int().openapi({ description: 'files the plan writes' }),
    newAssets: z.number().int().openapi({ description: 'of those, new assets' }),
    newVersions: z.number().int().openapi({ description: 'license versions the plan records (first ones and amendments)' }),
  })
  .openapi('ImportCounts');

const ImportJob = z
  .object({
    id: z.string(),
    production: z.string(),
    state: z.enum(IMPORT_STATES).openapi({
      description:
        'planned: a dry run, nothing written; rejected: rows failed and nothing was written; running; done; failed: some files did not register; interrupted: it stopped before it finished (run it again)',
    }),
    dryRun: z.boolean(),
    skipErrors: z.boolean(),
    amend: z.boolean(),
    sheet: z.object({ name: z.string(), sha256: z.string() }),
    counts: Counts,
    errorRows: z.number().int().openapi({ description: 'rows in the error file, GET /v1/imports/{id}/errors' }),
    message: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('ImportJob');

const Embedded = z
  .object({
    trainingMining: z.object({ c2pa: z.enum(['allowed', 'notAllowed', 'constrained']).nullable(), cawg: z.enum(['allowed', 'notAllowed', 'constrained']).nullable() }),
    manifest: z.object({ state: z.enum(['none', 'valid', 'invalid', 'damaged', 'unreadable']), codes: z.array(z.string().max(200)).max(50) }),
  })
  .openapi({ description: 'what the file’s own C2PA manifest says, as the client read it (clearframe import reads it with c2pa-rs)' });

const ImportFile = z
  .object({
    path: relativePath,
    sha256: sha256Hex,
    byteSize: z.number().int().min(0),
    mediaType: z.string().min(3).max(200),
    embedded: Embedded.optional(),
    iptcDataMining: z.string().max(300).nullable().optional().openapi({ description: 'the file’s IPTC plus:DataMining value, if any' }),
  })
  .strict();

export const ImportCreateJson = z
  .object({
    production: text(300).openapi({ example: 'dear-upstairs-neighbors' }),
    sheet: z
      .object({
        name: text(300).openapi({ example: 'terms.csv', description: 'its name says CSV or XLSX' }),
        content: z
          .base64()
          .max(16 * 1024 * 1024)
          .openapi({ description: 'the terms sheet, base64' }),
      })
      .strict(),
    files: z.array(ImportFile).max(200_000).openapi({ description: 'every file of the folder, hashed by the client' }),
    dryRun: flag,
    skipErrors: flag,
    amend: flag,
  })
  .strict()
  .openapi('ImportCreate');

const ImportCreateMultipart = z
  .object({
    production: text(300),
    sheet: z.instanceof(File).openapi({ type: 'string', format: 'binary' }),
    files: z
      .union([z.instanceof(File), z.array(z.instanceof(File))])
      .optional()
      .openapi({ type: 'array', items: { type: 'string', format: 'binary' }, description: 'the files, each part’s filename its path relative to the folder' }),
    dryRun: formFlag,
    skipErrors: formFlag,
    amend: formFlag,
  })
  .openapi('ImportCreateUpload');

export function importRoutes(app: ImportDeps) {
  const writers = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/imports',
      operationId: 'createImport',
      tags: ['Imports'],
      summary: 'Import a folder of art with its terms sheet: every row checked first, then each file registered with its license',
      description:
        'The sheet (CSV, RFC 4180, or XLSX, first sheet) gives each file (a path or a glob) its terms. Nothing is written when a row fails, unless `skipErrors`; `dryRun` plans only. Files registered already with the same terms are left alone; with other terms they get a new license version only with `amend`. Each asset and license version is its own audit entry. Send JSON with the files’ hashes, or multipart with the files themselves (each part’s filename its relative path). Answers the job at once (202) and runs it; follow `/v1/imports/{id}/events`.',
      ...guardedBy(writers),
      request: {
        body: {
          content: { 'application/json': { schema: ImportCreateJson }, 'multipart/form-data': { schema: ImportCreateMultipart } },
        },
      },
      responses: {
        202: { description: 'The job, planned (and running unless a dry run or rejected)', content: { 'application/json': { schema: ImportJob } } },
        ...errorResponses,
        413: { ...errorResponses[422], description: 'The body is larger than its limit' },
      },
    }),
    async (c) => {
      const contentType = (c.req.header('content-type') ?? '').toLowerCase();
      let production: string;
      let sheet: { name: string; bytes: Uint8Array };
      let files: FileFact[];
      let options: { dryRun: boolean; skipErrors: boolean; amend: boolean };
      if (contentType.startsWith('multipart/form-data')) {
        const form = c.req.valid('form') as z.infer<typeof ImportCreateMultipart>;
        const parts = form.files === undefined ? [] : Array.isArray(form.files) ? form.files : [form.files];
        files = [];
        for (const part of parts) {
          const rel = part.name.replace(/\\/g, '/').replace(/^\/+/, '');
          if (!relativePath.safeParse(rel).success)
            throw problems.validation(`file ${part.name}: not a path relative to the folder`, [{ field: 'files', message: 'relative paths only' }]);
          files.push(await fileFactOf(rel, new Uint8Array(await part.arrayBuffer()), app.c2pa));
        }
        production = form.production;
        sheet = { name: form.sheet.name || 'terms.csv', bytes: new Uint8Array(await form.sheet.arrayBuffer()) };
        options = { dryRun: form.dryRun, skipErrors: form.skipErrors, amend: form.amend };
      } else {
        if (!contentType) throw problems.validation('send the import as application/json or multipart/form-data');
        const body = c.req.valid('json') as z.infer<typeof ImportCreateJson>;
        production = body.production;
        sheet = { name: body.sheet.name, bytes: new Uint8Array(Buffer.from(body.sheet.content, 'base64')) };
        files = body.files as FileFact[];
        options = { dryRun: body.dryRun, skipErrors: body.skipErrors, amend: body.amend };
      }
      const paths = new Set<string>();
      for (const f of files) {
        if (paths.has(f.path)) throw problems.validation(`file ${f.path} is sent twice`, [{ field: 'files', message: `${f.path} twice` }]);
        paths.add(f.path);
      }
      const started = await startImport({ ledger: app.ledger }, c.get('principal'), { production, sheet, files, ...options });
      // The job runs on after the answer; its outcome is in its row, and an unexpected failure in the log.
      started.finished.catch((err: unknown) => app.logger.error({ err: { message: (err as Error).message }, importId: started.job.id }, 'import failed'));
      c.header('location', `/v1/imports/${started.job.id}`);
      return c.json(started.job, 202);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/imports/{id}',
      operationId: 'getImport',
      tags: ['Imports'],
      summary: 'An import: where it stands, and its counts',
      ...guardedBy(writers),
      request: { params: IdParam('imp') },
      responses: { 200: { description: 'The job', content: { 'application/json': { schema: ImportJob } } }, ...errorResponses },
    }),
    async (c) => c.json(jobView(await getImport(app.database.db, c.req.valid('param').id)), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/imports/{id}/events',
      operationId: 'importEvents',
      tags: ['Imports'],
      summary: 'An import’s progress as Server-Sent Events: `progress` with the job as it changes, then `done` with the job as it ended',
      ...guardedBy(writers),
      request: { params: IdParam('imp') },
      responses: {
        200: {
          description: 'An event stream (text/event-stream); each event’s data is the job (ImportJob) as JSON',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      let job: ImportJobView = jobView(await getImport(app.database.db, id));
      return streamSSE(c, async (stream) => {
        let last = '';
        let n = 0;
        let aborted = false;
        stream.onAbort(() => {
          aborted = true;
        });
        // The job's row is the truth, whichever process runs it: read twice a second and sent when it moved.
        while (!aborted) {
          const shown = JSON.stringify({ ...job, updatedAt: undefined });
          if (isFinished(job.state)) {
            await stream.writeSSE({ event: 'done', id: String(n++), data: JSON.stringify(job) });
            return;
          }
          if (shown !== last) {
            await stream.writeSSE({ event: 'progress', id: String(n++), data: JSON.stringify(job) });
            last = shown;
          }
          await stream.sleep(250);
          job = jobView(await getImport(app.database.db, id));
        }
      });
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/imports/{id}/errors',
      operationId: 'importErrors',
      tags: ['Imports'],
      summary: 'An import’s error file: the failing rows as the sheet had them, with errorColumn and error (CSV)',
      ...guardedBy(writers),
      request: { params: IdParam('imp') },
      responses: {
        200: { description: 'The error rows, CSV (RFC 4180); a header only when none failed', content: { 'text/csv': { schema: z.string() } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const job = await getImport(app.database.db, c.req.valid('param').id);
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${job.id}-errors.csv"`);
      return c.body(job.errorsCsv ?? 'row,errorColumn,error\r\n', 200);
    },
  );

  return r;
}
