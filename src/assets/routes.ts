import { createHash } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, IdParam } from '../http/openapi-common.ts';
import { problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { renderPreview } from '../media/preview.ts';
import type { ManifestEngine } from '../provenance/c2pa/types.ts';
import { uploadedMediaType } from './declared-type.ts';
import { readEmbeddedTerms } from './embedded-terms.ts';
import { Asset, AssetCreateJson, AssetCreateMultipart, AssetList, AssetListQuery, EmbeddedTermsOverride, sha256Hex } from './schemas.ts';
import { type AssetLicenseCondition, type AssetPreview, type FindOutput, listAssets, overrideEmbeddedTerms, readAsset, readPreview, registerAsset } from './service.ts';

/** What the asset routes need from the running service. */
export type AssetDeps = {
  database: Database;
  ledger: Ledger;
  verifyToken: TokenVerifier;
  c2pa: ManifestEngine;
  /** The output an asset derives from (outputs/reader.ts). */
  findOutput: FindOutput;
  /** The list's filters on an asset's current license (licenses/service.ts#assetLicenseCondition). */
  assetLicenseCondition: AssetLicenseCondition;
};

export function assetRoutes(app: AssetDeps) {
  const writers = requireRole(app.verifyToken, 'legal', 'admin');
  const readers = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/assets',
      operationId: 'registerAsset',
      tags: ['Assets'],
      summary: 'Register a concept-art asset by its hash, or upload the file and let the server hash it',
      ...guardedBy(writers),
      request: {
        body: {
          content: {
            'application/json': { schema: AssetCreateJson },
            'multipart/form-data': { schema: AssetCreateMultipart },
          },
        },
      },
      responses: {
        201: { description: 'Registered', content: { 'application/json': { schema: Asset } } },
        ...errorResponses,
        413: { ...errorResponses[422], description: 'The file is larger than MAX_UPLOAD_BYTES' },
        415: { ...errorResponses[422], description: 'Neither JSON nor multipart' },
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const contentType = c.req.header('content-type') ?? '';
      let input;
      let preview: AssetPreview | null = null;
      if (contentType.toLowerCase().startsWith('multipart/form-data')) {
        const form = c.req.valid('form') as z.infer<typeof AssetCreateMultipart>;
        const bytes = new Uint8Array(await form.file.arrayBuffer());
        const mediaType = uploadedMediaType(form.mediaType || form.file.type || undefined, bytes);
        const [embedded, picture] = await Promise.all([readEmbeddedTerms(app.c2pa, bytes, mediaType), renderPreview(bytes, mediaType)]);
        preview = picture;
        input = {
          sha256: sha256Hex.parse(createHash('sha256').update(bytes).digest('hex')),
          title: form.title,
          creator: form.creator,
          production: form.production,
          mediaType,
          sourceUri: form.sourceUri,
          rightsHolder: form.rightsHolder,
          derivedFromOutputId: form.derivedFromOutputId,
          byteSize: bytes.byteLength,
          embeddedTrainingMining: embedded.trainingMining,
          embeddedManifest: embedded.manifest,
        };
      } else if (contentType) {
        input = c.req.valid('json') as z.infer<typeof AssetCreateJson>;
      } else {
        throw problems.validation('send the asset as application/json or multipart/form-data');
      }
      const asset = await registerAsset(app.ledger, principal, input, app.findOutput, preview);
      c.header('location', `/v1/assets/${asset.id}`);
      return c.json(asset, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/assets/{id}',
      operationId: 'getAsset',
      tags: ['Assets'],
      summary: 'One asset',
      ...guardedBy(readers),
      request: { params: IdParam('ast') },
      responses: { 200: { description: 'The asset', content: { 'application/json': { schema: Asset } } }, ...errorResponses },
    }),
    async (c) => c.json(await readAsset(app.database.db, c.req.valid('param').id), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/assets/{id}/preview',
      operationId: 'getAssetPreview',
      tags: ['Assets'],
      summary: 'The preview of an asset registered by upload: a JPEG fitted inside 320 pixels, without the original’s metadata',
      description:
        'Made by the service from the uploaded bytes at registration and never changed. 404 for an asset registered by its hash, and for a file the service does not decode (video, PSD). Not evidence: the log states the file’s SHA-256.',
      ...guardedBy(readers),
      request: { params: IdParam('ast') },
      responses: {
        200: { description: 'The preview', content: { 'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const preview = await readPreview(app.database.db, c.req.valid('param').id);
      return c.body(preview.bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': preview.mediaType,
        'cache-control': 'private, max-age=86400',
        // Bytes decoded from a user's upload: never a document, never sniffed.
        'content-security-policy': "default-src 'none'; sandbox",
        'x-content-type-options': 'nosniff',
      }) as never;
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/assets/{id}/embedded-terms-override',
      operationId: 'overrideEmbeddedTerms',
      tags: ['Assets'],
      summary: 'Record legal’s override for art whose own C2PA manifest is invalid, damaged or unreadable, with the reason',
      description:
        'Such art is denied for training and derivative use (policy `embedded-manifest-unreadable`) until this is recorded; the override also sets aside the terms read from that manifest. Once per asset, audit-logged as `asset.embedded-terms-overridden`; 409 for art whose manifest is valid or absent.',
      ...guardedBy(writers),
      request: { params: IdParam('ast'), body: { content: { 'application/json': { schema: EmbeddedTermsOverride } }, required: true } },
      responses: { 201: { description: 'Recorded; the asset with its override', content: { 'application/json': { schema: Asset } } }, ...errorResponses },
    }),
    async (c) => c.json(await overrideEmbeddedTerms(app.ledger, c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason), 201),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/assets',
      operationId: 'listAssets',
      tags: ['Assets'],
      summary: 'List assets, filtered by production, rights holder, text, the grants and territory of their current license, or license state; cursor pagination',
      description: 'Filters combine (and). An unknown query parameter is a 422 naming it.',
      ...guardedBy(readers),
      request: { query: AssetListQuery },
      responses: { 200: { description: 'A page of assets', content: { 'application/json': { schema: AssetList } } }, ...errorResponses },
    }),
    async (c) => c.json(await listAssets(app.database.db, c.req.valid('query'), app.assetLicenseCondition), 200),
  );

  return r;
}
