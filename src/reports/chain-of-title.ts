import { asc, eq, inArray } from 'drizzle-orm';
import { assetEmbeddedOverrides, assets } from '../assets/tables.ts';
import type { AuditEvent } from '../audit/event.ts';
import { signedTreeHead } from '../audit/service.ts';
import { auditEvents } from '../audit/tables.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpointStatusEvents, checkpoints } from '../checkpoints/tables.ts';
import { datasets } from '../datasets/tables.ts';
import type { Queryable } from '../db/database.ts';
import { clearances } from '../gate/tables.ts';
import { licenseStatus } from '../licenses/service.ts';
import { licenseApprovals, licenseRevocations, licenseVersions } from '../licenses/tables.ts';
import { findOutput, type OutputRecord } from '../outputs/reader.ts';
import type { OutputNode } from '../rights/chain.ts';
import type { Signer } from '../signing/signer.ts';
import type { AssetTitle, ChainOfTitle, Fact, LicenseTitle, OutputAsset, OutputTitle } from './chain-of-title-render.ts';

/** A fact before its entry is read: the action it was recorded under and its index. */
type Draft = { action: string; auditIndex: number; what: string };

/**
 * Facts are drafted from the capability rows (each names its audit index) and then completed from the
 * audit entries themselves: the time and actor a document states are the log's, not a copy's.
 */
class Facts {
  private readonly drafts: (Draft & { fact: Fact })[] = [];
  add(d: Draft): Fact {
    const fact: Fact = { ...d, at: '', by: '' };
    this.drafts.push({ ...d, fact });
    return fact;
  }
  async complete(q: Queryable): Promise<Fact[]> {
    const indices = [...new Set(this.drafts.map((d) => d.auditIndex))];
    const events = new Map<number, AuditEvent>();
    for (let i = 0; i < indices.length; i += 5000) {
      const rows = await q
        .select()
        .from(auditEvents)
        .where(inArray(auditEvents.index, indices.slice(i, i + 5000)));
      for (const r of rows) events.set(r.index, JSON.parse(Buffer.from(r.leaf.buffer, r.leaf.byteOffset, r.leaf.byteLength).toString('utf8')) as AuditEvent);
    }
    const byIndex = new Map<number, Fact>();
    for (const d of this.drafts) {
      const e = events.get(d.auditIndex);
      if (!e) throw new Error(`audit entry ${d.auditIndex} is not in the log`);
      d.fact.at = e.time;
      d.fact.by = e.actor.sub;
      if (!byIndex.has(d.auditIndex)) byIndex.set(d.auditIndex, d.fact);
    }
    return [...byIndex.values()].sort((a, b) => a.auditIndex - b.auditIndex);
  }
}

export type TreeHeadSource = { origin: string; signer: Signer };

/** Every asset's chain of title, read in five statements however many assets there are. */
async function assetTitles(q: Queryable, ids: readonly string[], facts: Facts, now: Date): Promise<Map<string, AssetTitle>> {
  const out = new Map<string, AssetTitle>();
  if (ids.length === 0) return out;
  const list = [...new Set(ids)];
  const [rows, overrides, versions] = await Promise.all([
    q.select().from(assets).where(inArray(assets.id, list)),
    q.select().from(assetEmbeddedOverrides).where(inArray(assetEmbeddedOverrides.assetId, list)),
    q.select().from(licenseVersions).where(inArray(licenseVersions.assetId, list)).orderBy(asc(licenseVersions.assetId), asc(licenseVersions.version)),
  ]);
  const licenseIds = versions.map((v) => v.id);
  const [revocations, approvals] = licenseIds.length
    ? await Promise.all([
        q.select().from(licenseRevocations).where(inArray(licenseRevocations.licenseId, licenseIds)),
        q.select().from(licenseApprovals).where(inArray(licenseApprovals.licenseId, licenseIds)).orderBy(asc(licenseApprovals.auditIndex)),
      ])
    : [[], []];
  const overrideOf = new Map(overrides.map((o) => [o.assetId, o]));
  const revocationOf = new Map(revocations.map((r) => [r.licenseId, r]));
  const successorOf = new Map(versions.filter((v) => v.supersedesId).map((v) => [v.supersedesId!, v.id]));
  const approvalsOf = new Map<string, typeof approvals>();
  for (const a of approvals) approvalsOf.set(a.licenseId, [...(approvalsOf.get(a.licenseId) ?? []), a]);
  const versionsOf = new Map<string, typeof versions>();
  for (const v of versions) versionsOf.set(v.assetId, [...(versionsOf.get(v.assetId) ?? []), v]);

  for (const a of rows) {
    const override = overrideOf.get(a.id);
    const licenses: LicenseTitle[] = (versionsOf.get(a.id) ?? []).map((v) => {
      const revocation = revocationOf.get(v.id) ?? null;
      return {
        licenseId: v.id,
        version: v.version,
        supersedes: v.supersedesId,
        licensor: v.licensor,
        licensee: v.licensee,
        vendors: v.vendors,
        grants: { training: v.grantTraining, derivatives: v.grantDerivatives, commercial: v.grantCommercial },
        territories: v.territories,
        media: v.media,
        term: { start: v.termStart.toISOString(), end: v.termEnd.toISOString() },
        exclusivity: v.exclusivity,
        contractRef: v.contractRefId && v.contractRefSha256 ? { id: v.contractRefId, sha256: v.contractRefSha256 } : null,
        statusNow: licenseStatus(v, successorOf.get(v.id) ?? null, revocation, now),
        recorded: facts.add({
          action: v.supersedesId ? 'license.amended' : 'license.granted',
          auditIndex: v.auditIndex,
          what: v.supersedesId ? `version ${v.version} recorded, superseding ${v.supersedesId}` : `version ${v.version} granted by ${v.licensor} to ${v.licensee}`,
        }),
        approvals: (approvalsOf.get(v.id) ?? []).map((p) =>
          facts.add({
            action: 'license.approval-recorded',
            auditIndex: p.auditIndex,
            what: `${p.grant} approved for ${p.vendor} (${p.purpose}) from ${p.validFrom.toISOString()} until ${p.validUntil.toISOString()}`,
          }),
        ),
        revocation: revocation ? facts.add({ action: 'license.revoked', auditIndex: revocation.auditIndex, what: `revoked: ${revocation.reason}` }) : null,
      };
    });
    out.set(a.id, {
      assetId: a.id,
      title: a.title,
      sha256: a.sha256,
      mediaType: a.mediaType,
      creator: a.creator,
      production: a.production,
      rightsHolder: a.rightsHolder,
      derivedFromOutputId: a.derivedFromOutputId,
      embeddedTrainingMining: { c2pa: a.c2paTrainingMining, cawg: a.cawgTrainingMining },
      embeddedManifest: a.embeddedManifestState,
      registered: facts.add({ action: 'asset.registered', auditIndex: a.auditIndex, what: `registered by its SHA-256 in production ${a.production}` }),
      embeddedTermsOverride: override
        ? facts.add({ action: 'asset.embedded-terms-overridden', auditIndex: override.auditIndex, what: `legal set aside the embedded manifest: ${override.reason}` })
        : null,
      licenses,
    });
  }
  return out;
}

/** An output's chain: the rights assembly's tree (src/rights), each node completed with the ledger's facts. */
async function outputTitle(q: Queryable, node: OutputNode, facts: Facts, described: Set<string>, now: Date): Promise<OutputTitle> {
  described.add(node.outputId);
  const out = (await findOutput(q, node.outputId)) as OutputRecord;
  const [[ckp], [clr], [ds], statusEvents] = await Promise.all([
    q.select().from(checkpoints).where(eq(checkpoints.id, out.checkpointId)),
    q.select().from(clearances).where(eq(clearances.id, out.clearanceId)),
    q.select().from(datasets).where(eq(datasets.id, out.datasetId)),
    q.select().from(checkpointStatusEvents).where(eq(checkpointStatusEvents.checkpointId, out.checkpointId)).orderBy(asc(checkpointStatusEvents.seq)),
  ]);
  const status = await checkpointStatus(q, ckp!, now, { clearance: clr! });
  const titles = await assetTitles(
    q,
    node.assets.map((a) => a.assetId),
    facts,
    now,
  );
  const assetsOut: OutputAsset[] = [];
  for (const a of node.assets) {
    const d = a.derivedFrom;
    assetsOut.push({
      role: a.role,
      licenseAtClearanceId: a.licenseAtClearance?.id ?? null,
      asset: titles.get(a.assetId)!,
      derivedFrom: !d ? null : described.has(d.outputId) ? { outputId: d.outputId, describedAbove: true } : await outputTitle(q, d, facts, described, now),
    });
  }
  return {
    outputId: out.id,
    mimeType: out.mimeType,
    signedSha256: out.signedSha256,
    signed: facts.add({ action: 'output.signed', auditIndex: out.auditIndex, what: `signed with checkpoint ${out.checkpointId}, manifest ${out.manifestLabel}` }),
    withdrawn: out.withdrawal ? facts.add({ action: 'output.withdrawn', auditIndex: out.withdrawal.auditIndex, what: `withdrawn: ${out.withdrawal.reason}` }) : null,
    checkpoint: {
      id: ckp!.id,
      baseModel: ckp!.baseModel,
      vendor: ckp!.vendor,
      statusNow: status.status,
      registered: facts.add({ action: 'checkpoint.registered', auditIndex: ckp!.auditIndex, what: `registered under clearance ${ckp!.clearanceId}, base model ${ckp!.baseModel}` }),
      statusChanges: statusEvents.map((e) =>
        facts.add({
          action: `checkpoint.${e.status}`,
          auditIndex: e.auditIndex,
          what: `${e.status}${e.cause.kind === 'retired' ? `: ${e.cause.reason}` : `: license ${e.cause.licenseId} ${e.cause.kind === 'license-revoked' ? 'revoked' : 'ended'}`}`,
        }),
      ),
    },
    clearance: {
      id: clr!.id,
      vendor: clr!.vendor,
      purpose: clr!.purpose,
      baseModel: clr!.baseModel,
      decision: clr!.decision,
      policyDigest: clr!.policyDigest,
      datasetDigest: clr!.datasetDigest,
      standingNow: status.standing.status,
      granted: facts.add({
        action: clr!.decision === 'allow' ? 'clearance.granted' : 'clearance.denied',
        auditIndex: clr!.auditIndex,
        what: `${clr!.decision} for ${clr!.vendor}: ${clr!.allowedCount} allowed, ${clr!.deniedCount} denied`,
      }),
    },
    dataset: {
      id: ds!.id,
      name: ds!.name,
      digest: ds!.digest,
      assetCount: ds!.assetCount,
      created: facts.add({ action: 'dataset.created', auditIndex: ds!.auditIndex, what: `frozen with ${ds!.assetCount} asset${ds!.assetCount === 1 ? '' : 's'}` }),
    },
    assets: assetsOut,
  };
}

async function finish(q: Queryable, head: TreeHeadSource, facts: Facts, now: Date, rest: Pick<ChainOfTitle, 'subject' | 'asset' | 'output'>): Promise<ChainOfTitle> {
  const entries = await facts.complete(q);
  // Signed after the facts were read: every entry they name is in this tree.
  const tree = await signedTreeHead(q, head.origin, head.signer);
  return { document: 'chain-of-title', generatedAt: now.toISOString(), ...rest, treeHead: tree, entries };
}

/** The chain of title of an asset, or undefined when there is no such asset. */
export async function assetChainOfTitle(q: Queryable, head: TreeHeadSource, assetId: string, now = new Date()): Promise<ChainOfTitle | undefined> {
  const facts = new Facts();
  const asset = (await assetTitles(q, [assetId], facts, now)).get(assetId);
  if (!asset) return undefined;
  return finish(q, head, facts, now, { subject: { kind: 'asset', id: assetId }, asset, output: null });
}

/** The chain of title of an output from its rights-chain tree (assembled by src/rights). */
export async function outputChainOfTitle(q: Queryable, head: TreeHeadSource, root: OutputNode, now = new Date()): Promise<ChainOfTitle> {
  const facts = new Facts();
  const output = await outputTitle(q, root, facts, new Set(), now);
  return finish(q, head, facts, now, { subject: { kind: 'output', id: root.outputId }, asset: null, output });
}
