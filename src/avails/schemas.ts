import { z } from '@hono/zod-openapi';
import { isTerritory } from '../licenses/territories.ts';
import { AVAIL_PURPOSES, AVAIL_REASON_CODES } from './reasons.ts';

/** A page holds at most this many assets (as many as a dataset may hold). */
export const MAX_AVAILS_PAGE = 200_000;

const baseModel = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9.@_-]{1,120}$/, 'a model id such as veo-3.0-generate-001 or imagen-4.0-generate-001')
  .openapi({ example: 'veo-3.0-generate-001' });

/** The proposed use and the filters, as GET /v1/avails takes them and as `fromAvails` restates them. */
const useFields = {
  purpose: z.enum(AVAIL_PURPOSES).openapi({
    description: 'fine-tune: what a clearance would allow; reference and derivative: an output’s source art (the derivatives grant); commercial: that use exploited commercially',
  }),
  vendor: z.string().trim().min(1).max(200).optional().openapi({ description: 'required for legal and admin; a vendor token asks for its own vendor', example: 'acme-vfx' }),
  baseModel,
  date: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()])
    .optional()
    .openapi({ description: 'the use’s date (default now): an instant with its zone, or a date (UTC midnight)' }),
  territory: z
    .string()
    .trim()
    .transform((t) => t.toUpperCase())
    .refine(isTerritory, 'an ISO 3166-1 alpha-2 code such as US, or WORLD')
    .optional()
    .openapi({ description: 'ISO 3166-1 alpha-2, or WORLD (only a WORLD license covers it)', example: 'US' }),
  media: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .transform((m) => m.toLowerCase())
    .optional()
    .openapi({ example: 'streaming' }),
  production: z.string().trim().min(1).max(200).optional().openapi({ description: 'only the art of this production' }),
  rightsHolder: z.string().trim().min(1).max(300).optional().openapi({ description: 'only the art of this rights holder' }),
};

export const AvailsQuery = z
  .object({
    ...useFields,
    status: z.enum(['available', 'unavailable']).optional().openapi({ description: 'only the assets with this answer' }),
    cursor: z.string().regex(/^\d+$/).optional().openapi({ description: 'the `nextCursor` of the previous page' }),
    limit: z.coerce.number().int().min(1).max(MAX_AVAILS_PAGE).default(1000),
  })
  .strict();
export type AvailsQueryInput = z.infer<typeof AvailsQuery>;

/** `fromAvails` of POST /v1/datasets: the same use and filters; the dataset takes every available asset. */
export const FromAvails = z
  .object(useFields)
  .strict()
  .openapi('AvailsSelection', { description: 'the query of GET /v1/avails (without paging or status): every asset available for it' });
export type FromAvailsInput = z.infer<typeof FromAvails>;

const Reason = z.object({
  code: z.enum(AVAIL_REASON_CODES),
  policyId: z.string().openapi({ description: 'the Cedar policy (or the engine’s own deny) the reason comes from' }),
  sentence: z.string(),
});

export const AvailRow = z
  .object({
    assetId: z.string(),
    title: z.string(),
    production: z.string(),
    rightsHolder: z.string().nullable(),
    licenseId: z
      .string()
      .nullable()
      .openapi({ description: 'the current license version the answer rests on: of several licenses, the one that makes it available, else the one naming the vendor' }),
    status: z.enum(['available', 'unavailable']),
    reasons: z.array(Reason).openapi({ description: 'empty when available' }),
  })
  .openapi('Avail');

export const AvailsPage = z
  .object({
    use: z.object({
      purpose: z.enum(AVAIL_PURPOSES),
      vendor: z.string(),
      baseModel: z.string(),
      date: z.string(),
      territory: z.string().nullable(),
      media: z.string().nullable(),
    }),
    policyDigest: z.string().openapi({ description: 'the policy set that decided (the one a clearance would use now)' }),
    items: z.array(AvailRow),
    nextCursor: z.string().nullable(),
  })
  .openapi('AvailsPage');
