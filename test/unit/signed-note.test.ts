import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ed25519KeyId,
  ed25519Signer,
  formatCheckpoint,
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  parseCheckpoint,
  parseVerifierKey,
  signNote,
  verifierKeyString,
  verifyNote,
} from '../../src/audit/signed-note.ts';

// golang.org/x/mod @ fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db, sumdb/note/note_test.go
// (TestNewVerifier, TestSign, TestVerifierList, TestOpen).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = 'If you think cryptography is the answer to your problem,\n' + "then you don't know what your problem is.\n";
const PETER_SIG = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

// C2SP/C2SP @ 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9, signed-note.md "Example"
// and tlog-checkpoint.md (the example checkpoint body).
const C2SP_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const C2SP_NOTE = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
const C2SP_CHECKPOINT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

/** Ed25519 KeyObject from a raw 32-byte seed (PKCS#8 wrapping per RFC 8410). */
function keyFromSeed(seed: Uint8Array): KeyObject {
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** The signer encoded in a Go note "skey": PRIVATE+KEY+name+hash+base64(0x01 || seed). */
function signerFromGoSkey(skey: string): NoteSigner {
  const [, , name, , ...key] = skey.split('+'); // the base64 key itself may contain '+'
  const bytes = Buffer.from(key.join('+'), 'base64');
  expect(bytes[0]).toBe(0x01);
  return ed25519Signer(name!, keyFromSeed(bytes.subarray(1)));
}

function expectNoteError(f: () => unknown, code: NoteError['code']): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteError);
    expect((e as NoteError).code).toBe(code);
    return;
  }
  expect.fail(`expected a NoteError (${code})`);
}

function generatedSigner(name: string): NoteSigner {
  return ed25519Signer(name, generateKeyPairSync('ed25519').privateKey);
}

describe('verifier keys', () => {
  it('parses and re-encodes the Go and C2SP vkeys byte for byte', () => {
    for (const vkey of [PETER_VKEY, ENOCH_VKEY, C2SP_VKEY]) {
      const { name, publicKey } = parseVerifierKey(vkey);
      expect(publicKey).toHaveLength(32);
      expect(verifierKeyString(name, publicKey)).toBe(vkey);
    }
    const peter = parseVerifierKey(PETER_VKEY);
    expect(peter.name).toBe('PeterNeumann');
    expect(Buffer.from(ed25519KeyId(peter.name, peter.publicKey)).toString('hex')).toBe('c74f20a3');
  });

  it('round-trips keys whose base64 contains "+"', () => {
    const vkeys = Array.from({ length: 16 }, (_, i) => {
      const signer = ed25519Signer(`seed${i}.example`, keyFromSeed(new Uint8Array(32).fill(i)));
      const vkey = verifierKeyString(signer.name, signer.publicKey);
      expect(parseVerifierKey(vkey)).toEqual({ name: signer.name, publicKey: signer.publicKey });
      return vkey;
    });
    expect(vkeys.some((vkey) => vkey.split('+').length > 3)).toBe(true);
  });

  it('derives the published vkey from the published signing key', () => {
    const signer = signerFromGoSkey(PETER_SKEY);
    expect(verifierKeyString(signer.name, signer.publicKey)).toBe(PETER_VKEY);
  });

  // Mirrors TestNewVerifier: every proper substring and every single-byte change must be rejected.
  it('rejects mangled vkeys', () => {
    const b = Buffer.from(PETER_VKEY, 'latin1');
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        const mangled = b.subarray(i, j).toString('latin1');
        expect(() => parseVerifierKey(mangled), mangled).toThrow();
      }
    }
    for (let i = 0; i < b.length; i++) {
      const mangled = Buffer.from(b);
      mangled[i]!++;
      expect(() => parseVerifierKey(mangled.toString('latin1')), mangled.toString('latin1')).toThrow();
    }
    // From the Go test: wrong key length and unknown algorithm, each with a matching key hash.
    expect(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==')).toThrow();
    expect(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).toThrow();
  });
});

describe('signNote', () => {
  it('reproduces the published sumdb/note signature byte for byte', async () => {
    expect(await signNote(TEXT, signerFromGoSkey(PETER_SKEY))).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('works with any async signer, e.g. a remote KMS key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const local = ed25519Signer('kms.example/audit', privateKey);
    const remote: NoteSigner = {
      name: local.name,
      publicKey: local.publicKey,
      sign: async (msg) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return new Uint8Array(sign(null, msg, privateKey));
      },
    };
    const note = await signNote('hello\n', remote);
    expect(verifyNote(note, [local])).toEqual({ body: 'hello\n', verifiedBy: ['kms.example/audit'] });
  });

  it('refuses to publish a signature that does not match the signer public key', async () => {
    const signer = generatedSigner('a.example/log');
    const liar: NoteSigner = { ...signer, publicKey: generatedSigner('a.example/log').publicKey };
    await expect(signNote('hello\n', liar)).rejects.toThrow(/does not verify/);
  });

  it('rejects text that cannot be a note body and invalid key names', async () => {
    const signer = generatedSigner('a.example/log');
    for (const body of ['', '\n', 'abc', 'a\tb\n', 'a\rb\n', 'lone \ud800 surrogate\n']) {
      await expect(signNote(body, signer), JSON.stringify(body)).rejects.toThrow(TypeError);
    }
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b']) {
      await expect(signNote('x\n', { ...signer, name }), JSON.stringify(name)).rejects.toThrow(TypeError);
    }
  });
});

describe('verifyNote', () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);
  const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;

  it('verifies the C2SP example note', () => {
    expect(verifyNote(C2SP_NOTE, [parseVerifierKey(C2SP_VKEY)])).toEqual({
      body: 'This is an example message.\n',
      verifiedBy: ['example.com/foo'],
    });
  });

  it('verifies known keys and ignores unknown ones (TestOpen)', () => {
    expect(verifyNote(both, [peter])).toEqual({ body: TEXT, verifiedBy: ['PeterNeumann'] });
    expect(verifyNote(both, [peter, enoch])).toEqual({ body: TEXT, verifiedBy: ['PeterNeumann', 'EnochRoot'] });
    expect(verifyNote(Buffer.from(both, 'utf8'), [enoch]).verifiedBy).toEqual(['EnochRoot']);
    expectNoteError(() => verifyNote(both, []), 'unverified');
    // Same name, different key (so a different key ID): unknown, hence ignored.
    expectNoteError(() => verifyNote(both, [{ name: 'PeterNeumann', publicKey: enoch.publicKey }]), 'unverified');
  });

  it('rejects the note when a known key signature is invalid', () => {
    const corrupted = `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expectNoteError(() => verifyNote(corrupted, [peter]), 'invalid-signature');
    // ... but not when the corrupted signature belongs to an unknown key.
    const enochCorrupted = `${ENOCH_SIG.slice(0, 60)}ABCD${ENOCH_SIG.slice(60)}`;
    const note = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochCorrupted}`;
    expect(verifyNote(note, [peter]).verifiedBy).toEqual(['PeterNeumann']);
  });

  it('rejects a tampered body', () => {
    const tampered = `${TEXT.replace('answer', 'answers')}\n${PETER_SIG}`;
    expectNoteError(() => verifyNote(tampered, [peter]), 'invalid-signature');
  });

  it('limits the number of signatures', () => {
    expect(verifyNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peter]).verifiedBy).toEqual(['PeterNeumann']);
    expectNoteError(() => verifyNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]), 'malformed');
  });

  it('rejects malformed notes (TestOpen badMsgs and more)', () => {
    const bad: (string | Uint8Array)[] = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), // invalid UTF-8
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      // Not from the Go suite:
      `\n${PETER_SIG}`, // empty text
      `${TEXT}\n${PETER_SIG}\n`, // trailing blank line
      `${TEXT}\n${PETER_SIG.replace('\u2014', '-')}`, // hyphen instead of em dash
      `${TEXT}\n${PETER_SIG.replace('PeterNeumann ', 'PeterNeumann  ')}`, // two spaces
      `${TEXT}\n${PETER_SIG.replace('AM=', 'AM')}`, // missing padding
      `${TEXT}\n\u2014 PeterNeumann x08gow==\n`, // key ID but no signature
      `${TEXT.replace('\n', '\r\n')}\n${PETER_SIG}`, // CR is a control character
      `${TEXT}\n${PETER_SIG.replace('\n', '\ud800\n')}`, // lone surrogate
    ];
    for (const note of bad) {
      expectNoteError(() => verifyNote(note, [peter]), 'malformed');
    }
  });

  it('splits text and signatures at the last blank line', async () => {
    const signer = generatedSigner('a.example/log');
    const body = 'para one\n\npara two\n\n';
    const note = await signNote(body, signer);
    expect(verifyNote(note, [signer])).toEqual({ body, verifiedBy: ['a.example/log'] });
  });

  it('rejects invalid verifier configuration', () => {
    expect(() => verifyNote(both, [{ name: 'PeterNeumann', publicKey: new Uint8Array(31) }])).toThrow(TypeError);
    expect(() => verifyNote(both, [{ name: 'Peter Neumann', publicKey: peter.publicKey }])).toThrow(TypeError);
  });
});

describe('checkpoints', () => {
  it('parses and formats the C2SP example byte for byte', () => {
    const cp = parseCheckpoint(C2SP_CHECKPOINT);
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.treeSize).toBe(20852163);
    expect(Buffer.from(cp.rootHash).toString('base64')).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(C2SP_CHECKPOINT);
  });

  it('round-trips a signed checkpoint with a generated key', async () => {
    const signer = generatedSigner('clearframe.example/audit');
    const verifier: NoteVerifier = parseVerifierKey(verifierKeyString(signer.name, signer.publicKey));
    const checkpoint = {
      origin: 'clearframe.example/audit',
      treeSize: 2 ** 53 - 1,
      rootHash: new Uint8Array(32).fill(7),
      extensions: ['ext one', 'ext two'],
    };
    const note = await signNote(formatCheckpoint(checkpoint), signer);
    expect(note.split('\n').slice(0, 6)).toEqual(['clearframe.example/audit', '9007199254740991', 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=', 'ext one', 'ext two', '']);
    const { body, verifiedBy } = verifyNote(note, [verifier]);
    expect(verifiedBy).toEqual(['clearframe.example/audit']);
    expect(parseCheckpoint(body)).toEqual(checkpoint);

    // Wrong key under the same name: its key ID differs, so the signature is from an unknown key.
    expectNoteError(() => verifyNote(note, [generatedSigner(signer.name)]), 'unverified');
    // Tampered size.
    expectNoteError(() => verifyNote(note.replace('9007199254740991', '9007199254740990'), [verifier]), 'invalid-signature');
  });

  it('rejects malformed checkpoint bodies', () => {
    const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
    for (const body of [
      'example.com/log\n5\n', // too few lines
      `example.com/log\n5\n${root}`, // no final newline
      `\n5\n${root}\n`, // empty origin
      `example.com/log\n05\n${root}\n`, // leading zero
      `example.com/log\n-5\n${root}\n`,
      `example.com/log\n+5\n${root}\n`,
      `example.com/log\n5.0\n${root}\n`,
      `example.com/log\n9007199254740992\n${root}\n`, // beyond 2^53 - 1
      `example.com/log\n5\n${root.slice(0, -1)}\n`, // unpadded base64
      `example.com/log\n5\n${root.replace('/', '_')}\n`, // base64url
      `example.com/log\n5\nAAAA\n`, // 3-byte root
      `example.com/log\n5\n${root}\n\n`, // empty extension line
      `example.com/log\n5\n${root}\next\r\n`, // control character
    ]) {
      expectNoteError(() => parseCheckpoint(body), 'malformed');
    }
    expect(parseCheckpoint(`example.com/log\n0\n${root}\n`).treeSize).toBe(0);
  });

  it('refuses to format invalid checkpoints', () => {
    const rootHash = new Uint8Array(32);
    expect(() => formatCheckpoint({ origin: '', treeSize: 1, rootHash })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a\nb', treeSize: 1, rootHash })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', treeSize: -1, rootHash })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', treeSize: 1.5, rootHash })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', treeSize: 1, rootHash: new Uint8Array(31) })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', treeSize: 1, rootHash, extensions: [''] })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a\tb', treeSize: 1, rootHash })).toThrow(TypeError);
  });
});
