import { z } from '@hono/zod-openapi';
import { sha256Hex } from '../assets/schemas.ts';
import { CursorQuery, DateQuery, LimitQuery } from '../http/openapi-common.ts';
import { GRANT_VALUES, TRAINING_PURPOSES } from '../vocabulary/rights.ts';
import { isTerritory } from './territories.ts';

const Grant = z.enum(GRANT_VALUES);
const party = z.string().trim().min(1).max(300);
const instant = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

export const LicenseCreate = z
  .object({
    licensor: party.openapi({ example: 'Ortiz Studio' }),
    licensee: party.openapi({ example: 'Upstairs Films' }),
    vendors: z
      .array(z.string().trim().min(1).max(200))
      .max(200)
      .default([])
      .refine((v) => new Set(v).size === v.length, 'vendors must not repeat')
      .openapi({ description: 'Vendors the license extends to besides the licensee', example: ['acme-vfx'] }),
    grants: z
      .object({ training: Grant, derivatives: Grant, commercial: Grant })
      .strict()
      .openapi({ example: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'notAllowed' } }),
    territories: z
      .array(z.string().refine(isTerritory, 'must be an ISO 3166-1 alpha-2 code (e.g. US) or WORLD'))
      .min(1)
      .max(300)
      .openapi({ example: ['US', 'CA'] }),
    media: z
      .array(z.string().trim().min(1).max(100))
      .min(1)
      .max(100)
      .openapi({ example: ['theatrical', 'streaming'] }),
    baseModelFamilies: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9][a-z0-9.-]*$/, 'a model family such as veo or imagen'),
      )
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: 'If present, training is limited to these model families', example: ['veo', 'imagen'] }),
    term: z
      .object({ start: instant, end: instant })
      .strict()
      .refine((t) => Date.parse(t.end) > Date.parse(t.start), { message: 'term.end must be after term.start', path: ['end'] }),
    exclusivity: z.boolean(),
    attribution: z.string().trim().max(1000).optional(),
    contractRef: z
      .object({ id: z.string().trim().min(1).max(200), sha256: sha256Hex })
      .strict()
      .optional(),
    newLicense: z
      .boolean()
      .optional()
      .openapi({ description: 'true: the first version of another license of the asset, beside those it carries (its id becomes the new license id)' }),
    licenseId: z.string().min(1).max(100).optional().openapi({
      description:
        "The license to amend (its license id, the id of its first version; any of its version ids is taken too). Needed when the asset carries several standing licenses; left out, the asset's one license is amended",
    }),
    overrideConflict: z
      .object({ reason: z.string().trim().min(1).max(2000) })
      .strict()
      .optional()
      .openapi({ description: "Record an exclusive grant although it overlaps another licensee's standing exclusive grant; the reason is kept in the audit entry" }),
  })
  .strict()
  .refine((l) => !(l.newLicense && l.licenseId !== undefined), { message: 'newLicense adds a license: it names none to amend', path: ['licenseId'] })
  .openapi('LicenseCreate');

export const LICENSE_STATUSES = ['active', 'pending', 'expired', 'superseded', 'revoked'] as const;

export const Revocation = z.object({ id: z.string(), reason: z.string(), revokedAt: z.string(), revokedBy: z.string(), auditIndex: z.number().int() }).openapi('Revocation');

export const License = z
  .object({
    id: z.string(),
    licenseId: z.string().openapi({ description: 'The license this version belongs to: the id of its first version, the same for every amendment' }),
    assetId: z.string(),
    version: z.number().int(),
    supersedes: z.string().nullable(),
    supersededBy: z.string().nullable(),
    status: z.enum(LICENSE_STATUSES),
    licensor: z.string(),
    licensee: z.string(),
    vendors: z.array(z.string()),
    grants: z.object({ training: Grant, derivatives: Grant, commercial: Grant }),
    territories: z.array(z.string()),
    media: z.array(z.string()),
    baseModelFamilies: z.array(z.string()).nullable(),
    term: z.object({ start: z.string(), end: z.string() }),
    exclusivity: z.boolean(),
    attribution: z.string().nullable(),
    contractRef: z.object({ id: z.string(), sha256: z.string() }).nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
    revocation: Revocation.nullable(),
  })
  .openapi('License');

export const LicenseHistory = z.object({ assetId: z.string(), items: z.array(License) }).openapi('LicenseHistory');

export const RevokeBody = z
  .object({ reason: z.string().trim().min(1).max(2000).openapi({ example: 'Contract C-17 terminated by the licensor' }) })
  .strict()
  .openapi('RevokeRequest');

export type LicenseCreateInput = z.infer<typeof LicenseCreate>;
export type LicenseView = z.infer<typeof License>;

export const ApprovalCreate = z
  .object({
    vendor: z.string().trim().min(1).max(200).openapi({ example: 'acme-vfx' }),
    purpose: z.enum(TRAINING_PURPOSES).openapi({ example: 'fine-tune' }),
    grant: z.enum(['training', 'derivatives', 'commercial']).default('training'),
    validFrom: instant,
    validUntil: instant,
    note: z.string().trim().max(2000).optional(),
  })
  .strict()
  .refine((a) => Date.parse(a.validUntil) > Date.parse(a.validFrom), { message: 'validUntil must be after validFrom', path: ['validUntil'] })
  .openapi('ApprovalCreate');

export const Approval = z
  .object({
    id: z.string(),
    licenseId: z.string(),
    grant: z.string(),
    vendor: z.string(),
    purpose: z.string(),
    validFrom: z.string(),
    validUntil: z.string(),
    note: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
  })
  .openapi('Approval');

export type ApprovalCreateInput = z.infer<typeof ApprovalCreate>;

export const RevocationImpact = z
  .object({
    license: License,
    dryRun: z.literal(true),
    wouldRevokeClearances: z.array(z.object({ id: z.string(), vendor: z.string(), decision: z.string(), datasetId: z.string() })),
    wouldTaintCheckpoints: z.array(z.object({ id: z.string(), clearanceId: z.string() })),
  })
  .openapi('RevocationImpact');

const GrantFilter = Grant.optional();

/** GET /v1/licenses: every filter it takes; any other query parameter is a 422 naming it. */
export const LicenseListQuery = z
  .object({
    assetId: z.string().min(1).max(100).optional(),
    licenseId: z.string().min(1).max(100).optional().openapi({ description: 'one license (its license id): its current version' }),
    licensee: z.string().min(1).max(300).optional(),
    vendor: z.string().min(1).max(200).optional().openapi({ description: 'a vendor the license names (in `vendors`, or as the licensee)' }),
    training: GrantFilter,
    derivatives: GrantFilter,
    commercial: GrantFilter,
    state: z.enum(['standing', 'revoked', 'ended']).optional().openapi({ description: 'standing: not revoked, term not over; revoked; ended: term over, not revoked' }),
    endingBefore: DateQuery.openapi({ description: 'the term ends before this date (2026-06-30) or RFC 3339 date-time' }),
    cursor: CursorQuery,
    limit: LimitQuery,
  })
  .strict();

export const LicenseListItem = License.extend({ assetTitle: z.string() }).openapi('LicenseListItem');
export const LicenseList = z.object({ items: z.array(LicenseListItem), nextCursor: z.string().nullable() }).openapi('LicenseList');
