// The exit code of `clearframe verify`: one per outcome, so a script can branch without parsing JSON.

/**
 * Exit codes of `clearframe verify` (docs/outputs.md has the table). 1 stays what it was for a tampered
 * file; 2 is the command line's own (bad usage, or the server refused the request).
 */
export const VERIFY_EXIT = {
  /** verified and in good standing (online); a valid manifest whose evidence, if given, holds (offline) */
  ok: 0,
  /** the content no longer matches its signed manifest, or the file does not parse */
  tampered: 1,
  /** bad usage, the server refused the request, or a file type that cannot be verified */
  usage: 2,
  /** verified, but the rights under it have fallen: its checkpoint is tainted or its clearance revoked */
  tainted: 3,
  /** recorded by the ledger and then withdrawn: no rights rest on it */
  withdrawn: 4,
  /** offline: the evidence bundle does not prove that the ledger registered this very file */
  evidenceFailed: 5,
  /** intact, but signed by no trusted anchor */
  untrusted: 6,
  /** not an output this ledger recorded, no manifest at all (recovered or not), or only a remote one (not fetched) */
  unregistered: 7,
} as const;

/** What the exit code reads of a verify answer (online: POST /v1/verify; offline: verifyOffline). */
export type VerifyOutcome = {
  verdict: string;
  standing?: { status?: string; checkpoint?: { status?: string }; clearance?: { standing?: string } } | null;
  evidence?: { ok: boolean } | null;
};

/** Pure: the exit code for an answer. Integrity first, then standing; anything unknown is not a success. */
export function verifyExitCode(r: VerifyOutcome): number {
  switch (r.verdict) {
    case 'valid': // offline: no standing to speak of
      return r.evidence?.ok === false ? VERIFY_EXIT.evidenceFailed : VERIFY_EXIT.ok;
    case 'verified':
      return standingExit(r.standing);
    case 'withdrawn':
      return VERIFY_EXIT.withdrawn;
    case 'tampered':
    case 'damaged':
      return VERIFY_EXIT.tampered;
    case 'untrusted':
      return VERIFY_EXIT.untrusted;
    case 'unregistered':
    case 'no-manifest':
    // Pixels that look like an output are not a verified file: the candidates are in the answer.
    case 'recovered':
    case 'remote-manifest':
      return VERIFY_EXIT.unregistered;
    case 'unsupported':
      return VERIFY_EXIT.usage;
    default:
      return VERIFY_EXIT.usage;
  }
}

function standingExit(standing: VerifyOutcome['standing']): number {
  if (!standing) return VERIFY_EXIT.unregistered; // a verified output always has one; without it nothing is known
  const status =
    standing.status ??
    // a server from before `status`: derived from the members it has always answered
    (standing.checkpoint?.status === 'tainted' || standing.clearance?.standing === 'revoked'
      ? 'tainted'
      : standing.checkpoint?.status && standing.clearance?.standing
        ? 'good'
        : undefined);
  if (status === 'good') return VERIFY_EXIT.ok;
  if (status === 'withdrawn') return VERIFY_EXIT.withdrawn;
  return VERIFY_EXIT.tainted; // tainted, or a status this client does not know: not a success
}
