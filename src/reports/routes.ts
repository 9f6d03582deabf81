import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { TokenVerifier } from '../auth/tokens.ts';
import { getCheckpointRow } from '../checkpoints/service.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { AppEnv } from '../http/env.ts';
import { errorResponses, guardedBy, IdParam } from '../http/openapi-common.ts';
import { problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { findOutput } from '../outputs/reader.ts';
import { assembleOutputNode } from '../rights/assemble.ts';
import type { Keyring } from '../signing/keyring.ts';
import { assetChainOfTitle, outputChainOfTitle } from './chain-of-title.ts';
import { renderChainOfTitle } from './chain-of-title-render.ts';
import { trainingSummary } from './training-summary.ts';
import { renderTrainingSummary } from './training-summary-render.ts';

/** What the report routes need from the running service. */
export type ReportsDeps = {
  config: Pick<Config, 'auditOrigin'>;
  database: Database;
  keyring: Pick<Keyring, 'audit'>;
  verifyToken: TokenVerifier;
};

const Format = z.enum(['json', 'markdown']).optional().openapi({ description: 'markdown: the same document as Markdown (as `Accept: text/markdown`); default JSON' });

const MARKDOWN = 'text/markdown; charset=utf-8';

/** Markdown when asked by `format`, or by Accept naming text/markdown before JSON. */
function wantsMarkdown(c: Context<AppEnv>, format: 'json' | 'markdown' | undefined): boolean {
  if (format) return format === 'markdown';
  const accept = c.req.header('accept');
  if (!accept) return false;
  const types = accept.split(',').map((p) => p.split(';')[0]!.trim().toLowerCase());
  const md = types.indexOf('text/markdown');
  const jsonAt = types.findIndex((t) => t === 'application/json' || t === 'application/*');
  return md >= 0 && (jsonAt < 0 || md < jsonAt);
}

const documentResponse = (description: string, name: string) => ({
  description: `${description}: JSON, or the same document as Markdown for \`Accept: text/markdown\` or \`?format=markdown\``,
  content: {
    'application/json': { schema: z.record(z.string(), z.unknown()).openapi(name) },
    'text/markdown': { schema: z.string().openapi({ description: 'CommonMark with GFM tables; every ledger value escaped' }) },
  },
});

export function reportRoutes(app: ReportsDeps) {
  const summaryReaders = requireRole(app.verifyToken, 'legal', 'admin', 'vendor');
  const legal = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();
  const db = () => app.database.db;
  const head = () => ({ origin: app.config.auditOrigin, signer: app.keyring.audit });

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/checkpoints/{id}/training-summary',
      operationId: 'getTrainingSummary',
      tags: ['Reports'],
      summary: 'The public summary of a checkpoint’s training content, in the shape of the EU AI Act Article 53(1)(d) template',
      description:
        'Generated from the ledger: checkpoint → tuning job → clearance → the dataset asked for and the one trained on → assets → the license versions the clearance rested on. Sections as the Commission’s template (July 2025): 1. general information (provider, model and checkpoint, base model, date, modalities, size), 2. list of data sources (the production’s licensed art: counts, media types, rights holders, period of registration, size), 3. data processing aspects (the training-mining signals read — C2PA and CAWG training-mining assertions, the embedded manifest’s state; IPTC plus:DataMining is not kept per asset — the assets they excluded, other exclusions, and the licenses relied on). It names the dataset digest, the policy digest, the clearance and the audit indices, so a reader can tie it to the clearance. A vendor reads only its own checkpoints (another’s is not found).',
      ...guardedBy(summaryReaders),
      request: { params: IdParam('ckp'), query: z.object({ format: Format }) },
      responses: { 200: documentResponse('The training summary', 'TrainingSummary'), ...errorResponses },
    }),
    async (c) => {
      const row = await getCheckpointRow(db(), c.req.valid('param').id, c.get('principal'));
      const summary = await trainingSummary(db(), row);
      c.header('vary', 'accept');
      c.header('cache-control', 'no-store');
      if (wantsMarkdown(c, c.req.valid('query').format)) return c.body(renderTrainingSummary(summary), 200, { 'content-type': MARKDOWN });
      return c.json(summary, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/reports/chain-of-title',
      operationId: 'getChainOfTitle',
      tags: ['Reports'],
      summary: 'The chain of title of an asset or an output, as a document legal can attach to a contract',
      description:
        'Exactly one of `assetId` or `outputId` (else 422). For an asset: its registration, its license versions, amendments, approvals and revocations, with who and when. For an output: output → checkpoint (and its status changes) → clearance → dataset → assets → license versions, through outputs its assets were registered from, to any depth. Every fact states its audit index; `entries` lists each once, and `treeHead` is the signed tree head (size, root hash, signed note) they verify against (`GET /v1/audit/proofs/inclusion?index=N&treeSize=…`).',
      ...guardedBy(legal),
      request: {
        query: z.object({
          assetId: z.string().min(1).max(100).optional().openapi({ example: 'ast_8hX2kq0aVbq4Zz1mR9sT' }),
          outputId: z.string().min(1).max(100).optional().openapi({ example: 'out_8hX2kq0aVbq4Zz1mR9sT' }),
          format: Format,
        }),
      },
      responses: { 200: documentResponse('The chain of title', 'ChainOfTitle'), ...errorResponses },
    }),
    async (c) => {
      const { assetId, outputId, format } = c.req.valid('query');
      if ((assetId === undefined) === (outputId === undefined)) {
        const message = 'name exactly one of assetId and outputId';
        throw problems.validation(`the request query is not valid: ${message}`, [
          { field: 'assetId', message },
          { field: 'outputId', message },
        ]);
      }
      let doc: Awaited<ReturnType<typeof outputChainOfTitle>> | undefined;
      if (assetId !== undefined) {
        doc = await assetChainOfTitle(db(), head(), assetId);
        if (!doc) throw problems.notFound(`no asset ${assetId}`);
      } else {
        const output = await findOutput(db(), outputId!);
        if (!output) throw problems.notFound(`no output ${outputId}`);
        doc = await outputChainOfTitle(db(), head(), await assembleOutputNode(db(), output));
      }
      c.header('vary', 'accept');
      c.header('cache-control', 'no-store');
      if (wantsMarkdown(c, format)) return c.body(renderChainOfTitle(doc), 200, { 'content-type': MARKDOWN });
      return c.json(doc, 200);
    },
  );

  return r;
}
