import { z } from '@hono/zod-openapi';
import { TRAINING_PURPOSES } from '../vocabulary/rights.ts';

const baseModel = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9.@_-]{1,120}$/, 'a model id such as veo-3.0-generate-001 or imagen-4.0-generate-001')
  .openapi({ example: 'veo-3.0-generate-001' });

export const Purpose = z.enum(TRAINING_PURPOSES);

export const ClearanceCreate = z
  .object({
    purpose: Purpose.openapi({ example: 'fine-tune' }),
    baseModel,
    vendor: z.string().trim().min(1).max(200).optional().openapi({ description: 'required for legal and admin; a vendor token speaks for its own vendor' }),
    mode: z.enum(['all', 'subset']).default('all').openapi({ description: 'subset: clear the passing assets as a derived dataset' }),
  })
  .strict()
  .openapi('ClearanceRequest');

export const GateEvaluate = z
  .object({
    datasetId: z.string().min(1).max(100).optional(),
    assetIds: z.array(z.string().min(1).max(100)).min(1).max(200_000).optional(),
    purpose: Purpose,
    baseModel,
    vendor: z.string().trim().min(1).max(200),
    at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'evaluate as of this time (default now)' }),
  })
  .strict()
  .refine((b) => (b.datasetId === undefined) !== (b.assetIds === undefined), { message: 'give either datasetId or assetIds', path: ['datasetId'] })
  .openapi('GateEvaluateRequest');

const Reason = z.object({ policyId: z.string(), reason: z.string() });
export const AssetOutcome = z
  .object({ assetId: z.string(), decision: z.enum(['allow', 'deny']), reasons: z.array(Reason), licenseId: z.string().nullable() })
  .openapi('AssetDecision');

const Counts = z.object({ assets: z.number().int(), allowed: z.number().int(), denied: z.number().int() });

export const Standing = z.object({ status: z.enum(['standing', 'revoked', 'expired', 'denied']), causes: z.array(z.record(z.string(), z.unknown())) }).openapi('ClearanceStanding');

export const ClearanceResult = z
  .object({
    id: z.string(),
    decision: z.enum(['allow', 'deny']),
    datasetId: z.string(),
    requestedDatasetId: z.string(),
    derivedDataset: z.record(z.string(), z.unknown()).nullable(),
    datasetDigest: z.string(),
    policyDigest: z.string(),
    vendor: z.string(),
    purpose: z.string(),
    baseModel: z.string(),
    issuedAt: z.string(),
    expiresAt: z.string().nullable(),
    token: z.string().nullable().openapi({ description: 'compact JWS (ES256, typ clearance+jwt), on allow' }),
    counts: Counts,
    assets: z.array(AssetOutcome),
    leftOut: z.array(AssetOutcome).nullable(),
    auditIndex: z.number().int(),
  })
  .openapi('Clearance');

export const ClearanceRecord = z
  .object({
    id: z.string(),
    decision: z.enum(['allow', 'deny']),
    datasetId: z.string(),
    requestedDatasetId: z.string(),
    mode: z.string(),
    datasetDigest: z.string(),
    policyDigest: z.string(),
    decisionsDigest: z.string(),
    vendor: z.string(),
    purpose: z.string(),
    baseModel: z.string(),
    issuedAt: z.string(),
    expiresAt: z.string().nullable(),
    counts: Counts,
    standing: Standing,
    assets: z.array(AssetOutcome),
    createdBy: z.string(),
    auditIndex: z.number().int(),
  })
  .openapi('ClearanceRecord');

export const ClearanceVerify = z
  .object({ token: z.string().min(1).max(20_000) })
  .strict()
  .openapi('ClearanceVerifyRequest');

export const ClearanceVerdict = z
  .object({
    valid: z.boolean(),
    signature: z.enum(['valid', 'invalid']),
    expired: z.boolean(),
    standing: Standing.nullable(),
    reasons: z.array(z.string()),
    clearance: z.record(z.string(), z.unknown()).nullable(),
    claims: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('ClearanceVerdict');

export const PolicyList = z
  .object({
    digest: z.string(),
    policies: z.array(z.object({ id: z.string(), reason: z.string(), effect: z.enum(['permit', 'forbid']), file: z.string() })),
  })
  .openapi('PolicySet');
