import type { Signer } from '../signing/signer.ts';

/** The JWS `typ` of a delivery's signature: a clearance token verifier (typ clearance) refuses it. */
export const EVENT_JWS_TYPE = 'clearframe-event+jws';

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * A compact JWS with a detached payload (RFC 7515 appendix F) over the exact body bytes: `header..signature`.
 * The receiver puts base64url(body) between the dots and verifies it as any compact JWS, with the key named
 * by `kid` in /.well-known/jwks.json.
 */
export async function signBody(signer: Signer, body: string): Promise<string> {
  const header = b64url(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: EVENT_JWS_TYPE }));
  const signature = await signer.sign(new TextEncoder().encode(`${header}.${b64url(body)}`));
  return `${header}..${b64url(signature)}`;
}
