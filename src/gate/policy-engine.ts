/**
 * The training gate's Cedar policy engine: loads and validates the policy set in policies/, and decides, per
 * asset, whether a vendor may fine-tune a model on it.
 *
 * Cedar (cedar-wasm) stays behind this module: callers only see PolicySet, AssetDecision and the plain fact
 * types of policy-input.ts.
 *
 * Loading (loadPolicySet):
 *   - policies/*.cedar in file-name order (UTF-16 code-unit order, locale independent) + schema.cedarschema;
 *   - each file is parsed on its own, so every error is reported as `file:line:column: message`;
 *   - every policy must carry @id("...") and @reason("..."), ids unique across all files; templates are
 *     rejected; every file is validated (strict mode) against the schema, and validator warnings (e.g. a
 *     policy that can never apply) are errors too;
 *   - the checked set is preparsed into cedar-wasm's cache (preparsePolicySet / preparseSchema) under ids
 *     derived from the digest, and each request is answered by statefulIsAuthorized, so no policy or schema
 *     text is re-parsed per request.
 *
 * Deciding (PolicySet.evaluate) fails closed: an asset whose facts cannot be expressed, a request Cedar
 * rejects, or any policy that errors during evaluation (Cedar skips such a policy — an erroring forbid would
 * otherwise let the request through) gives a deny naming the cause.
 *
 * Assets with identical facts (everything but the asset id, see createRequestBuilder) are decided once. If a
 * policy names an individual asset (Clearframe::Asset::"..."), decisions are no longer shared between assets.
 * Facts that the loaded policies provably cannot tell apart, read from their JSON form at load, are not
 * distinguished either: a license's id and version, the production, and training-mining values that no policy
 * compares with (see miningTests).
 *
 * cedar-wasm's preparse cache lives in the wasm instance and has no eviction API: every distinct policy set
 * (by digest) loaded in a process stays cached until the process (or worker thread) ends. Fine for reloads on
 * policy edits; do not load unboundedly many distinct sets.
 */

import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import {
  ASSET_TYPE,
  type AssetFacts,
  type BuiltRequest,
  type CedarRequest,
  createRequestBuilder,
  type GateRequest,
  type MiningClasses,
  NAMESPACE,
  PolicyInputError,
  parseInstant,
  type RequestBuilder,
} from './policy-input.ts';
import { combineLicenseDecisions, perLicense } from './several-licenses.ts';

export type { ApprovalFacts, AssetFacts, GateRequest, LicenseFacts } from './policy-input.ts';

export const SCHEMA_FILE = 'schema.cedarschema';
export const POLICY_FILE_SUFFIX = '.cedar';

/** Policy ids the engine uses for reasons no policy file states. A policy may not use them as its @id. */
export const SYNTHETIC_POLICY_IDS = {
  /** Nothing permitted the request. */
  defaultDeny: 'default-deny',
  /** The asset's (or the request's) facts could not be turned into a Cedar request. */
  invalidFacts: 'invalid-facts',
  /** Cedar refused the request as a whole (e.g. it does not match the schema). */
  evaluationFailure: 'evaluation-failure',
} as const;
const RESERVED_IDS: ReadonlySet<string> = new Set(Object.values(SYNTHETIC_POLICY_IDS));
/** Allowed @id values: readable in reasons and logs, and safe as object keys (no "__proto__"). */
const POLICY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export type PolicyEffect = 'permit' | 'forbid';

export type PolicyInfo = {
  /** The @id annotation. */
  id: string;
  /** The @reason annotation. */
  reason: string;
  effect: PolicyEffect;
  /** File name inside the policy directory. */
  file: string;
  /** 1-based position of the policy's first character in its file. */
  line: number;
  column: number;
};

export type DecisionReason = { policyId: string; reason: string };

export type AssetDecision = {
  assetId: string;
  decision: 'allow' | 'deny';
  /** allow: the permits that applied. deny: the forbids that applied, evaluation errors, or default-deny. */
  reasons: readonly DecisionReason[];
  /**
   * The license version the decision rests on (null: none). With several licenses (`otherLicenses`): the
   * one that allows, or for a deny the one naming the vendor (gate/several-licenses.ts).
   */
  licenseId: string | null;
};

export type EvaluationStats = {
  assets: number;
  /** Distinct Cedar requests, i.e. calls into Cedar. */
  cedarCalls: number;
};

export interface PolicySet {
  /**
   * sha256 (hex) over the loaded files:
   *   "clearframe-policy-set/v1\n", then for every policy file in load order and finally schema.cedarschema:
   *   "<name length in bytes>:<file name>\n<content length in bytes>\n<content bytes>\n"
   * (names UTF-8, lengths in decimal, content the raw file bytes). Any change to a file's name or content,
   * to the set of files, or to the schema changes the digest; the directory's path does not count.
   */
  readonly digest: string;
  /** Policies in load order (file name order, then position in the file). */
  readonly policies: readonly PolicyInfo[];
  /** One decision per asset, in the order given. Never throws for bad facts: they deny. */
  evaluate(request: GateRequest, assets: readonly AssetFacts[], options?: { onStats?: (stats: EvaluationStats) => void }): AssetDecision[];
}

export type PolicySetIssue = {
  /** File name inside the policy directory (or the directory itself). */
  file: string;
  line?: number;
  column?: number;
  message: string;
};

export class PolicySetError extends Error {
  override name = 'PolicySetError';
  readonly issues: readonly PolicySetIssue[];

  constructor(dir: string, issues: readonly PolicySetIssue[]) {
    const lines = issues.map((i) => `  ${formatIssue(i)}`);
    super(`invalid policy set in ${dir}:\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

function formatIssue(i: PolicySetIssue): string {
  const at = i.line === undefined ? i.file : `${i.file}:${i.line}:${i.column ?? 1}`;
  return `${at}: ${i.message}`;
}

export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A source file with position helpers (Cedar reports byte offsets into UTF-8). */
class Source {
  readonly text: string;
  private readonly bytes: Buffer;
  private readonly lineStarts: number[];

  constructor(
    readonly name: string,
    raw: Buffer,
  ) {
    let text = raw.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.text = text;
    this.bytes = Buffer.from(text, 'utf8');
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line/column of a UTF-16 index. */
  at(charIndex: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= charIndex) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: charIndex - (this.lineStarts[lo] ?? 0) + 1 };
  }

  atByte(byteOffset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(byteOffset, this.bytes.length));
    return this.at(this.bytes.subarray(0, clamped).toString('utf8').length);
  }

  issue(message: string, byteOffset?: number): PolicySetIssue {
    if (byteOffset === undefined) return { file: this.name, message };
    return { file: this.name, ...this.atByte(byteOffset), message };
  }

  /** Issues for Cedar errors whose source locations point into this file. */
  cedarIssues(errors: readonly cedar.DetailedError[], fallbackChar?: number): PolicySetIssue[] {
    return errors.map((e) => {
      const loc = e.sourceLocations?.[0];
      let message = e.message;
      if (loc?.label) message += ` (${loc.label})`;
      if (e.help) message += `; help: ${e.help}`;
      if (loc) return this.issue(message, loc.start);
      if (fallbackChar !== undefined) return { file: this.name, ...this.at(fallbackChar), message };
      return this.issue(message);
    });
  }
}

type LoadedPolicy = PolicyInfo & { text: string; index: number };

/** True if the policy names an individual asset, i.e. its decision may differ between assets with equal facts. */
function namesAnAsset(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(namesAnAsset);
  if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === ASSET_TYPE && typeof o.id === 'string') return true;
    return Object.values(o).some(namesAnAsset);
  }
  return false;
}

/**
 * True if the policy may tell two licenses with equal terms apart: it reads a license's `id` or
 * `version` (attribute access or `has`), or uses `context.license` as a whole value. Conservative: any
 * `id`/`version` attribute anywhere counts.
 */
function readsLicenseIdentity(node: unknown, accessed = false): boolean {
  if (Array.isArray(node)) return node.some((n) => readsLicenseIdentity(n));
  if (node === null || typeof node !== 'object') return false;
  const o = node as Record<string, unknown>;
  for (const op of ['.', 'has'] as const) {
    const access = o[op] as { left?: unknown; attr?: unknown } | undefined;
    if (!access || typeof access !== 'object') continue;
    if (access.attr === 'id' || access.attr === 'version') return true;
    // `context.license` itself, not one of its attributes: compared or passed whole.
    if (op === '.' && access.attr === 'license' && !accessed) return true;
    // The object an attribute is read from (or tested with `has`) is not used whole.
    return readsLicenseIdentity(access.left, true);
  }
  return Object.values(o).some((v) => readsLicenseIdentity(v));
}

/**
 * The asset attributes whose values are enumerated TrainingMining values, and that type. An attribute
 * that policies only ever compare (`==` / `!=`) with literals of this enum cannot tell apart the values
 * that none of those literals name: such values decide alike (see miningTests).
 */
export const MINING_ATTRIBUTES = ['c2paTrainingMining', 'cawgTrainingMining'] as const;
export type MiningAttribute = (typeof MINING_ATTRIBUTES)[number];
const MINING_TYPE = `${NAMESPACE}::TrainingMining`;

/**
 * Which values of each training-mining attribute the policies can tell apart, from the policy's JSON (EST):
 *   - an attribute the policy never reads: no value (absent from the map);
 *   - read only as `<expr>.attr == L` / `!=` (either side), `L` an enum literal
 *     `Clearframe::TrainingMining::"<value>"`: exactly the literals' values (`has` reads no value);
 *   - read in any other way (`in`, `is`, compared with another expression, passed on whole, ...): `null`,
 *     every value counts.
 * Two values outside the set give every such comparison the same result, so the policy decides alike for
 * them. `out` is merged into: a set grows by union, `null` wins.
 */
export function miningTests(node: unknown, out: Map<MiningAttribute, Set<string> | null> = new Map()): Map<MiningAttribute, Set<string> | null> {
  const miningAttr = (n: unknown): MiningAttribute | undefined => {
    const access = (n as { '.'?: { attr?: unknown } } | null)?.['.'];
    const attr = access && typeof access === 'object' ? access.attr : undefined;
    return (MINING_ATTRIBUTES as readonly unknown[]).includes(attr) ? (attr as MiningAttribute) : undefined;
  };
  const miningLiteral = (n: unknown): string | undefined => {
    const value = (n as { Value?: { __entity?: { type?: unknown; id?: unknown } } } | null)?.Value;
    const e = value && typeof value === 'object' ? value.__entity : undefined;
    return e && typeof e === 'object' && e.type === MINING_TYPE && typeof e.id === 'string' ? e.id : undefined;
  };
  const test = (attr: MiningAttribute, value: string): void => {
    const seen = out.get(attr);
    if (seen === null) return;
    if (seen) seen.add(value);
    else out.set(attr, new Set([value]));
  };
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (n === null || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === '==' || keys[0] === '!=')) {
      const cmp = o[keys[0]] as { left?: unknown; right?: unknown } | null;
      if (cmp && typeof cmp === 'object') {
        const [l, r] = [miningAttr(cmp.left), miningAttr(cmp.right)];
        const [lv, rv] = [miningLiteral(cmp.left), miningLiteral(cmp.right)];
        const [attr, value, accessed] = l && rv !== undefined ? [l, rv, cmp.left] : r && lv !== undefined ? [r, lv, cmp.right] : [];
        if (attr && value !== undefined) {
          test(attr, value);
          visit((accessed as { '.': { left: unknown } })['.'].left);
          return;
        }
      }
    }
    // Any other read of the attribute's value.
    const attr = miningAttr(o);
    if (attr) out.set(attr, null);
    for (const v of Object.values(o)) visit(v);
  };
  visit(node);
  return out;
}

/** True if the policy reads the attribute `name` of anything (`x.name` or `x has name`). */
function readsAttribute(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => readsAttribute(n, name));
  if (node === null || typeof node !== 'object') return false;
  const o = node as Record<string, unknown>;
  for (const op of ['.', 'has']) {
    const access = o[op] as { attr?: unknown } | undefined;
    if (access && typeof access === 'object' && access.attr === name) return true;
  }
  return Object.values(o).some((v) => readsAttribute(v, name));
}

/** Splits one policy file into its policies, in file order, with the character offset of each. */
function splitPolicies(src: Source, issues: PolicySetIssue[]): { text: string; offset: number }[] | undefined {
  // Parses the whole file (syntax errors come back with byte offsets into it).
  const parts = cedar.policySetTextToParts(src.text);
  if (parts.type === 'failure') {
    issues.push(...src.cedarIssues(parts.errors));
    return undefined;
  }
  const locate = (text: string, used: Set<number>): number => {
    let from = 0;
    for (;;) {
      const at = src.text.indexOf(text, from);
      if (at < 0 || !used.has(at)) return at;
      from = at + 1;
    }
  };
  const used = new Set<number>();
  for (const t of parts.policy_templates) {
    const at = locate(t, used);
    issues.push({
      file: src.name,
      ...src.at(Math.max(at, 0)),
      message: 'policy templates (?principal / ?resource slots) are not supported',
    });
  }
  if (parts.policy_templates.length > 0) return undefined;
  const out = parts.policies.map((text) => {
    const offset = locate(text, used);
    if (offset >= 0) used.add(offset);
    return { text, offset };
  });
  // policySetTextToParts returns policies ordered by generated id ("policy0", "policy1", "policy10", ...);
  // put them back in file order. An unlocatable policy (should not happen) sorts last and reports 1:1.
  return out.sort((a, b) => (a.offset < 0 ? Infinity : a.offset) - (b.offset < 0 ? Infinity : b.offset));
}

function readPolicy(
  src: Source,
  part: { text: string; offset: number },
  issues: PolicySetIssue[],
  mining: Map<MiningAttribute, Set<string> | null>,
): (Omit<LoadedPolicy, 'index'> & { namesAsset: boolean; readsLicenseIdentity: boolean; readsProduction: boolean }) | undefined {
  const pos = src.at(Math.max(part.offset, 0));
  const json = cedar.policyToJson(part.text);
  if (json.type === 'failure') {
    issues.push(...src.cedarIssues(json.errors, Math.max(part.offset, 0)));
    return undefined;
  }
  const { annotations = {}, effect, principal, action, resource, conditions } = json.json;
  const id = annotations.id;
  const reason = annotations.reason;
  let ok = true;
  const problem = (message: string): void => {
    issues.push({ file: src.name, ...pos, message });
    ok = false;
  };
  if (id === undefined || id.trim() === '') problem('policy has no @id("...") annotation');
  else if (RESERVED_IDS.has(id)) problem(`@id("${id}") is reserved for the engine's own reasons`);
  else if (!POLICY_ID.test(id)) {
    problem(`@id("${id}") must be letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
  }
  if (reason === undefined || reason.trim() === '') {
    problem(`policy ${id ? `"${id}" ` : ''}has no @reason("...") annotation`);
  }
  if (!ok || id === undefined || reason === undefined) return undefined;
  // The scope cannot read attributes; the conditions are where values are tested.
  miningTests(conditions, mining);
  return {
    id,
    reason,
    effect,
    file: src.name,
    ...pos,
    text: part.text,
    namesAsset: namesAnAsset([principal, action, resource, conditions]),
    readsLicenseIdentity: readsLicenseIdentity(conditions),
    readsProduction: readsAttribute(conditions, 'production'),
  };
}

function digestOf(files: readonly { name: string; raw: Buffer }[]): string {
  const h = createHash('sha256');
  h.update('clearframe-policy-set/v1\n');
  for (const f of files) {
    h.update(`${Buffer.byteLength(f.name)}:${f.name}\n${f.raw.length}\n`);
    h.update(f.raw);
    h.update('\n');
  }
  return h.digest('hex');
}

/** A policy file as read: its name in the policy directory and its bytes. */
export type PolicySource = { name: string; raw: Buffer };

/**
 * Checks policy sources (the `*.cedar` files and `schema.cedarschema`, as policy-loader.ts reads them from
 * a directory) and prepares them for evaluation: no I/O. `issues` holds what reading found already (a file
 * that could not be read); throws PolicySetError listing every problem, each with file and position.
 */
export function buildPolicySet(dir: string, schemaFile: PolicySource | undefined, policyFiles: readonly PolicySource[], issues: PolicySetIssue[] = []): PolicySet {
  // First, as a reader meets it; unless the policy files were there and could not be read (said already).
  if (policyFiles.length === 0 && issues.every((i) => i.file === SCHEMA_FILE)) issues.unshift({ file: dir, message: `no *${POLICY_FILE_SUFFIX} policy files` });
  let schemaText: string | undefined;
  if (schemaFile) {
    const src = new Source(SCHEMA_FILE, schemaFile.raw);
    const parsed = cedar.checkParseSchema(src.text);
    if (parsed.type === 'failure') issues.push(...src.cedarIssues(parsed.errors));
    else schemaText = src.text;
  }

  const policies: LoadedPolicy[] = [];
  const byId = new Map<string, LoadedPolicy>();
  let anyNamesAsset = false;
  let anyReadsLicenseIdentity = false;
  let anyReadsProduction = false;
  const mining = new Map<MiningAttribute, Set<string> | null>();
  for (const file of policyFiles) {
    const src = new Source(file.name, file.raw);
    const parts = splitPolicies(src, issues);
    if (!parts) continue;
    const starts: number[] = [];
    const ids: (string | undefined)[] = [];
    for (const part of parts) {
      starts.push(Math.max(part.offset, 0));
      const p = readPolicy(src, part, issues, mining);
      ids.push(p?.id);
      if (!p) continue;
      const { namesAsset, readsLicenseIdentity: readsIdentity, readsProduction, ...info } = p;
      anyReadsProduction ||= readsProduction;
      anyNamesAsset ||= namesAsset;
      anyReadsLicenseIdentity ||= readsIdentity;
      const seen = byId.get(p.id);
      if (seen) {
        issues.push({
          file: src.name,
          line: p.line,
          column: p.column,
          message: `duplicate @id("${p.id}"), first used at ${seen.file}:${seen.line}:${seen.column}`,
        });
        continue;
      }
      const loaded = { ...info, index: policies.length };
      policies.push(loaded);
      byId.set(p.id, loaded);
    }
    if (schemaText === undefined) continue;
    const v = cedar.validate({
      schema: schemaText,
      policies: { staticPolicies: src.text },
      validationSettings: { mode: 'strict' },
    });
    if (v.type === 'failure') {
      issues.push(...src.cedarIssues(v.errors));
      continue;
    }
    // Cedar names a file's policies policy0, policy1, ... in file order: used to point at the policy when an
    // error has no location, and to say "@id" instead of Cedar's generated id in messages.
    const indexOf = (policyId: string): number => Number(/^policy(\d+)$/.exec(policyId)?.[1] ?? NaN);
    for (const e of [...v.validationErrors, ...v.validationWarnings]) {
      const message = e.error.message.replace(/`policy(\d+)`/g, (m, n: string) => {
        const id = ids[Number(n)];
        return id === undefined ? m : `@id("${id}")`;
      });
      issues.push(...src.cedarIssues([{ ...e.error, message }], starts[indexOf(e.policyId)]));
    }
  }

  if (issues.length > 0) throw new PolicySetError(dir, issues);
  if (!schemaFile || schemaText === undefined) {
    throw new PolicySetError(dir, [{ file: SCHEMA_FILE, message: 'missing' }]);
  }

  const digest = digestOf([...policyFiles, { name: SCHEMA_FILE, raw: schemaFile.raw }]);
  const policySetId = `clearframe/policies/${digest}`;
  const schemaName = `clearframe/schema/${createHash('sha256').update(schemaText).digest('hex')}`;
  const staticPolicies = Object.create(null) as Record<string, string>;
  for (const p of policies) staticPolicies[p.id] = p.text;
  const pre = cedar.preparsePolicySet(policySetId, { staticPolicies });
  const preSchema = cedar.preparseSchema(schemaName, schemaText);
  const preErrors = [pre, preSchema].flatMap((a) => (a.type === 'failure' ? a.errors : []));
  if (preErrors.length > 0) {
    throw new PolicySetError(
      dir,
      preErrors.map((e) => ({ file: dir, message: `cannot prepare policy set: ${e.message}` })),
    );
  }
  // Per attribute: the values some policy tells apart (null: all of them; none read: no value matters).
  const miningClasses: MiningClasses = {};
  for (const attr of MINING_ATTRIBUTES) {
    const tested = mining.get(attr);
    miningClasses[attr] = tested === null ? null : Object.freeze([...(tested ?? [])].sort());
  }
  const timeFolding = !policies.some((p) => TIME_FUNCTIONS.test(p.text));
  return new CedarPolicySet(digest, policies, byId, policySetId, schemaName, anyNamesAsset, anyReadsLicenseIdentity, anyReadsProduction, Object.freeze(miningClasses), timeFolding);
}

type Decision = { decision: 'allow' | 'deny'; reasons: readonly DecisionReason[] };

/**
 * Datetime and duration functions and methods of Cedar. A policy without them can only compare `now` with
 * the request's other instants (the license term), so a decision holds while `now` stays strictly between
 * the same two of them (see CedarPolicySet.remembered). Matched in the text: a false match only turns that off.
 */
const TIME_FUNCTIONS = /\b(datetime|duration|offset|durationSince|toDate|toTime|toDays|toHours|toMinutes|toSeconds|toMilliseconds)\s*\(/;
/** Evaluations of at most this many assets (an output's sources) remember their decisions across calls. */
const REMEMBER_UP_TO = 16;
const REMEMBER_AT_MOST = 512;

const freezeReasons = (reasons: DecisionReason[]): readonly DecisionReason[] => Object.freeze(reasons.map((r) => Object.freeze({ ...r })));

const deny = (policyId: string, reason: string): Decision => ({
  decision: 'deny',
  reasons: freezeReasons([{ policyId, reason }]),
});

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class CedarPolicySet implements PolicySet {
  readonly policies: readonly PolicyInfo[];

  constructor(
    readonly digest: string,
    loaded: readonly LoadedPolicy[],
    private readonly byId: ReadonlyMap<string, LoadedPolicy>,
    private readonly policySetId: string,
    private readonly schemaName: string,
    /** Some policy names an individual asset: decisions cannot be shared between assets. */
    private readonly perAsset: boolean,
    /** Some policy reads a license's id or version: equal terms under different licenses may differ. */
    private readonly licenseIdentity: boolean,
    /** Some policy reads an asset's production: assets of different productions may differ. */
    private readonly production: boolean,
    /** Per training-mining attribute, the values the policies tell apart (null: every value). */
    readonly miningClasses: Readonly<MiningClasses>,
    /** No policy uses a datetime function: decisions may be remembered for a window of time. */
    private readonly timeFolding: boolean,
  ) {
    this.policies = Object.freeze(loaded.map(({ id, reason, effect, file, line, column }) => Object.freeze({ id, reason, effect, file, line, column })));
  }

  evaluate(request: GateRequest, assets: readonly AssetFacts[], options?: { onStats?: (stats: EvaluationStats) => void }): AssetDecision[] {
    let build: RequestBuilder | undefined;
    let requestError: Decision | undefined;
    try {
      build = createRequestBuilder(request, { licenseIdentity: this.licenseIdentity, production: this.production, mining: this.miningClasses });
    } catch (err) {
      requestError = deny(SYNTHETIC_POLICY_IDS.invalidFacts, `invalid request: ${messageOf(err)}`);
    }
    const decided = new Map<string, Decision>();
    const out: AssetDecision[] = new Array<AssetDecision>(assets.length);
    // A sign asks for one or a few sources, on every output: one Cedar call costs more than the rest of the
    // check, and its answer holds until the facts, the policy set or the instants around `now` change.
    const remember = this.timeFolding && build !== undefined && assets.length <= REMEMBER_UP_TO ? this.rememberer(request) : undefined;
    const decideOne = (asset: AssetFacts, assetId: string): Decision => {
      let d = requestError;
      if (build) {
        let built: BuiltRequest | undefined;
        try {
          built = build(asset);
        } catch (err) {
          const msg = err instanceof PolicyInputError ? err.message : `unexpected: ${messageOf(err)}`;
          d = deny(SYNTHETIC_POLICY_IDS.invalidFacts, `invalid facts: ${msg}`);
        }
        if (built) {
          const key = this.perAsset ? `${JSON.stringify(assetId)}\n${built.key}` : built.key;
          d = decided.get(key);
          if (!d) {
            d = remember ? remember(built, assetId) : this.decide(built.request());
            decided.set(key, d);
          }
        }
      }
      // d is always set here; the fallback keeps the type checker (and a future edit) fail-closed.
      return d ?? deny(SYNTHETIC_POLICY_IDS.evaluationFailure, 'evaluation error: no decision');
    };
    for (let i = 0; i < assets.length; i++) {
      const asset = assets[i] as AssetFacts;
      const assetId = String(asset?.assetId);
      if (asset?.otherLicenses && asset.otherLicenses.length > 0) {
        // Several licenses: each decided on its own, the asset allowed when any allows.
        const variants = perLicense(asset);
        const combined = combineLicenseDecisions(
          request.vendor,
          variants,
          variants.map((v) => decideOne(v, assetId)),
        );
        out[i] = { assetId, decision: combined.decision, reasons: combined.reasons, licenseId: combined.licenseId };
        continue;
      }
      const d = decideOne(asset, assetId);
      const licenseId = asset?.license?.id;
      out[i] = { assetId, decision: d.decision, reasons: d.reasons, licenseId: typeof licenseId === 'string' ? licenseId : null };
    }
    options?.onStats?.({ assets: assets.length, cedarCalls: decided.size });
    return out;
  }

  /**
   * Decisions remembered between evaluations, by the request (but `now`), the asset's facts (and its id when
   * a policy names assets), each with the open window of instants it holds for: between the request's
   * nearest instants below and above `now` (a `now` equal to one is not remembered). Bounded; emptied when full.
   */
  private readonly remembered = new Map<string, { decision: Decision; after: number; before: number }>();

  private rememberer(request: GateRequest): ((built: BuiltRequest, assetId: string) => Decision) | undefined {
    let at: number;
    try {
      at = parseInstant(request.at, 'floor', 'request.at');
    } catch {
      return undefined;
    }
    const prefix = JSON.stringify([
      request.action ?? 'train',
      request.vendor,
      request.purpose,
      request.baseModel,
      request.territory ?? null,
      request.media ?? null,
      request.commercial ?? null,
    ]);
    return (built, assetId) => {
      const key = `${prefix}\n${this.perAsset ? JSON.stringify(assetId) : '-'}\n${built.stableKey()}`;
      const hit = this.remembered.get(key);
      if (hit && hit.after < at && at < hit.before) return hit.decision;
      const decision = this.decide(built.request());
      let after = -Infinity;
      let before = Infinity;
      for (const i of built.instants) {
        if (!(i !== at && Number.isFinite(i))) return decision;
        if (i < at) after = Math.max(after, i);
        else before = Math.min(before, i);
      }
      if (decision.reasons.some((r) => r.policyId === SYNTHETIC_POLICY_IDS.evaluationFailure)) return decision;
      if (this.remembered.size >= REMEMBER_AT_MOST) this.remembered.clear();
      this.remembered.set(key, { decision, after, before });
      return decision;
    };
  }

  private decide(req: CedarRequest): Decision {
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: req.principal,
        action: req.action,
        resource: req.resource,
        context: req.context,
        entities: req.entities,
        preparsedPolicySetId: this.policySetId,
        preparsedSchemaName: this.schemaName,
        validateRequest: true,
      });
    } catch (err) {
      return deny(SYNTHETIC_POLICY_IDS.evaluationFailure, `evaluation error: ${messageOf(err)}`);
    }
    if (answer.type === 'failure') {
      const msg = answer.errors.map((e) => e.message).join('; ') || 'unknown error';
      return deny(SYNTHETIC_POLICY_IDS.evaluationFailure, `evaluation error: ${msg}`);
    }
    const { decision, diagnostics } = answer.response;
    const order = (id: string): number => this.byId.get(id)?.index ?? Number.MAX_SAFE_INTEGER;
    const fired = [...diagnostics.reason].sort((a, b) => order(a) - order(b)).map((policyId) => ({ policyId, reason: this.byId.get(policyId)?.reason ?? '(unknown policy)' }));
    const errors = [...diagnostics.errors]
      .sort((a, b) => order(a.policyId) - order(b.policyId))
      .map((e) => ({ policyId: e.policyId, reason: `evaluation error: ${e.error.message}` }));

    if (errors.length > 0) {
      // Fail closed: Cedar ignores a policy that errored, so its answer cannot be trusted.
      const forbids = decision === 'deny' ? fired : [];
      return { decision: 'deny', reasons: freezeReasons([...forbids, ...errors]) };
    }
    if (decision === 'allow' && fired.length > 0) return { decision: 'allow', reasons: freezeReasons(fired) };
    if (decision === 'allow') {
      return deny(SYNTHETIC_POLICY_IDS.evaluationFailure, 'evaluation error: allowed without a determining policy');
    }
    if (fired.length > 0) return { decision: 'deny', reasons: freezeReasons(fired) };
    return deny(SYNTHETIC_POLICY_IDS.defaultDeny, req.action.id === 'derive' ? 'no policy permits this derivative use of the asset' : 'no policy permits training on this asset');
  }
}
