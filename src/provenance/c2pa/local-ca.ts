/**
 * Local certificate authority for C2PA signing, built with node:crypto and a
 * small DER writer (no openssl binary, no extra dependency).
 *
 * - `createLocalCa()` makes a self-signed root (EC P-256, ecdsa-with-SHA256,
 *   basicConstraints CA:TRUE pathLen 0, keyUsage keyCertSign|cRLSign, SKI/AKI).
 * - `issueSigningCertificate()` makes an end-entity certificate whose profile
 *   passes c2pa-rs `check_end_entity_certificate_profile` (sdk/src/crypto/cose/
 *   certificate_profile.rs): X.509 v3, ecdsa-with-SHA256 on P-256, not a CA,
 *   currently valid, AKI present, keyUsage digitalSignature (critical, no
 *   keyCertSign), extendedKeyUsage id-kp-emailProtection (accepted by c2pa-rs
 *   without extra trust config) plus id-kp-documentSigning, never anyEKU, no
 *   unique IDs, no unknown critical extension.
 *
 * - `issueTimestampingCertificate()` makes a time-stamp authority's certificate
 *   (RFC 3161 §2.3: id-kp-timeStamping as the only EKU, marked critical), which
 *   c2pa-rs accepts for `sigTst2` tokens and `openssl ts -verify` for tokens.
 *
 * The signing key can be generated here or supplied as a public key only
 * (e.g. a Cloud KMS key: pass its public key PEM, sign with KMS later).
 *
 * The COSE x5chain for such a credential is `[leaf]`: the root is the trust
 * anchor and is configured on the verifier side (c2pa-rs finds the anchor by
 * issuer name and verifies the leaf's signature with it), which matches the
 * C2PA test chains in c2pa-rs that also leave the root out.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign as nodeSign, randomBytes } from 'node:crypto';

import {
  bitString,
  bool,
  concatBytes,
  explicit,
  implicitPrimitive,
  namedBitString,
  octetString,
  oid,
  printableString,
  readChildren,
  readTlv,
  seq,
  set,
  smallInt,
  uintBytes,
  utf8String,
  x509Time,
} from './der.ts';

export const OIDS = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  commonName: '2.5.4.3',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  /** id-kp-emailProtection: accepted by c2pa-rs by default. */
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  /** id-kp-documentSigning (RFC 9336): in c2pa-rs valid_eku_oids.cfg. */
  ekuDocumentSigning: '1.3.6.1.5.5.7.3.36',
  /** C2PA signing EKU: in c2pa-rs valid_eku_oids.cfg. */
  ekuC2paSigning: '1.3.6.1.4.1.62558.2.1',
  /** id-kp-timeStamping: the one EKU of an RFC 3161 TSA certificate. */
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

export interface DistinguishedName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** Two-letter country code. */
  country?: string;
}

export interface LocalCa {
  subject: DistinguishedName;
  certDer: Uint8Array;
  certPem: string;
  /** PKCS#8 PEM of the CA private key. Keep it secret. */
  privateKeyPem: string;
}

export interface SigningCertificate {
  certDer: Uint8Array;
  certPem: string;
  /** SPKI PEM of the signing key. */
  publicKeyPem: string;
  /** PKCS#8 PEM, present only when the key pair was generated here. */
  privateKeyPem?: string;
  /** COSE x5chain, leaf first (the root/trust anchor is not included). */
  chainDer: Uint8Array[];
  /** Same chain as concatenated PEM (leaf first). */
  chainPem: string;
  /** PEM of the root to configure as trust anchor. */
  trustAnchorPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CreateLocalCaOptions {
  subject?: DistinguishedName;
  /** Default 3650 days. */
  validityDays?: number;
  /** Reference time (tests). Default now. */
  now?: Date;
}

export interface IssueSigningCertificateOptions {
  subject?: DistinguishedName;
  /** Default 365 days. */
  validityDays?: number;
  now?: Date;
  /**
   * Public key (SPKI PEM or KeyObject) of an externally held P-256 key, e.g.
   * Cloud KMS. When omitted a P-256 key pair is generated and its private key
   * returned.
   */
  publicKey?: string | KeyObject;
  /** Extended key usages. Default [emailProtection, documentSigning]. */
  extendedKeyUsages?: string[];
  /** Mark the extendedKeyUsage extension critical (RFC 3161 requires it of TSAs). Default false. */
  extendedKeyUsageCritical?: boolean;
}

const DAY_MS = 86_400_000;
/** Back-date notBefore to absorb clock skew between signer and validators. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

export function createLocalCa(opts: CreateLocalCaOptions = {}): LocalCa {
  const subject = opts.subject ?? {
    commonName: 'Clearframe Local Root CA',
    organization: 'Clearframe',
    organizationalUnit: 'Local provenance signing',
  };
  const now = opts.now ?? new Date();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = exportSpkiDer(publicKey);
  const ski = keyIdentifier(spki);
  const name = encodeName(subject);

  const extensions = [
    extension(OIDS.basicConstraints, true, seq(bool(true), smallInt(0))),
    // keyCertSign (5) | cRLSign (6)
    extension(OIDS.keyUsage, true, namedBitString([5, 6])),
    extension(OIDS.subjectKeyIdentifier, false, octetString(ski)),
    extension(OIDS.authorityKeyIdentifier, false, seq(implicitPrimitive(0, ski))),
  ];

  const certDer = buildCertificate({
    issuer: name,
    subject: name,
    spki,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + (opts.validityDays ?? 3650) * DAY_MS),
    extensions,
    issuerKey: privateKey,
  });

  return {
    subject,
    certDer,
    certPem: derToPem(certDer, 'CERTIFICATE'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function issueSigningCertificate(
  ca: Pick<LocalCa, 'certDer' | 'privateKeyPem'> & { subject?: DistinguishedName },
  opts: IssueSigningCertificateOptions = {},
): SigningCertificate {
  const now = opts.now ?? new Date();
  const caKey = createPrivateKey(ca.privateKeyPem);
  const caInfo = parseCertificateBasics(ca.certDer);

  let publicKey: KeyObject;
  let privateKeyPem: string | undefined;
  if (opts.publicKey === undefined) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publicKey = pair.publicKey;
    privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  } else {
    publicKey = typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey;
  }
  const details = publicKey.asymmetricKeyDetails;
  if (publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw new Error('signing key must be an EC P-256 key (ES256)');
  }

  const spki = exportSpkiDer(publicKey);
  const subject = opts.subject ?? {
    commonName: 'Clearframe C2PA Signer',
    organization: 'Clearframe',
    organizationalUnit: 'Local provenance signing',
  };
  const ekus = opts.extendedKeyUsages ?? [OIDS.ekuEmailProtection, OIDS.ekuDocumentSigning];

  const extensions = [
    extension(OIDS.basicConstraints, true, seq()),
    // digitalSignature (0)
    extension(OIDS.keyUsage, true, namedBitString([0])),
    extension(OIDS.extKeyUsage, opts.extendedKeyUsageCritical ?? false, seq(...ekus.map(oid))),
    extension(OIDS.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OIDS.authorityKeyIdentifier, false, seq(implicitPrimitive(0, keyIdentifier(caInfo.spki)))),
  ];

  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const requestedNotAfter = now.getTime() + (opts.validityDays ?? 365) * DAY_MS;
  // Never outlive the issuer.
  const notAfter = new Date(Math.min(requestedNotAfter, caInfo.notAfter.getTime()));

  const certDer = buildCertificate({
    issuer: caInfo.subjectNameDer,
    subject: encodeName(subject),
    spki,
    notBefore,
    notAfter,
    extensions,
    issuerKey: caKey,
  });
  const certPem = derToPem(certDer, 'CERTIFICATE');

  return {
    certDer,
    certPem,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ...(privateKeyPem !== undefined ? { privateKeyPem } : {}),
    chainDer: [certDer],
    chainPem: certPem,
    trustAnchorPem: derToPem(ca.certDer, 'CERTIFICATE'),
    notBefore,
    notAfter,
  };
}

/**
 * A time-stamp authority's certificate: RFC 3161 §2.3 wants id-kp-timeStamping as its only extended key
 * usage, marked critical (c2pa-rs refuses a TSA certificate with another EKU beside it; OpenSSL refuses
 * a non-critical one). Otherwise the same profile as a signing certificate.
 */
export function issueTimestampingCertificate(
  ca: Pick<LocalCa, 'certDer' | 'privateKeyPem'> & { subject?: DistinguishedName },
  opts: Omit<IssueSigningCertificateOptions, 'extendedKeyUsages' | 'extendedKeyUsageCritical'> = {},
): SigningCertificate {
  return issueSigningCertificate(ca, {
    subject: { commonName: 'Clearframe Time-Stamp Authority', organization: 'Clearframe' },
    ...opts,
    extendedKeyUsages: [OIDS.ekuTimeStamping],
    extendedKeyUsageCritical: true,
  });
}

/** Convenience: a fresh root plus a signing certificate with a generated key. */
export function createLocalSigningIdentity(opts: { caSubject?: DistinguishedName; signerSubject?: DistinguishedName; now?: Date } = {}): {
  ca: LocalCa;
  signer: SigningCertificate & { privateKeyPem: string };
} {
  const ca = createLocalCa({
    ...(opts.caSubject ? { subject: opts.caSubject } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const signer = issueSigningCertificate(ca, {
    ...(opts.signerSubject ? { subject: opts.signerSubject } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (signer.privateKeyPem === undefined) throw new Error('unreachable: key not generated');
  return { ca, signer: { ...signer, privateKeyPem: signer.privateKeyPem } };
}

// ---------------------------------------------------------------------------
// PEM helpers

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** All PEM blocks with the given label (default CERTIFICATE), as DER. */
export function pemToDerList(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(re)) {
    out.push(new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

// ---------------------------------------------------------------------------
// internals

function exportSpkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
function keyIdentifier(spkiDer: Uint8Array): Uint8Array {
  const [, subjectPublicKey] = readChildren(readTlv(spkiDer));
  if (!subjectPublicKey) throw new Error('malformed SubjectPublicKeyInfo');
  // Skip the "unused bits" octet.
  return new Uint8Array(createHash('sha1').update(subjectPublicKey.content.subarray(1)).digest());
}

function encodeName(dn: DistinguishedName): Uint8Array {
  const rdns: Uint8Array[] = [];
  const attr = (type: string, value: Uint8Array) => set(seq(oid(type), value));
  if (dn.country) rdns.push(attr(OIDS.countryName, printableString(dn.country)));
  if (dn.organization) rdns.push(attr(OIDS.organizationName, utf8String(dn.organization)));
  if (dn.organizationalUnit) {
    rdns.push(attr(OIDS.organizationalUnitName, utf8String(dn.organizationalUnit)));
  }
  rdns.push(attr(OIDS.commonName, utf8String(dn.commonName)));
  return seq(...rdns);
}

function extension(id: string, critical: boolean, valueDer: Uint8Array): Uint8Array {
  // DEFAULT FALSE must be omitted in DER.
  return critical ? seq(oid(id), bool(true), octetString(valueDer)) : seq(oid(id), octetString(valueDer));
}

function randomSerial(): Uint8Array {
  const bytes = new Uint8Array(randomBytes(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40; // positive, 16 significant bytes
  return uintBytes(bytes);
}

function buildCertificate(p: {
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  extensions: Uint8Array[];
  issuerKey: KeyObject;
}): Uint8Array {
  const sigAlg = seq(oid(OIDS.ecdsaWithSha256));
  const tbs = seq(
    explicit(0, smallInt(2)), // v3
    randomSerial(),
    sigAlg,
    p.issuer,
    seq(x509Time(p.notBefore), x509Time(p.notAfter)),
    p.subject,
    p.spki,
    explicit(3, seq(...p.extensions)),
  );
  const signature = nodeSign('sha256', tbs, { key: p.issuerKey, dsaEncoding: 'der' });
  return seq(tbs, sigAlg, bitString(new Uint8Array(signature)));
}

interface CertificateBasics {
  subjectNameDer: Uint8Array;
  spki: Uint8Array;
  notAfter: Date;
}

function parseCertificateBasics(certDer: Uint8Array): CertificateBasics {
  const [tbs] = readChildren(readTlv(certDer));
  if (!tbs) throw new Error('malformed certificate');
  const fields = readChildren(tbs);
  // version [0] is present for v3 certificates
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = fields[base + 3];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!validity || !subject || !spki) throw new Error('malformed certificate TBS');
  const [, notAfterNode] = readChildren(validity);
  if (!notAfterNode) throw new Error('malformed certificate validity');
  return {
    subjectNameDer: concatBytes([subject.raw]),
    spki: concatBytes([spki.raw]),
    notAfter: parseX509Time(notAfterNode.tag, new TextDecoder().decode(notAfterNode.content)),
  };
}

function parseX509Time(tag: number, s: string): Date {
  const m = tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`unsupported certificate time: ${s}`);
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = tag === 0x17 ? (n[0] >= 50 ? 1900 + n[0] : 2000 + n[0]) : n[0];
  return new Date(Date.UTC(year, n[1] - 1, n[2], n[3], n[4], n[5]));
}
