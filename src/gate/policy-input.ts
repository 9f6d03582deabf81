/**
 * Pure translation of training-gate facts into a Cedar authorization request.
 *
 * Nothing here talks to Cedar: the output is plain JSON in Cedar's entity / value JSON format, which
 * policy-engine.ts hands to cedar-wasm. The shape produced here is the one declared in
 * policies/schema.cedarschema; keep the two in step.
 *
 *   principal  Clearframe::Vendor::"<request.vendor>"
 *   action     Clearframe::Action::"train" | "derive"   (GateRequest.action, train unless given)
 *   resource   Clearframe::Asset::"<assetId>"  { production, c2paTrainingMining, cawgTrainingMining,
 *                                                embeddedManifest, embeddedTermsOverridden }
 *   context    { now, request { purpose, baseModel, baseModelFamily }, license? { ... }, approval { present } }
 *
 * Instants are passed as Cedar `datetime` values (millisecond precision, UTC). Input instants must carry an
 * explicit zone (`Z` or `±hh:mm`), or be a bare date (`YYYY-MM-DD`, read as UTC midnight). Sub-millisecond
 * digits are rounded so that a window can only get narrower: window starts round up, window ends and the
 * request time round down. Anything unparsable throws {@link PolicyInputError}; the engine turns that into a
 * deny.
 */

import { EMBEDDED_MANIFEST_STATES, type EmbeddedManifestState } from '../assets/embedded-manifest-state.ts';
import { GRANT_VALUES, type Grant, isOneOf, TRAINING_MINING_USES, TRAINING_PURPOSES, type TrainingMiningUse, type TrainingPurpose } from '../vocabulary/rights.ts';

export type LicenseFacts = {
  id: string;
  version: number;
  revoked: boolean;
  superseded: boolean;
  licensee: string;
  vendors: string[];
  grants: { training: Grant; derivatives: Grant; commercial: Grant };
  /** ISO instants; the term covers termStart (inclusive) up to termEnd (exclusive). */
  termStart: string;
  termEnd: string;
  territories: string[];
  media: string[];
  /** If present, training is limited to these model families (e.g. 'veo', 'imagen'). */
  baseModelFamilies?: string[] | null;
};

export type ApprovalFacts = {
  vendor: string;
  purpose: string;
  /** ISO instants; the approval covers validFrom (inclusive) up to validUntil (exclusive). */
  validFrom: string;
  validUntil: string;
};

export type AssetFacts = {
  assetId: string;
  /** Not visible to policies (it would make every asset's decision distinct). */
  sha256: string;
  production: string;
  /**
   * Embedded C2PA 1.x `c2pa.training-mining` assertion. Callers that merge C2PA and CAWG into one value
   * (the stricter of both, see {@link stricterTrainingMining}) may pass the merged value here only.
   */
  c2paTrainingMining?: TrainingMiningUse;
  /** Embedded CAWG `cawg.training-mining` assertion, if the caller keeps the two sources apart. */
  cawgTrainingMining?: TrainingMiningUse;
  /** The state of the asset's own C2PA manifest as read at registration ('none' when not given). */
  embeddedManifest?: EmbeddedManifestState;
  /** Legal has recorded an override of the embedded terms (of a manifest that cannot be validated). */
  embeddedOverride?: boolean;
  /** The current version of the asset's (first) license, if any. */
  license?: LicenseFacts | null;
  /** Approvals recorded on that license. */
  approvals: ApprovalFacts[];
  /** Approvals of the commercial grant on that license: read only for a request with `commercial`. */
  commercialApprovals?: ApprovalFacts[];
  /**
   * The current versions of the asset's other licenses, each with its approvals: each is decided on its own
   * and the asset is allowed when any is (gate/several-licenses.ts). Policies never see this list.
   */
  otherLicenses?: { license: LicenseFacts; approvals: ApprovalFacts[]; commercialApprovals?: ApprovalFacts[] }[];
};

/**
 * What the asset is asked for: `train` (a dataset's clearance) or `derive` (reference or conditioning for an
 * output of the vendor's checkpoint; its approvals are then the derivative grant's).
 */
export type GateAction = 'train' | 'derive';

export type GateRequest = {
  /** 'train' unless given. */
  action?: GateAction;
  vendor: string;
  purpose: TrainingPurpose;
  /** e.g. 'veo-3.0-generate-001' */
  baseModel: string;
  /** ISO instant of the request. */
  at: string;
  /**
   * A proposed use's territory, medium and commercial exploitation (the availability search). Left out by a
   * clearance and the sign path: then the policies do not read them.
   */
  territory?: string;
  media?: string;
  commercial?: boolean;
};

/** Cedar JSON value (the `CedarValueJson` of cedar-wasm, restated so callers need no Cedar types). */
export type CedarJson =
  | { __entity: { type: string; id: string } }
  | { __extn: { fn: string; arg: string } }
  | boolean
  | number
  | string
  | CedarJson[]
  | { [key: string]: CedarJson };

export type CedarUid = { type: string; id: string };

export type CedarRequest = {
  principal: CedarUid;
  action: CedarUid;
  resource: CedarUid;
  context: Record<string, CedarJson>;
  entities: { uid: CedarUid; attrs: Record<string, CedarJson>; parents: CedarUid[] }[];
};

export class PolicyInputError extends Error {
  override name = 'PolicyInputError';
}

export const NAMESPACE = 'Clearframe';
export const VENDOR_TYPE = `${NAMESPACE}::Vendor`;
export const ASSET_TYPE = `${NAMESPACE}::Asset`;
export const ACTION_TYPE = `${NAMESPACE}::Action`;
export const TRAIN_ACTION: CedarUid = { type: ACTION_TYPE, id: 'train' };
export const DERIVE_ACTION: CedarUid = { type: ACTION_TYPE, id: 'derive' };
const ACTIONS: Record<GateAction, CedarUid> = { train: TRAIN_ACTION, derive: DERIVE_ACTION };

/**
 * Model family of a Vertex AI model id: the first dash-separated part of the last path segment, lower case.
 * 'veo-3.0-generate-001' -> 'veo', 'publishers/google/models/imagen-4.0-generate-001' -> 'imagen'.
 */
export function baseModelFamily(baseModel: string): string {
  const last = baseModel.trim().split('/').pop() ?? '';
  return (last.split('-')[0] ?? '').toLowerCase();
}

const MINING_RANK: Record<TrainingMiningUse, number> = { allowed: 0, constrained: 1, notAllowed: 2 };

/** The stricter of two training-mining assertions (notAllowed > constrained > allowed > none). */
export function stricterTrainingMining(a: TrainingMiningUse | undefined, b: TrainingMiningUse | undefined): TrainingMiningUse | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return MINING_RANK[a] >= MINING_RANK[b] ? a : b;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?))?$/;

/**
 * Parses an ISO 8601 instant to epoch milliseconds. `round` says which way sub-millisecond digits go.
 * Throws PolicyInputError for anything without an explicit zone or out of range.
 */
export function parseInstant(value: string, round: 'floor' | 'ceil', what = 'instant'): number {
  const m = typeof value === 'string' ? INSTANT.exec(value.trim()) : null;
  if (!m) throw new PolicyInputError(`${what} is not an ISO 8601 instant with a zone: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (h !== undefined && zone === undefined) {
    throw new PolicyInputError(`${what} has no zone: ${JSON.stringify(value)}`);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    throw new PolicyInputError(`${what} is out of range: ${JSON.stringify(value)}`);
  }
  let ms = date.getTime();
  if (frac !== undefined) {
    const whole = Number(frac.slice(0, 3).padEnd(3, '0'));
    const rest = frac.slice(3);
    ms += whole;
    if (round === 'ceil' && /[1-9]/.test(rest)) ms += 1;
  }
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) throw new PolicyInputError(`${what} has an invalid zone: ${JSON.stringify(value)}`);
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  const out = new Date(ms);
  if (Number.isNaN(ms) || out.getUTCFullYear() < 0 || out.getUTCFullYear() > 9999) {
    throw new PolicyInputError(`${what} is out of range: ${JSON.stringify(value)}`);
  }
  return ms;
}

function datetime(ms: number): CedarJson {
  return { __extn: { fn: 'datetime', arg: new Date(ms).toISOString() } };
}

function entity(type: string, id: string): CedarJson {
  return { __entity: { type, id } };
}

function enumValue(kind: string, allowed: readonly string[], value: unknown, what: string): CedarJson {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new PolicyInputError(`${what} has an unknown value: ${JSON.stringify(value)}`);
  }
  return entity(`${NAMESPACE}::${kind}`, value);
}

function stringSet(values: unknown, what: string, fold: 'lower' | 'upper' | false = false): string[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
    throw new PolicyInputError(`${what} must be a list of strings`);
  }
  const out = (values as string[]).map((v) => (fold === 'lower' ? v.trim().toLowerCase() : fold === 'upper' ? v.trim().toUpperCase() : v));
  return [...new Set(out)].sort();
}

/** Request-level values shared by every asset of one gate request. */
type PreparedRequest = {
  request: GateRequest;
  action: CedarUid;
  atMs: number;
  principal: CedarUid;
  requestRecord: Record<string, CedarJson>;
  now: CedarJson;
};

function prepareRequest(request: GateRequest): PreparedRequest {
  if (request === null || typeof request !== 'object') throw new PolicyInputError('request must be an object');
  if (typeof request.vendor !== 'string' || request.vendor === '') {
    throw new PolicyInputError('request.vendor must be a non-empty string');
  }
  if (typeof request.baseModel !== 'string' || baseModelFamily(request.baseModel) === '') {
    throw new PolicyInputError(`request.baseModel has no model family: ${JSON.stringify(request.baseModel)}`);
  }
  const atMs = parseInstant(request.at, 'floor', 'request.at');
  const action = ACTIONS[request.action ?? 'train'];
  if (!action) throw new PolicyInputError(`request.action has an unknown value: ${JSON.stringify(request.action)}`);
  const requestRecord: Record<string, CedarJson> = {
    purpose: enumValue('Purpose', TRAINING_PURPOSES, request.purpose, 'request.purpose'),
    baseModel: request.baseModel,
    baseModelFamily: baseModelFamily(request.baseModel),
  };
  // Only when asked: a request without them is the one the gate has always sent.
  if (request.territory !== undefined) requestRecord.territory = useTerm(request.territory, 'request.territory').toUpperCase();
  if (request.media !== undefined) requestRecord.media = useTerm(request.media, 'request.media').toLowerCase();
  if (request.commercial !== undefined) {
    if (typeof request.commercial !== 'boolean') throw new PolicyInputError('request.commercial must be a boolean');
    requestRecord.commercial = request.commercial;
  }
  return {
    request,
    action,
    atMs,
    principal: { type: VENDOR_TYPE, id: request.vendor },
    requestRecord,
    now: datetime(atMs),
  };
}

function useTerm(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new PolicyInputError(`${what} must be a non-empty string`);
  return value.trim();
}

/**
 * True when one of the approvals names the request's vendor and purpose and its window
 * [validFrom, validUntil) contains the request time. Unparsable approvals cover nothing.
 */
export function approvalCovers(approvals: readonly ApprovalFacts[], request: GateRequest, atMs: number): boolean {
  return approvals.some((a) => {
    if (a === null || typeof a !== 'object') return false;
    if (a.vendor !== request.vendor || a.purpose !== request.purpose) return false;
    try {
      const from = parseInstant(a.validFrom, 'ceil', 'approval.validFrom');
      const until = parseInstant(a.validUntil, 'floor', 'approval.validUntil');
      return from <= atMs && atMs < until;
    } catch {
      return false;
    }
  });
}

function licenseRecord(license: LicenseFacts): Record<string, CedarJson> {
  if (typeof license !== 'object') throw new PolicyInputError('license must be an object');
  if (typeof license.id !== 'string' || !Number.isSafeInteger(license.version)) {
    throw new PolicyInputError('license.id / license.version are malformed');
  }
  if (typeof license.revoked !== 'boolean' || typeof license.superseded !== 'boolean') {
    throw new PolicyInputError('license.revoked / license.superseded must be booleans');
  }
  if (typeof license.licensee !== 'string') throw new PolicyInputError('license.licensee must be a string');
  const grants: Partial<LicenseFacts['grants']> = license.grants ?? {};
  const record: Record<string, CedarJson> = {
    id: license.id,
    version: license.version,
    revoked: license.revoked,
    superseded: license.superseded,
    licensee: entity(VENDOR_TYPE, license.licensee),
    vendors: stringSet(license.vendors, 'license.vendors').map((v) => entity(VENDOR_TYPE, v)),
    grants: {
      training: enumValue('Grant', GRANT_VALUES, grants.training, 'license.grants.training'),
      derivatives: enumValue('Grant', GRANT_VALUES, grants.derivatives, 'license.grants.derivatives'),
      commercial: enumValue('Grant', GRANT_VALUES, grants.commercial, 'license.grants.commercial'),
    },
    termStart: datetime(parseInstant(license.termStart, 'ceil', 'license.termStart')),
    termEnd: datetime(parseInstant(license.termEnd, 'floor', 'license.termEnd')),
    // Compared with a proposed use's territory and medium as the rights chain compares them.
    territories: stringSet(license.territories, 'license.territories', 'upper'),
    media: stringSet(license.media, 'license.media', 'lower'),
  };
  if (license.baseModelFamilies !== undefined && license.baseModelFamilies !== null) {
    record.baseModelFamilies = stringSet(license.baseModelFamilies, 'license.baseModelFamilies', 'lower');
  }
  return record;
}

function miningId(value: TrainingMiningUse | undefined | null, what: string): string {
  if (value === undefined || value === null) return 'absent';
  if (!isOneOf(TRAINING_MINING_USES, value)) {
    throw new PolicyInputError(`${what} has an unknown value: ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Per training-mining attribute, the values (of 'allowed', 'notAllowed', 'constrained', 'absent') that the
 * policies can tell apart: `null` or a missing entry means every value; a list means that values outside
 * it decide alike and may share a Cedar call. policy-engine.ts derives it from the parsed policies.
 */
export type MiningClasses = { c2paTrainingMining?: readonly string[] | null; cawgTrainingMining?: readonly string[] | null };

/** One asset's request, with the key that identifies its facts (see {@link createRequestBuilder}). */
export type BuiltRequest = {
  /**
   * Everything the decision can depend on except the asset id (and the gate request, which is the same for
   * every asset of a builder). With the default options, equal keys from one builder mean equal Cedar
   * requests up to the asset id; the options leave out of the key what the caller has shown the policies
   * cannot tell apart (a license's id and version, the production, training-mining values no policy names).
   */
  key: string;
  /**
   * The same, stable across builders of one policy set (the key's license part is a number per builder):
   * built on demand, for decisions remembered between evaluations (policy-engine.ts).
   */
  stableKey(): string;
  /** Every instant the request holds besides `now` (the license term), in epoch milliseconds. */
  instants: readonly number[];
  /** The full Cedar request for this asset (built on demand: one per distinct key is enough). */
  request(): CedarRequest;
};

export type RequestBuilder = (asset: AssetFacts) => BuiltRequest;

const NO_APPROVALS: readonly ApprovalFacts[] = Object.freeze([]);
const NO_INSTANTS: readonly number[] = Object.freeze([]);

/**
 * Returns a function turning each asset's facts into a Cedar request for `gate`. Throws PolicyInputError if
 * the gate request is malformed; the returned function throws PolicyInputError for malformed asset facts.
 *
 * Within one builder, license and approval facts are converted once per object (assets usually share the
 * same license object), so the builder must not outlive changes to those objects: make one per evaluation.
 * Keys are still derived from values, so equal licenses held in distinct objects share a key too.
 */
export function createRequestBuilder(gate: GateRequest, options: { licenseIdentity?: boolean; production?: boolean; mining?: Readonly<MiningClasses> } = {}): RequestBuilder {
  // Each asset has its own license row, but a studio licenses art in batches on equal terms. Unless a
  // policy reads the license's id or version, equal terms decide alike and may share one Cedar call.
  const licenseIdentity = options.licenseIdentity ?? true;
  // Likewise the production: assets of several films decide alike unless a policy reads it.
  const productionMatters = options.production ?? true;
  // And a training-mining value that no policy compares with: e.g. when policies only ask "notAllowed?",
  // 'allowed', 'constrained' and 'absent' decide alike. The key holds the value's class; the request sent
  // for the class is the first asset's, with its real value.
  const miningClass = (told: readonly string[] | null | undefined): ((value: string) => string) => {
    if (told === undefined || told === null) return (value) => value;
    const apart = new Set(told);
    return (value) => (apart.has(value) ? value : '*');
  };
  const c2paClass = miningClass(options.mining?.c2paTrainingMining);
  const cawgClass = miningClass(options.mining?.cawgTrainingMining);
  const prepared = prepareRequest(gate);
  const commercialAsked = gate.commercial === true;
  type Converted = { record: Record<string, CedarJson>; key: string; canonical: string; instants: readonly number[] };
  // Caches by object identity, then by the object's JSON (equal objects built separately, e.g. one per
  // database row), so each distinct license is converted once. Keys are short numbers handed out per
  // distinct converted record, which keeps the per-asset key cheap to build and hash.
  const licenses = new Map<object, Converted | PolicyInputError>();
  const licensesByJson = new Map<string, Converted | PolicyInputError>();
  const licenseNumbers = new Map<string, string>();
  const approvals = new Map<object, boolean>();
  const approvalsByJson = new Map<string, boolean>();

  const rawJson = (value: unknown, what: string): string => {
    try {
      return JSON.stringify(value);
    } catch (err) {
      throw new PolicyInputError(`${what} cannot be read: ${(err as Error).message}`);
    }
  };

  const convertLicense = (license: LicenseFacts): Converted | PolicyInputError => {
    try {
      const record = licenseRecord(license);
      const canonical = JSON.stringify(licenseIdentity ? record : { ...record, id: null, version: null });
      let key = licenseNumbers.get(canonical);
      if (key === undefined) {
        key = String(licenseNumbers.size);
        licenseNumbers.set(canonical, key);
      }
      const instantOf = (v: CedarJson | undefined) => Date.parse((v as { __extn: { arg: string } }).__extn.arg);
      return { record, key, canonical, instants: [instantOf(record.termStart), instantOf(record.termEnd)] };
    } catch (err) {
      if (err instanceof PolicyInputError) return err;
      throw err;
    }
  };

  // When the policies cannot tell licenses apart but by their terms, equal terms are converted once: a
  // studio's 100,000 license rows carry a few dozen distinct terms. The key is the terms, cheaply joined
  // (JSON of each part, so no separator can occur inside one); anything odd falls back to the full JSON.
  const termsKey = (l: LicenseFacts): string | undefined => {
    if (licenseIdentity || typeof l !== 'object' || l === null) return undefined;
    // The id and version are left out of the key but must still be well-formed: a malformed one is
    // converted on its own, and denies (as it would without sharing).
    if (typeof l.id !== 'string' || !Number.isSafeInteger(l.version)) return undefined;
    try {
      const g = l.grants;
      return JSON.stringify([
        l.revoked,
        l.superseded,
        l.licensee,
        l.vendors,
        g?.training,
        g?.derivatives,
        g?.commercial,
        l.termStart,
        l.termEnd,
        l.territories,
        l.media,
        l.baseModelFamilies ?? null,
      ]);
    } catch {
      return undefined;
    }
  };

  const licenseOf = (license: LicenseFacts): Converted => {
    let hit = licenses.get(license);
    if (hit === undefined) {
      const raw = termsKey(license) ?? rawJson(license, 'license');
      hit = licensesByJson.get(raw);
      if (hit === undefined) {
        hit = convertLicense(license);
        licensesByJson.set(raw, hit);
      }
      licenses.set(license, hit);
    }
    if (hit instanceof PolicyInputError) throw hit;
    return hit;
  };

  const approvalOf = (list: readonly ApprovalFacts[]): boolean => {
    if (list.length === 0) return false;
    let hit = approvals.get(list);
    if (hit === undefined) {
      const raw = rawJson(list, 'asset.approvals');
      hit = approvalsByJson.get(raw);
      if (hit === undefined) {
        hit = approvalCovers(list, prepared.request, prepared.atMs);
        approvalsByJson.set(raw, hit);
      }
      approvals.set(list, hit);
    }
    return hit;
  };

  return (asset) => {
    if (asset === null || typeof asset !== 'object') throw new PolicyInputError('asset must be an object');
    const { assetId, production } = asset;
    if (typeof assetId !== 'string' || assetId === '') {
      throw new PolicyInputError('asset.assetId must be a non-empty string');
    }
    if (typeof production !== 'string') throw new PolicyInputError('asset.production must be a string');
    if (asset.approvals !== undefined && asset.approvals !== null && !Array.isArray(asset.approvals)) {
      throw new PolicyInputError('asset.approvals must be a list');
    }
    const c2pa = miningId(asset.c2paTrainingMining, 'asset.c2paTrainingMining');
    const cawg = miningId(asset.cawgTrainingMining, 'asset.cawgTrainingMining');
    const manifest = asset.embeddedManifest ?? 'none';
    if (!(EMBEDDED_MANIFEST_STATES as readonly string[]).includes(manifest)) {
      throw new PolicyInputError(`asset.embeddedManifest has an unknown value: ${JSON.stringify(manifest)}`);
    }
    const overridden = asset.embeddedOverride ?? false;
    if (typeof overridden !== 'boolean') throw new PolicyInputError('asset.embeddedOverride must be a boolean');
    const license = asset.license === undefined || asset.license === null ? undefined : licenseOf(asset.license);
    const present = license ? approvalOf(asset.approvals ?? NO_APPROVALS) : false;
    // Asked only for a commercial use: otherwise no policy reads it, and it stays out of the request.
    const commercial = commercialAsked ? (license ? approvalOf(asset.commercialApprovals ?? NO_APPROVALS) : false) : undefined;
    const approvalKey = commercial === undefined ? String(present) : `${present}/${commercial}`;
    // Every part is JSON, so the separator cannot occur inside one.
    const key = `${productionMatters ? JSON.stringify(production) : '-'}\n${c2paClass(c2pa)}\n${cawgClass(cawg)}\n${license?.key ?? '-'}\n${approvalKey}\n${manifest}\n${overridden}`;

    return {
      key,
      stableKey: () => `${JSON.stringify(production)}\n${c2pa}\n${cawg}\n${license?.canonical ?? '-'}\n${approvalKey}\n${manifest}\n${overridden}`,
      instants: license?.instants ?? NO_INSTANTS,
      request: (): CedarRequest => {
        const resource: CedarUid = { type: ASSET_TYPE, id: assetId };
        const context: Record<string, CedarJson> = {
          now: prepared.now,
          request: prepared.requestRecord,
          approval: commercial === undefined ? { present } : { present, commercial },
        };
        if (license) context.license = license.record;
        return {
          principal: prepared.principal,
          action: prepared.action,
          resource,
          context,
          entities: [
            {
              uid: resource,
              attrs: {
                production,
                c2paTrainingMining: entity(`${NAMESPACE}::TrainingMining`, c2pa),
                cawgTrainingMining: entity(`${NAMESPACE}::TrainingMining`, cawg),
                embeddedManifest: entity(`${NAMESPACE}::EmbeddedManifest`, manifest),
                embeddedTermsOverridden: overridden,
              },
              parents: [],
            },
          ],
        };
      },
    };
  };
}

/** The Cedar request for one asset (convenience for a single asset; evaluation uses createRequestBuilder). */
export function buildCedarRequest(gate: GateRequest, asset: AssetFacts): CedarRequest {
  return createRequestBuilder(gate)(asset).request();
}
