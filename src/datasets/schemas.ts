import { z } from '@hono/zod-openapi';

export const MAX_DATASET_ASSETS = 200_000;

const datasetCreateFields = {
  name: z.string().trim().min(1).max(300).openapi({ example: 'DUN style pass 1' }),
  assetIds: z.array(z.string().min(1).max(100)).min(1, 'a dataset needs at least one asset').max(MAX_DATASET_ASSETS),
  vendor: z.string().min(1).max(200).optional().openapi({
    description: 'the vendor the dataset is frozen for (legal and admin); a vendor’s own dataset is its vendor’s. Without it, a studio dataset: vendors do not see it',
  }),
};

export const DatasetCreate = z.object(datasetCreateFields).strict().openapi('DatasetCreate');

/**
 * The body when a selection of the library (a higher capability's query, e.g. the availability search) may
 * stand in for the list: either `assetIds` or `fromAvails`, never both.
 */
export function datasetCreateWith<S extends z.ZodType>(fromAvails: S) {
  return z
    .object({
      ...datasetCreateFields,
      assetIds: datasetCreateFields.assetIds.optional(),
      fromAvails: fromAvails.optional().openapi({ description: 'freeze every asset GET /v1/avails answers `available` for this query, as of now' }),
    })
    .strict()
    .refine((b) => (b.assetIds === undefined) !== (b.fromAvails === undefined), { message: 'give either assetIds or fromAvails', path: ['assetIds'] })
    .openapi('DatasetCreate');
}

export const Dataset = z
  .object({
    id: z.string(),
    name: z.string(),
    digest: z.string().openapi({ description: 'RFC 9162 Merkle root (hex) over member sha256 values in ascending hash order' }),
    assetCount: z.number().int(),
    parentId: z.string().nullable(),
    ownerVendor: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
  })
  .openapi('Dataset');

export const DatasetWithMembers = Dataset.extend({
  assets: z.array(z.object({ position: z.number().int(), assetId: z.string(), sha256: z.string() })),
}).openapi('DatasetWithMembers');

const Proof = z.object({
  index: z.number().int(),
  treeSize: z.number().int(),
  sha256: z.string(),
  leafHash: z.string(),
  hashes: z.array(z.string()).openapi({ description: 'hex, RFC 9162 inclusion path' }),
});

export const DatasetMembershipProof = z
  .object({
    datasetId: z.string(),
    digest: z.string(),
    assetId: z.string(),
    sha256: z.string().openapi({ description: 'the asset’s content hash: what the digest commits to, and what the proof is for' }),
    included: z.boolean().openapi({ description: 'whether these bytes are a member (as this asset, or as another asset with the same content)' }),
    memberAssetId: z
      .string()
      .nullable()
      .openapi({ description: 'when included: the member the bytes are listed as (the asset itself, or the same bytes registered under another production)' }),
    proof: Proof.nullable().openapi({ description: 'when included: the inclusion proof of that member' }),
    absence: z.array(Proof).nullable().openapi({ description: 'when not included: inclusion proofs of the adjacent members that bracket its hash' }),
  })
  .openapi('DatasetMembershipProof');

export type DatasetView = z.infer<typeof Dataset>;
