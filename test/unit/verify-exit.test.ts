import { describe, expect, it } from 'vitest';
import { VERIFY_EXIT, verifyExitCode } from '../../src/outputs/verify-exit.ts';

const online = (verdict: string, status?: 'good' | 'tainted' | 'withdrawn') => ({ verdict, standing: status ? { status, cause: null } : null });

describe('verifyExitCode: clearframe verify exits by outcome (docs/outputs.md)', () => {
  it('exits 0 only for a verified output in good standing, or an offline valid manifest whose evidence holds', () => {
    expect(verifyExitCode(online('verified', 'good'))).toBe(0);
    expect(verifyExitCode({ verdict: 'valid', evidence: null })).toBe(0);
    expect(verifyExitCode({ verdict: 'valid' })).toBe(0);
    expect(verifyExitCode({ verdict: 'valid', evidence: { ok: true } })).toBe(0);
  });

  it('gives each other outcome its own code', () => {
    expect(verifyExitCode(online('verified', 'tainted'))).toBe(VERIFY_EXIT.tainted);
    expect(verifyExitCode(online('withdrawn', 'withdrawn'))).toBe(VERIFY_EXIT.withdrawn);
    expect(verifyExitCode(online('tampered', 'tainted'))).toBe(VERIFY_EXIT.tampered); // integrity first
    expect(verifyExitCode(online('damaged'))).toBe(VERIFY_EXIT.tampered);
    expect(verifyExitCode(online('untrusted'))).toBe(VERIFY_EXIT.untrusted);
    expect(verifyExitCode(online('unregistered'))).toBe(VERIFY_EXIT.unregistered);
    expect(verifyExitCode(online('no-manifest'))).toBe(VERIFY_EXIT.unregistered);
    expect(verifyExitCode(online('recovered'))).toBe(VERIFY_EXIT.unregistered);
    expect(verifyExitCode(online('remote-manifest'))).toBe(VERIFY_EXIT.unregistered); // nothing verified, nothing fetched
    expect(verifyExitCode({ verdict: 'valid', evidence: { ok: false } })).toBe(VERIFY_EXIT.evidenceFailed);
    expect(verifyExitCode({ verdict: 'tampered', evidence: { ok: false } })).toBe(VERIFY_EXIT.tampered);
    expect(verifyExitCode({ verdict: 'unsupported' })).toBe(VERIFY_EXIT.usage);
    const codes = Object.values(VERIFY_EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    // Kept from before: a tampered file exits 1 (scripts and test/integration/cli.test.ts rely on it).
    expect(VERIFY_EXIT.tampered).toBe(1);
  });

  it('never exits 0 on a verified verdict whose standing is missing or unknown', () => {
    expect(verifyExitCode({ verdict: 'verified', standing: null })).not.toBe(0);
    expect(verifyExitCode({ verdict: 'verified', standing: { status: 'lost' } })).not.toBe(0);
    expect(verifyExitCode({ verdict: 'something-new' })).not.toBe(0);
    // A server from before standing.status: its checkpoint and clearance members still decide.
    expect(verifyExitCode({ verdict: 'verified', standing: { checkpoint: { status: 'active' }, clearance: { standing: 'standing' } } })).toBe(0);
    expect(verifyExitCode({ verdict: 'verified', standing: { checkpoint: { status: 'tainted' }, clearance: { standing: 'revoked' } } })).toBe(VERIFY_EXIT.tainted);
  });
});
