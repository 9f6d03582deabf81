import { decodeJwt } from 'jose';
import { assetBody, licenseBody } from './fixtures.ts';
import type { TestService } from './service.ts';

/** Registers an asset with one license version; returns both ids. */
export async function licensedAsset(svc: TestService, token: string, license: Record<string, unknown> | null = {}, asset: Record<string, unknown> = {}) {
  const a = (await (await svc.call('POST', '/v1/assets', { token, json: assetBody(asset) })).json()) as { id: string; sha256: string };
  if (license === null) return { assetId: a.id, sha256: a.sha256, licenseId: null as string | null };
  const res = await svc.call('POST', `/v1/assets/${a.id}/licenses`, { token, json: licenseBody(license) });
  if (res.status !== 201) throw new Error(`license: ${res.status} ${await res.text()}`);
  const l = (await res.json()) as { id: string };
  return { assetId: a.id, sha256: a.sha256, licenseId: l.id as string | null };
}

/** Freezes a dataset; `vendor` (with a legal or admin token) freezes it for that vendor, else it is the studio's. */
export async function dataset(svc: TestService, token: string, assetIds: string[], name = 'style pass', vendor?: string) {
  const res = await svc.call('POST', '/v1/datasets', { token, json: { name, assetIds, ...(vendor ? { vendor } : {}) } });
  if (res.status !== 201) throw new Error(`dataset: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; digest: string; assetCount: number };
}

/** Licensed art → dataset → clearance → an externally trained checkpoint, all through the API. */
export async function activeCheckpoint(svc: TestService, legal: string, vendor: string, n = 2, license: Record<string, unknown> = {}) {
  const assets = [];
  for (let i = 0; i < n; i++) assets.push(await licensedAsset(svc, legal, license));
  const d = await dataset(
    svc,
    legal,
    assets.map((a) => a.assetId),
    'style pass',
    vendorOf(vendor),
  );
  const clearance = (await (
    await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } })
  ).json()) as { id: string; decision: string };
  if (clearance.decision !== 'allow') throw new Error('clearance denied');
  const res = await svc.call('POST', '/v1/checkpoints', {
    token: vendor,
    json: { clearanceId: clearance.id, baseModel: 'imagen-4.0-generate-001', externalRef: `s3://acme/${d.id}`, artifactDigest: `sha256:${'12'.repeat(32)}` },
  });
  const checkpoint = (await res.json()) as { id: string };
  return { assets, dataset: d, clearance, checkpoint };
}

/** The vendor id a vendor token speaks for. */
export function vendorOf(token: string): string {
  return String(decodeJwt(token).vendor);
}
