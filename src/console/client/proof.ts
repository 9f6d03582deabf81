/**
 * The registration proof of a verified output, checked where the user is: RFC 9162 inclusion (SHA-256 leaf
 * and node hashes) against a C2SP tlog-checkpoint signed note (Ed25519), with WebCrypto only, so the same
 * code runs in the browser and (for its tests) in Node. Pure apart from crypto.subtle; mirrors
 * src/audit/merkle.ts and src/audit/signed-note.ts, which the unit test holds it equal to.
 */

export type RegistrationProof = {
  index: number;
  treeSize: number;
  /** base64 of the leaf bytes (RFC 8785 JSON of the audit event) */
  leaf: string;
  /** base64 path hashes, leaf's sibling first */
  hashes: string[];
  /** the signed tree head the path leads to */
  checkpoint: string;
};

/** What the proof is checked against and for: the published key and what the entry must say. */
export type ProofExpectation = {
  /** signed-note verifier key, name+hex(keyId)+base64(0x01 || key) (GET /v1/audit/key `vkey`) */
  vkey: string;
  /** the output the entry must register */
  outputId: string;
  /** when set, the SHA-256 (hex) of the file the entry must name as signed */
  fileSha256?: string;
};

export type ProofCheck =
  | { ok: true; index: number; treeSize: number; origin: string; keyName: string; rootHash: string; event: { action: string; time: string; actor: { sub: string; role: string } } }
  | { ok: false; reason: string };

const SIGNATURE_PREFIX = '\u2014 ';

export async function checkRegistrationProof(proof: RegistrationProof, expect: ProofExpectation): Promise<ProofCheck> {
  try {
    return await check(proof, expect);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

async function check(proof: RegistrationProof, expect: ProofExpectation): Promise<ProofCheck> {
  const key = await parseVerifierKey(expect.vkey);
  const body = await verifyNote(proof.checkpoint, key);
  const head = parseCheckpoint(body);
  if (head.origin !== key.name) return fail(`the checkpoint is of log ${head.origin}, not of ${key.name}`);
  if (head.treeSize !== proof.treeSize) return fail(`the proof is for a tree of ${proof.treeSize} entries but the checkpoint signs ${head.treeSize}`);

  const leaf = decodeBase64(proof.leaf);
  if (!leaf) return fail('the entry is not base64');
  const hashes = proof.hashes.map(decodeBase64);
  if (hashes.some((h) => h === null || h.length !== 32)) return fail('a path hash is not 32 bytes of base64');
  const root = await rootFromInclusionProof(await leafHash(leaf), proof.index, proof.treeSize, hashes as Uint8Array[]);
  if (!root) return fail(`the path does not fit entry ${proof.index} of a tree of ${proof.treeSize}`);
  if (!bytesEqual(root, head.rootHash)) return fail('the path leads to a root other than the signed checkpoint’s');

  // The entry itself: it must register this output (and, for an exact match, these very bytes).
  const event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(leaf)) as {
    index?: unknown;
    action?: unknown;
    subjectId?: unknown;
    time?: unknown;
    actor?: { sub?: unknown; role?: unknown };
    content?: { signedSha256?: unknown };
  };
  if (event.action !== 'output.signed' || event.subjectId !== expect.outputId) return fail(`the entry does not record the signing of ${expect.outputId}`);
  if (event.index !== proof.index) return fail('the entry names another index');
  if (expect.fileSha256 !== undefined && event.content?.signedSha256 !== expect.fileSha256) return fail('the entry records other bytes than this file’s');
  return {
    ok: true,
    index: proof.index,
    treeSize: proof.treeSize,
    origin: head.origin,
    keyName: key.name,
    rootHash: proof.checkpoint.split('\n')[2] ?? '',
    event: { action: String(event.action), time: String(event.time), actor: { sub: String(event.actor?.sub), role: String(event.actor?.role) } },
  };
}

const fail = (reason: string): ProofCheck => ({ ok: false, reason });

// ---------------------------------------------------------------------------
// RFC 9162 §2.1

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

/** SHA-256(0x00 || leaf) */
export async function leafHash(leaf: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(1 + leaf.length);
  buf.set(leaf, 1);
  return sha256(buf);
}

/** SHA-256(0x01 || left || right) */
export async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** RFC 9162 §2.1.3.2 steps 1–5: the root an inclusion proof implies, or null when it cannot fit. */
export async function rootFromInclusionProof(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Promise<Uint8Array | null> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return null;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null; // too long
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null; // sn > 0: too short
}

// ---------------------------------------------------------------------------
// c2sp.org/signed-note and tlog-checkpoint

// Spelled so for Node's types too, which name no global CryptoKey.
type Verifier = { name: string; keyId: Uint8Array; key: Awaited<ReturnType<typeof crypto.subtle.importKey>> };

export async function parseVerifierKey(vkey: string): Promise<Verifier> {
  const [name = '', keyIdHex = '', ...rest] = vkey.split('+');
  const raw = decodeBase64(rest.join('+'));
  if (!name || !/^[0-9a-f]{8}$/.test(keyIdHex) || !raw || raw.length !== 33 || raw[0] !== 0x01) throw new Error('the published verifier key is not an Ed25519 signed-note key');
  const publicKey = raw.slice(1);
  const keyId = await noteKeyId(name, publicKey);
  if (hex(keyId) !== keyIdHex) throw new Error('the published verifier key’s id does not match its name and key');
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return { name, keyId, key };
}

/** SHA-256(name || "\n" || 0x01 || key)[:4] */
async function noteKeyId(name: string, publicKey: Uint8Array): Promise<Uint8Array> {
  const prefix = new TextEncoder().encode(`${name}\n`);
  const buf = new Uint8Array(prefix.length + 1 + publicKey.length);
  buf.set(prefix);
  buf[prefix.length] = 0x01;
  buf.set(publicKey, prefix.length + 1);
  return (await sha256(buf)).slice(0, 4);
}

/** The note's text once a signature by `verifier` checks; throws otherwise. */
export async function verifyNote(note: string, verifier: Verifier): Promise<string> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('the checkpoint is not a signed note');
  const body = note.slice(0, split + 1);
  const message = new TextEncoder().encode(body);
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new Error('the checkpoint has a malformed signature line');
    const [name, b64, extra] = line.slice(SIGNATURE_PREFIX.length).split(' ');
    const blob = b64 === undefined ? null : decodeBase64(b64);
    if (extra !== undefined || !blob || blob.length < 5) throw new Error('the checkpoint has a malformed signature line');
    if (name !== verifier.name || !bytesEqual(blob.subarray(0, 4), verifier.keyId)) continue; // another key's: not ours to judge
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, verifier.key, blob.slice(4), message);
    if (!ok) throw new Error('the checkpoint’s signature does not verify under the published key');
    return body;
  }
  throw new Error('the checkpoint carries no signature by the published key');
}

export function parseCheckpoint(body: string): { origin: string; treeSize: number; rootHash: Uint8Array } {
  const [origin, size, root] = body.slice(0, -1).split('\n');
  const rootHash = root === undefined ? null : decodeBase64(root);
  if (!origin || size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !rootHash || rootHash.length !== 32) throw new Error('the checkpoint body is malformed');
  return { origin, treeSize: Number(size), rootHash };
}

// ---------------------------------------------------------------------------

/** Canonical, padded standard base64 only (as the log writes it); null otherwise. */
export function decodeBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  return hex(await sha256(data));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
