import type { TestService } from './service.ts';
import { assetBody, licenseBody } from './fixtures.ts';

/** Registers an asset with one license version; returns both ids. */
export async function licensedAsset(svc: TestService, token: string, license: Record<string, unknown> | null = {}, asset: Record<string, unknown> = {}) {
  const a = (await (await svc.call('POST', '/v1/assets', { token, json: assetBody(asset) })).json()) as { id: string; sha256: string };
  if (license === null) return { assetId: a.id, sha256: a.sha256, licenseId: null as string | null };
  const res = await svc.call('POST', `/v1/assets/${a.id}/licenses`, { token, json: licenseBody(license) });
  if (res.status !== 201) throw new Error(`license: ${res.status} ${await res.text()}`);
  const l = (await res.json()) as { id: string };
  return { assetId: a.id, sha256: a.sha256, licenseId: l.id as string | null };
}

export async function dataset(svc: TestService, token: string, assetIds: string[], name = 'style pass') {
  const res = await svc.call('POST', '/v1/datasets', { token, json: { name, assetIds } });
  if (res.status !== 201) throw new Error(`dataset: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; digest: string; assetCount: number };
}
