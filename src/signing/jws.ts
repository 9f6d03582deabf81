import type { Signer } from './signer.ts';

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * A compact JWS signed by a `Signer` (local file or Cloud KMS alike), so no private key object is
 * needed here. Verification is left to any JOSE library with the public JWK.
 */
export async function signCompactJws(signer: Signer, payload: Record<string, unknown>, typ: string): Promise<string> {
  const header = { alg: signer.alg, kid: signer.kid, typ };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = await signer.sign(new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64url(signature)}`;
}
