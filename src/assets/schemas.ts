import { z } from '@hono/zod-openapi';
import { GRANT_VALUES } from '../vocabulary/rights.ts';
import { isTerritory } from '../vocabulary/territories.ts';
import { EMBEDDED_MANIFEST_STATES, type EmbeddedManifest, type EmbeddedTrainingMining } from './embedded-terms.ts';

export const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (SHA-256)')
  .transform((s) => s.toLowerCase());

const text = (max: number) => z.string().trim().min(1).max(max);

export const AssetCreateJson = z
  .object({
    sha256: sha256Hex.openapi({ example: 'a3f1c2e4b5d6978812345678901234567890abcdefabcdefabcdefabcdef0123' }),
    title: text(500).openapi({ example: 'Stairwell, night, key frame 3' }),
    mediaType: z
      .string()
      // Case-insensitive in the pattern itself: a regex flag does not survive into the OpenAPI `pattern`.
      .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/, 'must be a media type such as image/png')
      .openapi({ example: 'image/png' }),
    creator: text(300).openapi({ example: 'R. Ortiz' }),
    production: text(300).openapi({ example: 'dear-upstairs-neighbors' }),
    sourceUri: z.url().max(2000).optional(),
    rightsHolder: text(300).optional().openapi({ example: 'Ortiz Studio' }),
    derivedFromOutputId: z.string().min(1).max(100).optional().openapi({ description: 'registers a signed output as new art: its rights chain continues through that output' }),
  })
  .strict()
  .openapi('AssetCreate');

/** Multipart: the file itself (its hash is computed here) plus the same descriptive fields. */
export const AssetCreateMultipart = z
  .object({
    file: z.instanceof(File).openapi({ type: 'string', format: 'binary' }),
    title: text(500),
    creator: text(300),
    production: text(300),
    mediaType: z.string().optional(),
    sourceUri: z.url().max(2000).optional(),
    rightsHolder: text(300).optional(),
    derivedFromOutputId: z.string().min(1).max(100).optional(),
  })
  .openapi('AssetCreateUpload');

export const Asset = z
  .object({
    id: z.string(),
    sha256: z.string(),
    title: z.string(),
    mediaType: z.string(),
    creator: z.string(),
    production: z.string(),
    sourceUri: z.string().nullable(),
    rightsHolder: z.string().nullable(),
    byteSize: z.number().nullable(),
    derivedFromOutputId: z.string().nullable(),
    embeddedTrainingMining: z
      .object({ c2pa: z.string().nullable(), cawg: z.string().nullable() })
      .openapi({ description: 'what the uploaded file’s own C2PA (1.x) and CAWG training-mining assertions say' }),
    embeddedManifest: z
      .object({
        state: z.enum(EMBEDDED_MANIFEST_STATES).openapi({
          description:
            'the uploaded file’s own C2PA manifest: none (none seen, or registered by hash), valid, invalid (its integrity fails), damaged (a store that cannot be parsed), unreadable (c2pa-rs could not read the file); the last three deny training and derivative use unless overridden',
        }),
        codes: z.array(z.string()).openapi({ description: 'what c2pa-rs said: failure codes, or the error it read the file with' }),
        override: z
          .object({ reason: z.string(), by: z.string(), at: z.string(), auditIndex: z.number().int() })
          .nullable()
          .openapi({ description: 'legal’s recorded override of the embedded terms, with its reason and audit entry' }),
      })
      .openapi({ description: 'the state of the file’s own manifest, read at registration' }),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
  })
  .openapi('Asset');

export const AssetList = z.object({ items: z.array(Asset), nextCursor: z.string().nullable() }).openapi('AssetList');

const GrantFilter = z.enum(GRANT_VALUES).optional().openapi({ description: 'this grant of a current license version (a standing one unless `license=revoked`)' });

/** GET /v1/assets: every filter it takes; any other query parameter is a 422 naming it. */
export const AssetListQuery = z
  .object({
    production: z.string().optional(),
    rightsHolder: z.string().optional(),
    q: z.string().max(200).optional().openapi({ description: 'case-insensitive text in title or creator' }),
    training: GrantFilter,
    derivatives: GrantFilter,
    commercial: GrantFilter,
    territory: z
      .string()
      .refine(isTerritory, 'must be an ISO 3166-1 alpha-2 code (e.g. US) or WORLD')
      .optional()
      .openapi({ description: 'a current license covers this territory (naming it, or WORLD)' }),
    license: z.enum(['licensed', 'unlicensed', 'revoked']).optional().openapi({
      description: 'licensed: a current license version not revoked and its term not over; unlicensed: none such and none revoked; revoked: a current version revoked',
    }),
    cursor: z
      .string()
      .regex(/^[0-9]+$/, 'not a cursor from this API')
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict()
  .refine((f) => f.license !== 'unlicensed' || [f.training, f.derivatives, f.commercial, f.territory].every((v) => v === undefined), {
    message: 'an unlicensed asset has no license terms to filter by',
    path: ['license'],
  });

export type AssetCreateInput = z.infer<typeof AssetCreateJson> & {
  byteSize?: number;
  embeddedTrainingMining?: EmbeddedTrainingMining;
  embeddedManifest?: EmbeddedManifest;
};

export const EmbeddedTermsOverride = z
  .object({
    reason: text(2000).openapi({ example: 'Rights holder confirmed in writing (C-17 annex 2) that the damaged manifest carried no restriction' }),
  })
  .strict()
  .openapi('EmbeddedTermsOverride');
export type AssetView = z.infer<typeof Asset>;
