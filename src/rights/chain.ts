/**
 * Derivative-rights chain: may this generated output be used this way (territory, media, date,
 * commercial), given every license it rests on? Pure: the service assembles the tree from the database
 * and this walks it; no I/O, no clock (the caller passes `now`).
 *
 * The walk, from the output back to every license:
 *
 *   output ─┬─ checkpoint (active? tainted or retired stops the chain)
 *           ├─ clearance (still standing?)
 *           └─ assets ─┬─ training assets (the checkpoint's dataset) and reference assets (used directly)
 *                      ├─ license as it stood at clearance, and license as it stands now
 *                      └─ derivedFrom: the asset was registered from an earlier output → walk that
 *                         output the same way, to any depth
 *
 * Each license is evaluated for the proposed use twice, with the same rules:
 *  - "now": the asset's current version, standing as of `now`. THIS decides the verdict: a use made today
 *    is made under the terms in force today (an amendment that widened the grant covers it; a revocation
 *    or narrowing since the clearance does not let it through).
 *  - "atClearance": the version the clearance rested on, standing as of the clearance's date (a later
 *    revocation is not held against it). Shown beside "now" so legal sees what changed since; every
 *    rule whose result differs is listed (`changedSinceClearance`) and described in `notes`.
 *
 * Verdict: any rule that fails → notCleared; else any rule waiting on an approval → requiresApproval;
 * else cleared. `reasons` names, for every failing or pending rule, the path from the output to the
 * asset and license concerned.
 */

import type { Grant, GrantName } from '../vocabulary/rights.ts';

// ---------------------------------------------------------------------------
// input

export type LicenseStatus = 'active' | 'pending' | 'expired' | 'superseded' | 'revoked';

export type LicenseApproval = { grant: GrantName; vendor: string; purpose: string; validFrom: string; validUntil: string };

export type LicenseSnapshot = {
  id: string;
  version: number;
  status: LicenseStatus;
  revokedAt: string | null;
  grants: { training: Grant; derivatives: Grant; commercial: Grant };
  /** ISO 3166-1 alpha-2 codes, or WORLD. */
  territories: string[];
  media: string[];
  term: { start: string; end: string };
  approvals: LicenseApproval[];
};

export type AssetNode = {
  assetId: string;
  title: string;
  sha256: string;
  /** training: in the checkpoint's dataset; reference: used directly by the output. */
  role: 'training' | 'reference';
  /** The version the clearance rested on (null for reference-only assets: licenseNow is used instead). */
  licenseAtClearance: LicenseSnapshot | null;
  /** The asset's current (latest) version, with its standing as of now. */
  licenseNow: LicenseSnapshot | null;
  /** The asset was itself registered from an earlier output: the chain continues through it. */
  derivedFrom?: OutputNode | null;
};

export type CheckpointTaint = { reason?: string | null; effectiveAt?: string | null; [key: string]: unknown };

export type OutputNode = {
  outputId: string;
  checkpoint: { id: string; status: 'active' | 'tainted' | 'retired'; taint?: CheckpointTaint | null };
  clearance: { id: string; vendor: string; issuedAt: string; standing: 'standing' | 'revoked' | 'expired' | 'denied' };
  dataset: { id: string; digest: string };
  assets: AssetNode[];
  /** Set when the ledger withdrew the output: its signed file failed the read-back and never left. */
  withdrawn?: { at: string; reason: string } | null;
};

export type ProposedUse = {
  /** ISO 3166-1 alpha-2 (or WORLD for a worldwide use). Unset: territory is not checked. */
  territory?: string;
  /** e.g. theatrical, streaming. Unset: media is not checked. */
  media?: string;
  /** ISO date-time of the use; default `now`. */
  date?: string;
  commercial?: boolean;
};

export type EvaluateOptions = {
  /** Generations of derived outputs followed below the root before giving up (default 32). */
  maxDepth?: number;
};

// ---------------------------------------------------------------------------
// output

export type Verdict = 'cleared' | 'requiresApproval' | 'notCleared';
export type RuleResult = 'pass' | 'requiresApproval' | 'fail' | 'notApplicable';
export type RuleName =
  | 'license-present'
  | 'license-standing'
  | 'derivatives-grant'
  | 'commercial-grant'
  | 'territory'
  | 'media'
  | 'term'
  | 'licensed-at-clearance'
  | 'checkpoint-status'
  | 'clearance-standing'
  | 'output-withdrawn'
  | 'cycle'
  | 'depth-limit';

export type Check = { rule: RuleName; result: RuleResult; detail: string };

export type LicenseEvaluation = {
  view: 'atClearance' | 'now';
  licenseId: string | null;
  version: number | null;
  /** The instant the license's standing (revocation, status) was judged at. */
  standingAsOf: string;
  verdict: Verdict;
  checks: Check[];
};

export type EvaluatedAsset = {
  assetId: string;
  title: string;
  sha256: string;
  role: 'training' | 'reference';
  /** Worst of: asset checks, the "now" license evaluation, and the output it was derived from. */
  verdict: Verdict;
  checks: Check[];
  atClearance: LicenseEvaluation;
  now: LicenseEvaluation;
  /** Rules whose result differs between the two views. */
  changedSinceClearance: RuleName[];
  derivedFrom: EvaluatedOutput | null;
};

export type EvaluatedOutput = {
  outputId: string;
  /** Generations below the root (root = 0). */
  depth: number;
  checkpointId: string;
  clearanceId: string;
  dataset: { id: string; digest: string };
  verdict: Verdict;
  checks: Check[];
  assets: EvaluatedAsset[];
  /** Set when the walk stopped here instead of evaluating the node. */
  stopped: 'cycle' | 'depth-limit' | null;
};

export type ChainVerdict = {
  verdict: Verdict;
  /** Why the verdict is not `cleared`: one line per failing or pending rule, naming asset and license. */
  reasons: string[];
  /** What changed between clearance and now (informational; the verdict follows "now"). */
  notes: string[];
  evaluatedAt: string;
  use: { territory: string | null; media: string | null; date: string; commercial: boolean };
  maxDepth: number;
  root: EvaluatedOutput;
};

export const DEFAULT_MAX_DEPTH = 32;
const WORLD = 'WORLD';

// ---------------------------------------------------------------------------
// small helpers

/** Milliseconds, or null for a missing or unreadable date (rules treat unreadable as failing). */
function ms(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

const RANK: Record<Verdict, number> = { cleared: 0, requiresApproval: 1, notCleared: 2 };

/** Worst of several verdicts: notCleared > requiresApproval > cleared. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'cleared';
  for (const v of verdicts) if (RANK[v] > RANK[worst]) worst = v;
  return worst;
}

function verdictOf(result: RuleResult): Verdict {
  return result === 'fail' ? 'notCleared' : result === 'requiresApproval' ? 'requiresApproval' : 'cleared';
}

const check = (rule: RuleName, result: RuleResult, detail: string): Check => ({ rule, result, detail });

// ---------------------------------------------------------------------------
// license rules: each answers one question a licensing lawyer would ask

/**
 * Is the license in force? Revoked or expired licenses grant nothing, and a superseded version's terms no
 * longer govern (its successor's do).
 *
 * "now" view: the recorded status is authoritative, and a revocation dated at or before the later of now
 * and the use date counts (a revocation already scheduled before the use blocks it too).
 * "atClearance" view: judged at the clearance date from dated facts only. Statuses describe the version
 * today: `superseded`/`expired`/`revoked` may have happened after the clearance, so the dates decide
 * (revocation date, term); a revoked status without a date cannot be placed in time and counts against.
 */
export function licenseStandingRule(l: LicenseSnapshot, view: 'atClearance' | 'now', asOf: number, useDate: number): Check {
  const revokedAt = ms(l.revokedAt);
  const start = ms(l.term.start);
  const end = ms(l.term.end);
  if (l.revokedAt !== null && revokedAt === null) return check('license-standing', 'fail', `revocation date ${JSON.stringify(l.revokedAt)} is unreadable`);
  if (start === null || end === null) return check('license-standing', 'fail', 'term dates are unreadable');
  if (view === 'now') {
    if (l.status === 'revoked') return check('license-standing', 'fail', `revoked${l.revokedAt ? ` (effective ${l.revokedAt})` : ''}`);
    if (revokedAt !== null && revokedAt <= Math.max(asOf, useDate)) {
      return check('license-standing', 'fail', `revocation effective ${l.revokedAt}, before the proposed use`);
    }
    if (l.status === 'superseded') {
      return check('license-standing', 'fail', 'superseded by a later version: the terms in force are in the current version, which was not supplied');
    }
    if (l.status === 'expired' || end <= asOf) return check('license-standing', 'fail', `expired (term ended ${l.term.end})`);
    if (l.status === 'pending') return check('license-standing', 'fail', 'pending: not yet in force');
    return check('license-standing', 'pass', 'active');
  }
  if (revokedAt !== null && revokedAt <= asOf) return check('license-standing', 'fail', `already revoked at clearance (effective ${l.revokedAt})`);
  if (l.status === 'revoked' && revokedAt === null) return check('license-standing', 'fail', 'revoked (no revocation date on record)');
  if (l.status === 'pending') return check('license-standing', 'fail', 'pending: not in force');
  if (end <= asOf) return check('license-standing', 'fail', `term had ended at clearance (${l.term.end})`);
  if (start > asOf) return check('license-standing', 'fail', `term had not started at clearance (${l.term.start})`);
  return check('license-standing', 'pass', l.revokedAt ? `in force at clearance (revoked later, effective ${l.revokedAt})` : 'in force at clearance');
}

/** An approval counts only for the same grant, the vendor who made the output, and a window holding the date. */
function coveringApproval(l: LicenseSnapshot, grant: GrantName, vendor: string, date: number): LicenseApproval | undefined {
  return l.approvals.find((a) => {
    const from = ms(a.validFrom);
    const until = ms(a.validUntil);
    return a.grant === grant && a.vendor === vendor && from !== null && until !== null && from <= date && date < until;
  });
}

/**
 * A grant (derivatives or commercial) for this use. `allowed` passes and `notAllowed` fails.
 * `requiresApproval` passes only with a recorded approval of that grant for the vendor that made the output
 * (the clearance's vendor) whose window covers the use date; otherwise the chain waits on legal's approval.
 * (The approval's `purpose` describes training use and is not consulted here.)
 */
export function grantRule(l: LicenseSnapshot, grant: 'derivatives' | 'commercial', vendor: string, date: number): Check {
  const rule: RuleName = grant === 'derivatives' ? 'derivatives-grant' : 'commercial-grant';
  const value = l.grants[grant];
  if (value === 'allowed') return check(rule, 'pass', `${grant}: allowed`);
  if (value === 'notAllowed') return check(rule, 'fail', `${grant}: not allowed`);
  const approval = coveringApproval(l, grant, vendor, date);
  return approval
    ? check(rule, 'pass', `${grant}: requires approval; approved for ${vendor} from ${approval.validFrom} until ${approval.validUntil}`)
    : check(rule, 'requiresApproval', `${grant}: requires approval; none recorded for ${vendor} covering ${new Date(date).toISOString()}`);
}

/** Commercial exploitation needs the commercial grant; a non-commercial use does not ask it. */
export function commercialRule(l: LicenseSnapshot, commercial: boolean, vendor: string, date: number): Check {
  if (!commercial) return check('commercial-grant', 'notApplicable', 'not a commercial use');
  return grantRule(l, 'commercial', vendor, date);
}

/**
 * The use's territory must be licensed. WORLD in the license covers every territory; a worldwide use
 * (territory WORLD) needs a WORLD license. No territory proposed: not checked (say one to have it checked).
 */
export function territoryRule(l: LicenseSnapshot, territory: string | null): Check {
  if (territory === null) return check('territory', 'notApplicable', 'no territory proposed');
  const licensed = l.territories.map((t) => t.trim().toUpperCase());
  if (licensed.includes(WORLD)) return check('territory', 'pass', `${territory}: covered by WORLD`);
  if (licensed.includes(territory)) return check('territory', 'pass', `${territory}: licensed`);
  return check('territory', 'fail', `${territory} is not among the licensed territories (${licensed.join(', ') || 'none'})`);
}

/** The use's medium must be among the licensed media (compared case-insensitively). */
export function mediaRule(l: LicenseSnapshot, media: string | null): Check {
  if (media === null) return check('media', 'notApplicable', 'no medium proposed');
  const licensed = l.media.map((m) => m.trim().toLowerCase());
  if (licensed.includes(media)) return check('media', 'pass', `${media}: licensed`);
  return check('media', 'fail', `${media} is not among the licensed media (${licensed.join(', ') || 'none'})`);
}

/** The use date must fall within the license term: start inclusive, end exclusive (as the gate's standing). */
export function termRule(l: LicenseSnapshot, date: number): Check {
  const start = ms(l.term.start);
  const end = ms(l.term.end);
  if (start === null || end === null) return check('term', 'fail', 'term dates are unreadable');
  const d = new Date(date).toISOString();
  if (date < start) return check('term', 'fail', `use date ${d} is before the term starts (${l.term.start})`);
  if (date >= end) return check('term', 'fail', `use date ${d} is after the term ends (${l.term.end})`);
  return check('term', 'pass', `within ${l.term.start} – ${l.term.end}`);
}

// ---------------------------------------------------------------------------
// asset and output rules

/** A training asset must have had a license version under the clearance: a clearance resting on none is void. */
export function licensedAtClearanceRule(asset: AssetNode): Check {
  if (asset.role !== 'training') return check('licensed-at-clearance', 'notApplicable', 'reference asset: not part of the clearance');
  return asset.licenseAtClearance
    ? check('licensed-at-clearance', 'pass', `clearance rests on license ${asset.licenseAtClearance.id} v${asset.licenseAtClearance.version}`)
    : check('licensed-at-clearance', 'fail', 'the clearance rests on no license version for this training asset');
}

/** Only an active checkpoint yields usable outputs: tainted means a license under it fell; retired means withdrawn. */
export function checkpointRule(cp: OutputNode['checkpoint']): Check {
  if (cp.status === 'active') return check('checkpoint-status', 'pass', `checkpoint ${cp.id} is active`);
  const why = cp.taint?.reason ? `: ${cp.taint.reason}` : '';
  const when = cp.taint?.effectiveAt ? ` (since ${cp.taint.effectiveAt})` : '';
  return check('checkpoint-status', 'fail', `checkpoint ${cp.id} is ${cp.status}${when}${why}`);
}

/** A withdrawn output never left the ledger: nothing made from it can rest on it. Only withdrawn outputs get this check. */
export function withdrawnRule(node: OutputNode): Check[] {
  return node.withdrawn ? [check('output-withdrawn', 'fail', `output ${node.outputId} was withdrawn at ${node.withdrawn.at}: ${node.withdrawn.reason}`)] : [];
}

/** The training clearance must still stand: revoked, expired or denied clearances cover nothing made under them. */
export function clearanceRule(c: OutputNode['clearance']): Check {
  if (c.standing !== 'standing') return check('clearance-standing', 'fail', `clearance ${c.id} is ${c.standing}`);
  // The clearance date anchors the at-clearance view; without it that view cannot be judged.
  if (ms(c.issuedAt) === null) return check('clearance-standing', 'fail', `clearance ${c.id} has an unreadable issue date`);
  return check('clearance-standing', 'pass', `clearance ${c.id} stands (issued ${c.issuedAt})`);
}

// ---------------------------------------------------------------------------
// the walk

type Ctx = {
  now: number;
  use: ChainVerdict['use'];
  useDate: number;
  maxDepth: number;
  reasons: string[];
  notes: string[];
  /** Outputs on the current path (cycle guard). */
  onPath: string[];
  /** Outputs already evaluated (an output reached twice, e.g. a diamond, is evaluated once). */
  done: Map<string, EvaluatedOutput>;
};

function evaluateLicense(l: LicenseSnapshot | null, view: 'atClearance' | 'now', asOf: number, ctx: Ctx, vendor: string): LicenseEvaluation {
  const standingAsOf = new Date(asOf).toISOString();
  if (!l) {
    const checks = [check('license-present', 'fail', 'no license on record')];
    return { view, licenseId: null, version: null, standingAsOf, verdict: 'notCleared', checks };
  }
  const checks: Check[] = [
    check('license-present', 'pass', `license ${l.id} v${l.version}`),
    licenseStandingRule(l, view, asOf, ctx.useDate),
    grantRule(l, 'derivatives', vendor, ctx.useDate),
    commercialRule(l, ctx.use.commercial, vendor, ctx.useDate),
    territoryRule(l, ctx.use.territory),
    mediaRule(l, ctx.use.media),
    termRule(l, ctx.useDate),
  ];
  return { view, licenseId: l.id, version: l.version, standingAsOf, verdict: worstVerdict(checks.map((c) => verdictOf(c.result))), checks };
}

const licenseName = (e: LicenseEvaluation) => (e.licenseId === null ? 'no license' : `license ${e.licenseId} v${e.version}`);

function pushReasons(ctx: Ctx, where: string, checks: readonly Check[]): void {
  for (const c of checks) {
    if (c.result !== 'fail' && c.result !== 'requiresApproval') continue;
    const line = `${where}: ${c.detail}${c.result === 'requiresApproval' ? ' [requires approval]' : ''}`;
    if (!ctx.reasons.includes(line)) ctx.reasons.push(line);
  }
}

function evaluateAsset(asset: AssetNode, output: OutputNode, depth: number, path: string, ctx: Ctx): EvaluatedAsset {
  const where = `${path} → ${asset.role} asset "${asset.title}" (${asset.assetId})`;
  const vendor = output.clearance.vendor;
  const issuedAt = ms(output.clearance.issuedAt);

  const checks = [licensedAtClearanceRule(asset)];
  const now = evaluateLicense(asset.licenseNow, 'now', ctx.now, ctx, vendor);
  // A reference asset with no snapshot was not part of the clearance (it is typically registered later):
  // its current version stands in for both views, so nothing is reported as changed.
  // (An unreadable clearance date fails the clearance's own rule; the at-clearance view is then judged at now.)
  const atClearance =
    asset.licenseAtClearance === null && asset.role === 'reference'
      ? { ...now, view: 'atClearance' as const, checks: [...now.checks] }
      : evaluateLicense(asset.licenseAtClearance, 'atClearance', issuedAt ?? ctx.now, ctx, vendor);

  pushReasons(ctx, where, checks);
  pushReasons(ctx, now.licenseId === null ? where : `${where}, ${licenseName(now)} (current)`, now.checks);

  const changedSinceClearance = diffViews(atClearance, now);
  if (changedSinceClearance.length > 0) {
    const was = atClearance.checks.filter((c) => changedSinceClearance.includes(c.rule)).map((c) => `${c.rule} ${c.result}`);
    const is = now.checks.filter((c) => changedSinceClearance.includes(c.rule)).map((c) => `${c.rule} ${c.result}`);
    ctx.notes.push(
      `${where}: at clearance (${licenseName(atClearance)}, as of ${atClearance.standingAsOf}) ${was.join(', ') || '-'}; ` + `now (${licenseName(now)}) ${is.join(', ') || '-'}`,
    );
  }

  const derivedFrom = asset.derivedFrom ? evaluateOutput(asset.derivedFrom, depth + 1, `${where} → derived from`, ctx) : null;
  const verdict = worstVerdict([...checks.map((c) => verdictOf(c.result)), now.verdict, ...(derivedFrom ? [derivedFrom.verdict] : [])]);
  return {
    assetId: asset.assetId,
    title: asset.title,
    sha256: asset.sha256,
    role: asset.role,
    verdict,
    checks,
    atClearance,
    now,
    changedSinceClearance,
    derivedFrom,
  };
}

/** Rules whose result differs between the at-clearance and the current evaluation. */
function diffViews(a: LicenseEvaluation, b: LicenseEvaluation): RuleName[] {
  const rules = new Set<RuleName>([...a.checks.map((c) => c.rule), ...b.checks.map((c) => c.rule)]);
  const resultOf = (e: LicenseEvaluation, r: RuleName) => e.checks.find((c) => c.rule === r)?.result ?? 'absent';
  return [...rules].filter((r) => resultOf(a, r) !== resultOf(b, r));
}

function stoppedNode(node: OutputNode, depth: number, stopped: 'cycle' | 'depth-limit', detail: string): EvaluatedOutput {
  return {
    outputId: node.outputId,
    depth,
    checkpointId: node.checkpoint.id,
    clearanceId: node.clearance.id,
    dataset: { id: node.dataset.id, digest: node.dataset.digest },
    verdict: 'notCleared',
    checks: [check(stopped, 'fail', detail)],
    assets: [],
    stopped,
  };
}

function evaluateOutput(node: OutputNode, depth: number, via: string, ctx: Ctx): EvaluatedOutput {
  const where = `${via} output ${node.outputId}`.trimStart();

  // A cycle (an output derived, through its assets, from itself) cannot be a real history: stop and refuse.
  if (ctx.onPath.includes(node.outputId)) {
    const loop = [...ctx.onPath.slice(ctx.onPath.indexOf(node.outputId)), node.outputId].join(' → ');
    const stopped = stoppedNode(node, depth, 'cycle', `cycle: output ${node.outputId} is reachable from itself (${loop}); not evaluated further`);
    pushReasons(ctx, where, stopped.checks);
    return stopped;
  }
  // Past the depth limit we cannot vouch for what lies below: stop and refuse rather than clear blind.
  if (depth > ctx.maxDepth) {
    const stopped = stoppedNode(node, depth, 'depth-limit', `derivation chain deeper than ${ctx.maxDepth} generations; not evaluated from here on`);
    pushReasons(ctx, where, stopped.checks);
    return stopped;
  }
  const seen = ctx.done.get(node.outputId);
  if (seen) return seen;

  const checks = [...withdrawnRule(node), checkpointRule(node.checkpoint), clearanceRule(node.clearance)];
  pushReasons(ctx, where, checks);

  ctx.onPath.push(node.outputId);
  const assets = node.assets.map((a) => evaluateAsset(a, node, depth, where, ctx));
  ctx.onPath.pop();

  const evaluated: EvaluatedOutput = {
    outputId: node.outputId,
    depth,
    checkpointId: node.checkpoint.id,
    clearanceId: node.clearance.id,
    dataset: { id: node.dataset.id, digest: node.dataset.digest },
    verdict: worstVerdict([...checks.map((c) => verdictOf(c.result)), ...assets.map((a) => a.verdict)]),
    checks,
    assets,
    stopped: null,
  };
  ctx.done.set(node.outputId, evaluated);
  return evaluated;
}

/**
 * Evaluate the rights chain of `root` for a proposed use, as of `now` (ISO date-time).
 * Throws a RangeError for an unreadable `now` or `use.date`, or a bad maxDepth.
 */
export function evaluateRightsChain(root: OutputNode, use: ProposedUse, now: string, opts: EvaluateOptions = {}): ChainVerdict {
  const nowMs = ms(now);
  if (nowMs === null) throw new RangeError(`evaluateRightsChain: now is not a date: ${JSON.stringify(now)}`);
  const useDate = use.date === undefined ? nowMs : ms(use.date);
  if (useDate === null) throw new RangeError(`evaluateRightsChain: use.date is not a date: ${JSON.stringify(use.date)}`);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new RangeError(`evaluateRightsChain: maxDepth must be a non-negative integer`);

  const territory = use.territory?.trim() ? use.territory.trim().toUpperCase() : null;
  const media = use.media?.trim() ? use.media.trim().toLowerCase() : null;
  const normalizedUse = { territory, media, date: new Date(useDate).toISOString(), commercial: use.commercial === true };
  const ctx: Ctx = { now: nowMs, use: normalizedUse, useDate, maxDepth, reasons: [], notes: [], onPath: [], done: new Map() };

  const evaluated = evaluateOutput(root, 0, '', ctx);
  return {
    verdict: evaluated.verdict,
    reasons: ctx.reasons,
    notes: ctx.notes,
    evaluatedAt: new Date(nowMs).toISOString(),
    use: normalizedUse,
    maxDepth,
    root: evaluated,
  };
}
