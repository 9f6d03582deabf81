import { createRoute, z } from '@hono/zod-openapi';
import { getCheckpointRow } from '../checkpoints/service.ts';
import { type CsvColumn, csvResponse, wantsCsv } from '../http/csv.ts';
import { CursorQuery, DateQuery, errorResponses, guardedBy, IdParam, json, jsonOrCsv, LimitQuery } from '../http/openapi-common.ts';
import { Problem, problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { OutputDeps } from './deps.ts';
import { listOutputs, type OutputListItem } from './list.ts';
import { SUPPORTED_TYPES_TEXT } from './problems.ts';
import { getOutput, listCheckpointOutputs, outputView } from './reader.ts';
import { signOutput } from './sign.ts';
import { VERIFY_VERDICTS, verifyFile } from './verify.ts';

const OutputUpload = z
  .object({
    file: z.instanceof(File).openapi({ type: 'string', format: 'binary' }),
    checkpointId: z.string().min(1).max(100),
    sourceAssetIds: z.string().max(200_000).optional().openapi({ description: 'comma-separated asset ids used directly as reference or conditioning' }),
    prompt: z.string().max(100_000).optional().openapi({ description: 'stored as its SHA-256 unless STORE_PROMPTS=full' }),
    generatorName: z.string().trim().min(1).max(200).optional(),
    generatorVersion: z.string().trim().min(1).max(100).optional(),
    title: z.string().trim().min(1).max(300).optional(),
  })
  .openapi('OutputUpload');

/** The raw bodies POST /v1/verify reads (besides multipart). */
const VERIFY_MEDIA_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
  'image/heif',
  'video/mp4',
  'video/quicktime',
  'application/octet-stream',
] as const;

/** A verification's answer: the verdict (docs/outputs.md says what each means), then what it rests on. */
const Verification = z
  .object({
    verdict: z.enum(VERIFY_VERDICTS),
    detail: z.string(),
    sha256: z.string(),
    mimeType: z.string(),
    c2pa: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "c2pa-rs's findings: codes, trust, the signer (`signer`: the claim signature certificate's common name, issuer and serial number, the algorithm, and the signing time the signature states), the CAWG identity status; for `remote-manifest` the URL (`remoteUrl`), not fetched",
    }),
    recovery: z
      .object({
        fingerprint: z
          .object({ algorithm: z.literal('pdq'), value: z.string(), quality: z.number().int() })
          .optional()
          .openapi({ description: 'a still image’s: its PDQ fingerprint' }),
        videoFingerprint: z
          .object({ algorithm: z.literal('pdq'), frames: z.number().int(), usable: z.number().int(), durationMs: z.number().int() })
          .optional()
          .openapi({
            description:
              'a video’s: how many frames were sampled (one a second and each scene cut), how many have enough detail to be matched (PDQ quality 50 or more), and its duration in milliseconds',
          }),
        threshold: z.number().int(),
        statement: z.string().openapi({ description: 'that these bytes differ from the signed ones, so the file itself is not verified' }),
        candidates: z.array(
          z
            .object({
              outputId: z.string(),
              distance: z.number().int().openapi({
                description: 'Hamming distance in bits (of 256) between the fingerprints; for a video, the median over its matched frames',
              }),
              threshold: z.number().int(),
              region: z.enum(['whole', 'centre']).optional().openapi({
                description:
                  'a still image’s: which of the output’s fingerprints the file is near: the whole picture’s PDQ, or its centre’s (the middle 95 %, what a border crop keeps)',
              }),
              matched: z.number().int().optional().openapi({
                description: 'a video’s: how many of the file’s usable sampled frames matched a frame of the output within `threshold`, at one time offset',
              }),
              of: z.number().int().optional().openapi({ description: 'a video’s: how many usable frames the file has (at least half must match)' }),
              offset: z.number().int().optional().openapi({
                description: 'a video’s: where in the output the file begins, in milliseconds (0 for a re-encode, the cut’s start for a cut)',
              }),
              range: z.object({ start: z.number().int(), end: z.number().int() }).optional().openapi({
                description:
                  'a video’s: the stretch of the output the file covers, in milliseconds from the output’s start (as its manifest’s soft-binding timespans): from its first matched frame to where the file ends',
              }),
              colourLayoutThreshold: z.number().int().optional().openapi({
                description: 'only for a flat picture (PDQ quality below 50): its colour layout was also within this many levels of the output’s',
              }),
              ledger: z.record(z.string(), z.unknown()).openapi({ description: 'the output’s record: `match` is `fingerprint`' }),
              lineage: z.record(z.string(), z.unknown()).openapi({ description: 'the lineage its manifest stated, from the record' }),
              standing: z.record(z.string(), z.unknown()),
              proof: z.record(z.string(), z.unknown()).openapi({ description: 'the inclusion proof of its registration entry' }),
            })
            .passthrough(),
        ),
      })
      .optional()
      .openapi({
        description:
          'only with `recovered`: the file carries no manifest, and its PDQ fingerprint is within `threshold` bits of these outputs’ (their whole picture’s or their centre’s; nearest first); for a video, most of its sampled frames are within `threshold` of these outputs’ frames at one time offset (the largest matched share first); `ledger`, `lineage`, `standing` and `proof` beside the verdict are the first one’s',
      }),
  })
  .passthrough()
  .openapi('Verification');

const CheckpointOutput = z
  .object({
    id: z.string(),
    checkpointId: z.string(),
    mimeType: z.string(),
    signedSha256: z.string(),
    signedSize: z.number().int(),
    sourceAssetIds: z.array(z.string()),
    generator: z.object({ name: z.string(), version: z.string().optional() }).nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
    withdrawal: z.object({ reason: z.string(), codes: z.array(z.string()), withdrawnAt: z.string(), auditIndex: z.number().int() }).nullable(),
  })
  .openapi('CheckpointOutput');

/** GET /v1/outputs: every filter it takes; any other query parameter is a 422 naming it. */
const OutputListQuery = z
  .object({
    checkpointId: z.string().min(1).max(100).optional(),
    clearanceId: z.string().min(1).max(100).optional(),
    signedAfter: DateQuery.openapi({ description: 'signed at or after this date (2026-06-30) or RFC 3339 date-time' }),
    signedBefore: DateQuery.openapi({ description: 'signed before this date or date-time' }),
    standing: z
      .enum(['good', 'tainted', 'withdrawn'])
      .optional()
      .openapi({ description: 'good; tainted (its checkpoint tainted or its clearance fallen); withdrawn (the ledger held the signed file back)' }),
    cursor: CursorQuery,
    limit: LimitQuery,
  })
  .strict();

const OutputListItemSchema = z
  .record(z.string(), z.unknown())
  .openapi({ description: 'the record GET /v1/outputs/{id} answers, with `standing`: `status` and `cause`' })
  .openapi('OutputListItem');

/** The CSV of GET /v1/outputs: a stable column order (new columns go at the end). */
const OUTPUT_CSV: CsvColumn<OutputListItem>[] = [
  { header: 'id', cell: (o) => o.id },
  { header: 'checkpointId', cell: (o) => o.checkpointId },
  { header: 'clearanceId', cell: (o) => o.clearanceId },
  { header: 'datasetId', cell: (o) => o.datasetId },
  { header: 'mimeType', cell: (o) => o.mimeType },
  { header: 'signedSha256', cell: (o) => o.signedSha256 },
  { header: 'signedSize', cell: (o) => o.signedSize },
  { header: 'sourceAssetIds', cell: (o) => o.sourceAssetIds },
  { header: 'generatorName', cell: (o) => o.generator?.name },
  { header: 'generatorVersion', cell: (o) => o.generator?.version },
  { header: 'standing', cell: (o) => o.standing.status },
  { header: 'standingCause', cell: (o) => o.standing.cause?.code },
  { header: 'withdrawnAt', cell: (o) => o.withdrawal?.withdrawnAt },
  { header: 'createdAt', cell: (o) => o.createdAt },
  { header: 'createdBy', cell: (o) => o.createdBy },
  { header: 'auditIndex', cell: (o) => o.auditIndex },
];

export function outputRoutes(app: OutputDeps) {
  const generators = requireRole(app.verifyToken, 'generator', 'admin');
  const verifiers = requireRole(app.verifyToken, 'distributor', 'legal', 'admin');
  const readers = requireRole(app.verifyToken, 'generator', 'distributor', 'legal', 'admin');
  const checkpointReaders = requireRole(app.verifyToken, 'vendor', 'generator', 'legal', 'admin');
  const r = router();
  const db = () => app.database.db;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/outputs',
      operationId: 'signOutput',
      tags: ['Outputs'],
      summary: 'Sign a generated image or video with a C2PA manifest tying it to its checkpoint and source art',
      description:
        "The checkpoint must be active and its clearance standing, and each source asset cleared for derivative use by the checkpoint's vendor; otherwise 409 (with `refusedSources` for sources) and nothing is signed or recorded. The answer is the signed file; its id is in the Clearframe-Output-Id header.",
      ...guardedBy(generators),
      request: { body: { required: true, content: { 'multipart/form-data': { schema: OutputUpload } } } },
      responses: {
        200: { description: 'The signed file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...errorResponses,
        413: { ...errorResponses[422], description: 'Larger than MAX_OUTPUT_BYTES' },
        415: { ...errorResponses[422], description: `Not ${SUPPORTED_TYPES_TEXT}` },
        422: { ...errorResponses[422], description: 'Invalid fields, or a file that does not decode as its type (e.g. a truncated JPEG or MP4); nothing is signed or recorded' },
        502: { ...errorResponses[422], description: 'The signing key (Cloud KMS) or the time-stamp authority (TSA_URL) failed; nothing is signed or recorded' },
      },
    }),
    async (c) => {
      const form = c.req.valid('form');
      if (form.file.size > app.config.outputs.maxBytes) throw new Problem(413, 'payload-too-large', `outputs are limited to ${app.config.outputs.maxBytes} bytes`);
      const bytes = new Uint8Array(await form.file.arrayBuffer());
      const sourceAssetIds = (form.sourceAssetIds ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const { bytes: signed, output } = await signOutput(app, c.get('principal'), {
        bytes,
        mimeType: form.file.type || undefined,
        title: form.title ?? (form.file.name || `output of ${form.checkpointId}`),
        checkpointId: form.checkpointId,
        sourceAssetIds,
        ...(form.prompt !== undefined ? { prompt: form.prompt } : {}),
        ...(form.generatorName ? { generator: { name: form.generatorName, ...(form.generatorVersion ? { version: form.generatorVersion } : {}) } } : {}),
      });
      return c.body(signed as Uint8Array<ArrayBuffer>, 200, {
        'content-type': output.mimeType,
        'clearframe-output-id': output.id,
        'content-disposition': `attachment; filename="${output.id}"`,
      }) as never;
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/outputs',
      operationId: 'listOutputs',
      tags: ['Outputs'],
      summary: 'Signed outputs, filtered by checkpoint, clearance, signing date or standing; cursor pagination; CSV too',
      description:
        'Oldest signed first; `nextCursor` asks for the next page. The readers of `GET /v1/outputs/{id}`, who read every output. An unknown query parameter is a 422 naming it. CSV columns: ' +
        OUTPUT_CSV.map((c) => c.header).join(', ') +
        ' (lists joined by `;`).',
      ...guardedBy(readers),
      request: { query: OutputListQuery },
      responses: { 200: jsonOrCsv('A page of outputs', z.object({ items: z.array(OutputListItemSchema), nextCursor: z.string().nullable() })), ...errorResponses },
    }),
    async (c) => {
      const page = await listOutputs(db(), c.req.valid('query'));
      if (wantsCsv(c.req.header('accept'))) return csvResponse(OUTPUT_CSV, page) as never;
      return c.json(page, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/outputs/{id}',
      operationId: 'getOutput',
      tags: ['Outputs'],
      summary: 'The record of a signed output',
      ...guardedBy(readers),
      request: { params: IdParam('out') },
      responses: { 200: { description: 'The output', ...json(z.record(z.string(), z.unknown())) }, ...errorResponses },
    }),
    async (c) => c.json(outputView(await getOutput(db(), c.req.valid('param').id)), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/checkpoints/{id}/outputs',
      operationId: 'listCheckpointOutputs',
      tags: ['Checkpoints'],
      summary: 'The outputs signed with a checkpoint, newest first (what its taint reaches downstream; vendors see their own checkpoints)',
      description:
        "A page of summaries; `nextCursor` asks for the next. A vendor's request for another vendor's checkpoint is the 404 of an unknown id. The record and rights chain of each output are `GET /v1/outputs/{id}` and `GET /v1/outputs/{id}/rights-chain`.",
      ...guardedBy(checkpointReaders),
      request: {
        params: IdParam('ckp'),
        query: z.object({ cursor: z.string().regex(/^\d+$/).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(CheckpointOutput), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => {
      const checkpoint = await getCheckpointRow(db(), c.req.valid('param').id, c.get('principal'));
      return c.json(await listCheckpointOutputs(db(), checkpoint.id, c.req.valid('query')), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/verify',
      operationId: 'verifyFile',
      tags: ['Outputs'],
      summary: 'Verify a file: C2PA validation, ledger match, lineage, current standing, and the proof of its registration',
      description:
        'Send the file as multipart (field `file`) or as the raw body with its content type (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF, MP4 or MOV; `application/octet-stream`: sniffed from the bytes). Every file that parses gets a verdict; a remote manifest is never fetched (`remote-manifest`, with its URL).',
      ...guardedBy(verifiers),
      // Plain JSON schemas, not zod: the handler reads the body itself (no validator, no media-type gate).
      request: {
        body: {
          required: true,
          description: 'The file to verify',
          content: {
            'multipart/form-data': {
              schema: { type: 'object', properties: { file: { type: 'string', format: 'binary', description: 'the file' } }, required: ['file'] },
            },
            ...Object.fromEntries(VERIFY_MEDIA_TYPES.map((type) => [type, { schema: { type: 'string' as const, format: 'binary' } }])),
          },
        },
      },
      responses: { 200: { description: 'The verdict', ...json(Verification) }, ...errorResponses },
    }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      let bytes: Uint8Array;
      let declared: string | undefined;
      if (type.toLowerCase().startsWith('multipart/form-data')) {
        const form = await c.req.formData().catch(() => null);
        const file = form?.get('file');
        if (!(file instanceof File)) throw problems.validation('send the file in a multipart field named "file"', [{ field: 'file', message: 'required' }]);
        bytes = new Uint8Array(await file.arrayBuffer());
        declared = file.type || undefined;
      } else {
        bytes = new Uint8Array(await c.req.arrayBuffer());
        declared = type.split(';')[0]?.trim() || undefined;
        if (declared === 'application/octet-stream') declared = undefined;
      }
      if (bytes.byteLength === 0) throw problems.validation('the file is empty', [{ field: 'file', message: 'empty' }]);
      return c.json(await verifyFile(app, bytes, declared), 200);
    },
  );

  return r;
}
