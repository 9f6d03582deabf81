/**
 * Signed notes (c2sp.org/signed-note) with Ed25519 signatures, and the
 * checkpoint note body of c2sp.org/tlog-checkpoint. Wire-compatible with
 * golang.org/x/mod/sumdb/note, so standard tlog tooling (witnesses, monitors)
 * can verify our checkpoints.
 *
 * Pure: the only effect is NoteSigner.sign, which is supplied by the caller
 * (a local KeyObject via ed25519Signer, or e.g. a Cloud KMS Ed25519 key).
 *
 *   note      = text "\n" 1*signature-line      (text ends with "\n")
 *   signature = "— " name " " base64(keyId[4] || ed25519-signature[64]) "\n"
 *   keyId     = SHA-256(name || "\n" || 0x01 || publicKey[32])[:4]
 *   vkey      = name "+" hex(keyId) "+" base64(0x01 || publicKey[32])
 */
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/** Signature type identifier byte for Ed25519 (signed-note §Signature types). */
const ALG_ED25519 = 0x01;
const ED25519_PUBLIC_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const ROOT_HASH_SIZE = 32;
const SIGNATURE_PREFIX = '\u2014 '; // em dash, space
// The spec requires accepting at least 16; this bounds the work an attacker can cause (as Go does).
const MAX_SIGNATURES = 100;

/** Produces Ed25519 signatures for `name`; `publicKey` is the raw 32-byte key. */
export interface NoteSigner {
  readonly name: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A trusted Ed25519 key: raw 32-byte public key under a key name. */
export type NoteVerifier = { readonly name: string; readonly publicKey: Uint8Array };

export type VerifiedNote = {
  /** The note text, including its final newline. */
  body: string;
  /** Names of the known keys whose signatures verified, in signature order. */
  verifiedBy: string[];
};

export type NoteErrorCode =
  /** Not a syntactically valid note (or checkpoint body). */
  | 'malformed'
  /** No signature from a known key. */
  | 'unverified'
  /** A signature claims to be from a known key but does not verify. */
  | 'invalid-signature';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

export type Checkpoint = {
  /** Log identity, e.g. "clearframe.example/audit". */
  origin: string;
  treeSize: number;
  /** RFC 9162 root hash (32 bytes). */
  rootHash: Uint8Array;
  /** Opaque extension lines (rarely used; not auditable by monitors). */
  extensions?: string[];
};

// ---------------------------------------------------------------------------
// Keys

/** Ed25519 key ID: SHA-256(name || "\n" || 0x01 || publicKey)[:4]. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  const hash = createHash('sha256').update(`${name}\n`, 'utf8').update(Uint8Array.of(ALG_ED25519)).update(publicKey).digest();
  return new Uint8Array(hash.subarray(0, 4));
}

/** Verifier key string ("vkey"): name+hex(keyId)+base64(0x01 || publicKey). */
export function verifierKeyString(name: string, publicKey: Uint8Array): string {
  checkKeyName(name);
  checkPublicKey(publicKey);
  const keyId = Buffer.from(ed25519KeyId(name, publicKey)).toString('hex');
  const key = Buffer.concat([Uint8Array.of(ALG_ED25519), publicKey]).toString('base64');
  return `${name}+${keyId}+${key}`;
}

/** Parses a vkey (see verifierKeyString); only Ed25519 keys are accepted. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // Names and hex never contain "+", but base64 may: everything after the second "+" is the key.
  const [name = '', keyIdHex = '', ...keyParts] = vkey.split('+');
  const key = decodeBase64(keyParts.join('+'));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(keyIdHex) || key === null || key.length !== 1 + ED25519_PUBLIC_KEY_SIZE || key[0] !== ALG_ED25519) {
    throw new Error(`invalid Ed25519 verifier key: ${vkey}`);
  }
  const publicKey = key.slice(1);
  if (Buffer.from(ed25519KeyId(name, publicKey)).toString('hex') !== keyIdHex) {
    throw new Error(`verifier key ID does not match its name and key: ${vkey}`);
  }
  return { name, publicKey };
}

/** A NoteSigner backed by a local Ed25519 private KeyObject. */
export function ed25519Signer(name: string, privateKey: KeyObject): NoteSigner {
  checkKeyName(name);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('ed25519Signer needs an Ed25519 private key');
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
  return {
    name,
    publicKey,
    sign: async (message) => new Uint8Array(cryptoSign(null, message, privateKey)),
  };
}

// ---------------------------------------------------------------------------
// Notes

/**
 * Signs `body` (the note text, ending in "\n") and returns the complete note.
 * The signature is checked against signer.publicKey before it is published,
 * so a misconfigured remote signer fails here rather than at every verifier.
 */
export async function signNote(body: string, signer: NoteSigner): Promise<string> {
  checkNoteText(body);
  checkKeyName(signer.name);
  checkPublicKey(signer.publicKey);
  const message = new TextEncoder().encode(body);
  const signature = await signer.sign(message);
  if (!ed25519Verify(signer.publicKey, message, signature)) {
    throw new Error(`signer ${signer.name} returned a signature that does not verify under its public key`);
  }
  const blob = Buffer.concat([ed25519KeyId(signer.name, signer.publicKey), signature]).toString('base64');
  return `${body}\n${SIGNATURE_PREFIX}${signer.name} ${blob}\n`;
}

/**
 * Parses a signed note and verifies its signatures against `verifiers`.
 * Signatures from unknown keys (name and key ID not both matching) are ignored;
 * a bad signature from a known key rejects the whole note; at least one known
 * signature must verify. Accepts the note as text or as (UTF-8) bytes.
 * Synchronous (awaiting it is harmless).
 * @throws NoteError for a bad note; TypeError for a malformed verifier entry.
 */
export function verifyNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): VerifiedNote {
  const text = typeof note === 'string' ? note : decodeUtf8(note);
  if (text === null || !isValidNoteText(text)) throw malformed('note is not valid UTF-8 text without control characters');

  // The text is separated from the signatures by the last empty line.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no signature block');
  const body = text.slice(0, split + 1);
  const signatureBlock = text.slice(split + 2);
  if (/^\n*$/.test(body)) throw malformed('note text is empty');
  if (!signatureBlock.endsWith('\n')) throw malformed('note must end with a newline');
  const lines = signatureBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`note has more than ${MAX_SIGNATURES} signatures`);

  const known = verifiers.map((v) => {
    checkKeyName(v.name);
    checkPublicKey(v.publicKey);
    return { ...v, keyId: ed25519KeyId(v.name, v.publicKey) };
  });
  const message = new TextEncoder().encode(body);
  const verifiedBy: string[] = [];
  for (const line of lines) {
    const { name, keyId, signature } = parseSignatureLine(line);
    const candidates = known.filter((k) => k.name === name && bytesEqual(k.keyId, keyId));
    if (candidates.length === 0) continue; // unknown key: ignore, as the spec requires
    // More than one candidate needs a 32-bit key ID collision under the same name; any may match.
    if (!candidates.some((k) => ed25519Verify(k.publicKey, message, signature))) {
      throw new NoteError('invalid-signature', `invalid signature for key ${name}+${Buffer.from(keyId).toString('hex')}`);
    }
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) throw new NoteError('unverified', 'note has no signature from a known key');
  return { body, verifiedBy };
}

function parseSignatureLine(line: string): { name: string; keyId: Uint8Array; signature: Uint8Array } {
  const fields = line.startsWith(SIGNATURE_PREFIX) ? line.slice(SIGNATURE_PREFIX.length).split(' ') : [];
  const [name, b64] = fields;
  const blob = b64 === undefined ? null : decodeBase64(b64);
  // Exactly "name base64", the blob being a 4-byte key ID plus a non-empty signature.
  if (fields.length !== 2 || name === undefined || !isValidKeyName(name) || blob === null || blob.length < 5) {
    throw malformed(`malformed signature line: ${JSON.stringify(line)}`);
  }
  return { name, keyId: blob.subarray(0, 4), signature: blob.subarray(4) };
}

// ---------------------------------------------------------------------------
// Checkpoints (c2sp.org/tlog-checkpoint)

/** Checkpoint note text: origin, tree size, base64 root hash, extension lines; each ending in "\n". */
export function formatCheckpoint({ origin, treeSize, rootHash, extensions = [] }: Checkpoint): string {
  if (origin === '' || origin.includes('\n')) throw new TypeError('checkpoint origin must be a non-empty single line');
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw new TypeError(`invalid checkpoint tree size ${treeSize}`);
  if (rootHash.length !== ROOT_HASH_SIZE) throw new TypeError('checkpoint root hash must be 32 bytes');
  if (extensions.some((line) => line === '' || line.includes('\n'))) {
    throw new TypeError('checkpoint extension lines must be non-empty single lines');
  }
  const body = [origin, String(treeSize), Buffer.from(rootHash).toString('base64'), ...extensions].map((line) => `${line}\n`).join('');
  checkNoteText(body);
  return body;
}

/**
 * Parses a checkpoint note text (e.g. VerifiedNote.body). Strict: canonical
 * decimal size, canonical base64 of a 32-byte root, no empty lines.
 * @throws NoteError with code 'malformed'
 */
export function parseCheckpoint(body: string): Checkpoint {
  if (!isValidNoteText(body) || !body.endsWith('\n')) throw malformed('checkpoint is not note text ending in a newline');
  const [origin, size, root, ...extensions] = body.slice(0, -1).split('\n');
  if (origin === undefined || origin === '') throw malformed('checkpoint origin is empty');
  if (size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw malformed(`invalid checkpoint tree size ${JSON.stringify(size)}`);
  }
  const rootHash = root === undefined ? null : decodeBase64(root);
  if (rootHash === null || rootHash.length !== ROOT_HASH_SIZE) throw malformed('invalid checkpoint root hash');
  if (extensions.includes('')) throw malformed('checkpoint has an empty extension line');
  return { origin, treeSize: Number(size), rootHash, extensions };
}

// ---------------------------------------------------------------------------

function malformed(message: string): NoteError {
  return new NoteError('malformed', message);
}

// Signed notes must be valid UTF-8 with no control characters other than newline.
function isValidNoteText(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  return !/[\u0000-\u0009\u000b-\u001f]|\p{Surrogate}/u.test(text);
}

function checkNoteText(body: string): void {
  if (!isValidNoteText(body) || !body.endsWith('\n') || /^\n*$/.test(body)) {
    throw new TypeError('note text must be non-empty, end with a newline and contain no control characters');
  }
}

// Key names are non-empty, without Unicode white space or "+".
function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\p{White_Space}+]/u.test(name) && isValidNoteText(name);
}

function checkKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new TypeError(`invalid note key name ${JSON.stringify(name)}`);
}

function checkPublicKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new TypeError('Ed25519 public key must be 32 raw bytes');
  }
}

function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false; // not a valid curve point
  }
}

// Standard base64 (RFC 4648 §4), canonical form only: padded, no stray bits.
function decodeBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? new Uint8Array(bytes) : null;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    // ignoreBOM keeps a leading U+FEFF as part of the text instead of silently dropping it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
