/**
 * The availability search's words for the gate's answers: a proposed use in users' terms (purpose, vendor,
 * base model, date, territory, medium) becomes the gate's request, and each policy id the engine returns
 * becomes a stable reason code. Pure: no I/O, no clock. There is no rule here: the decision is the Cedar
 * policy set's (policies/), through the same engine as a clearance; this file only names its reasons.
 */

import type { DecisionReason, GateRequest } from '../gate/policy-engine.ts';

/** What legal asks the art to be available for. */
export const AVAIL_PURPOSES = ['fine-tune', 'reference', 'derivative', 'commercial'] as const;
export type AvailPurpose = (typeof AVAIL_PURPOSES)[number];

/**
 * Why an asset is unavailable, as a code that stays put when a policy's words change. The first ten are
 * the ones the issue names; `embeddedUnreadable` is a manifest that cannot be validated (so its terms cannot
 * be known); the last four are the engine's own denies and a policy loaded later that has no code yet.
 */
export const AVAIL_REASON_CODES = [
  'noLicense',
  'revoked',
  'outsideTerm',
  'grantNotAllowed',
  'requiresApproval',
  'vendorNotNamed',
  'baseModelNotAllowed',
  'embeddedNotAllowed',
  'territory',
  'media',
  'embeddedUnreadable',
  'notPermitted',
  'invalidFacts',
  'evaluationFailure',
  'otherPolicy',
] as const;
export type AvailReasonCode = (typeof AVAIL_REASON_CODES)[number];

/** Every forbid of the shipped policy set, by its @id (test/unit/avails-reasons.test.ts holds this complete). */
export const CODE_BY_POLICY: Readonly<Record<string, AvailReasonCode>> = Object.freeze({
  'license-missing': 'noLicense',
  // A superseded version is not the current one: the asset stands with no current license.
  'license-superseded': 'noLicense',
  'license-revoked': 'revoked',
  'license-outside-term': 'outsideTerm',
  'vendor-not-licensed': 'vendorNotNamed',
  'training-not-allowed': 'grantNotAllowed',
  'derivatives-not-allowed': 'grantNotAllowed',
  'commercial-not-allowed': 'grantNotAllowed',
  'training-approval-missing': 'requiresApproval',
  'derivatives-approval-missing': 'requiresApproval',
  'commercial-approval-missing': 'requiresApproval',
  'base-model-not-licensed': 'baseModelNotAllowed',
  'c2pa-training-mining-not-allowed': 'embeddedNotAllowed',
  'cawg-training-mining-not-allowed': 'embeddedNotAllowed',
  'embedded-manifest-unreadable': 'embeddedUnreadable',
  'territory-not-licensed': 'territory',
  'media-not-licensed': 'media',
  // The engine's own denies (gate/policy-engine.ts SYNTHETIC_POLICY_IDS).
  'default-deny': 'notPermitted',
  'invalid-facts': 'invalidFacts',
  'evaluation-failure': 'evaluationFailure',
});

/** The permits: an allow names them, and they are no reason to refuse. */
export const PERMIT_POLICIES: ReadonlySet<string> = new Set(['training-permitted', 'derivative-use-permitted']);

export type AvailReason = { code: AvailReasonCode; policyId: string; sentence: string };

/** A reason's code; a policy loaded after this file was written says `otherPolicy` until it is given one. */
export function reasonCode(policyId: string): AvailReasonCode {
  return Object.hasOwn(CODE_BY_POLICY, policyId) ? CODE_BY_POLICY[policyId]! : 'otherPolicy';
}

/** The reasons of one denied decision, in the engine's order (policy order), each with its policy's words. */
export function availReasons(reasons: readonly DecisionReason[]): AvailReason[] {
  return reasons.map((r) => ({ code: reasonCode(r.policyId), policyId: r.policyId, sentence: r.reason }));
}

/** Policies of a set that would have no code: forbids not in CODE_BY_POLICY, permits not in PERMIT_POLICIES. */
export function unmappedPolicies(policies: readonly { id: string; effect: 'permit' | 'forbid' }[]): string[] {
  return policies.filter((p) => (p.effect === 'permit' ? !PERMIT_POLICIES.has(p.id) : !Object.hasOwn(CODE_BY_POLICY, p.id))).map((p) => p.id);
}

/** A proposed use as the availability search states it. */
export type ProposedUse = {
  purpose: AvailPurpose;
  vendor: string;
  baseModel: string;
  /** ISO instant. */
  at: string;
  territory?: string;
  media?: string;
};

/**
 * The gate's request for a proposed use. `fine-tune` is a clearance's own question (train, purpose
 * fine-tune): an available asset is one a clearance allows. `reference` and `derivative` are an output's
 * source use (derive: the derivatives grant), asked as the sign path asks it for a fine-tuned checkpoint;
 * `commercial` is that use exploited commercially (the commercial grant too, as the rights chain asks it).
 */
export function gateRequestFor(use: ProposedUse): GateRequest {
  const terms = { ...(use.territory !== undefined ? { territory: use.territory } : {}), ...(use.media !== undefined ? { media: use.media } : {}) };
  const base = { vendor: use.vendor, purpose: 'fine-tune' as const, baseModel: use.baseModel, at: use.at, ...terms };
  if (use.purpose === 'fine-tune') return { action: 'train', ...base };
  if (use.purpose === 'commercial') return { action: 'derive', ...base, commercial: true };
  return { action: 'derive', ...base };
}

/** The grant whose approvals the request reads (training for fine-tune, else derivatives), and commercial's too. */
export function approvalsFor(purpose: AvailPurpose): { grant: 'training' | 'derivatives'; commercial: boolean } {
  return { grant: purpose === 'fine-tune' ? 'training' : 'derivatives', commercial: purpose === 'commercial' };
}
