import { verifyConsistency } from './merkle.ts';
import { type Checkpoint, parseCheckpoint, parseVerifierKey, verifyNote } from './signed-note.ts';

/**
 * A log monitor: what catches what the log cannot catch on its own (a rewrite of the whole tree, a tail
 * cut off and the checkpoints re-signed). It keeps the last checkpoint it accepted and, each time it runs,
 * fetches the log's current one, checks its signature with the pinned verifier key, and checks that the
 * new tree extends the old one (RFC 9162 consistency proof): a smaller tree is a rollback, another root
 * for the same size or a proof that fails is a fork. Run from cron by a distributor or an auditor.
 */

/** What the monitor remembers between runs (its --state file). */
export type MonitorState = {
  origin: string;
  /** The signed-note verifier key it trusts: given at the first run, or taken from the log then (pinned). */
  verifierKey: string;
  treeSize: number;
  /** base64 */
  rootHash: string;
  checkpoint: string;
  checkedAt: string;
};

export type MonitorResult =
  | { status: 'first'; treeSize: number; state: MonitorState; keyFromLog: boolean }
  | { status: 'unchanged' | 'consistent'; from: number; treeSize: number; state: MonitorState }
  | { status: 'rolled-back'; from: number; treeSize: number; detail: string }
  | { status: 'forked'; from: number; treeSize: number; detail: string }
  | { status: 'invalid'; detail: string };

/** How the monitor reaches the log: a path of its API (`/v1/audit/checkpoint`, ...) to a response. */
export type LogFetch = (path: string, headers: Record<string, string>) => Promise<Response>;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** One run: the log's current checkpoint against the state of the last run (none: the first run). */
export async function monitorLog(fetchLog: LogFetch, opts: { state?: MonitorState; verifierKey?: string; token?: string; now?: Date }): Promise<MonitorResult> {
  const auth: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const keyFromLog = !opts.verifierKey && !opts.state;
  let verifierKey = opts.verifierKey ?? opts.state?.verifierKey;
  if (!verifierKey) {
    const res = await fetchLog('/v1/audit/key', {});
    if (!res.ok) return { status: 'invalid', detail: `GET /v1/audit/key answered ${res.status}` };
    verifierKey = ((await res.json()) as { vkey: string }).vkey;
  }
  if (opts.state && opts.state.verifierKey !== verifierKey) return { status: 'invalid', detail: 'the verifier key given is not the one the state was kept with' };

  const res = await fetchLog('/v1/audit/checkpoint', {});
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as { detail?: string } | null;
    return { status: 'invalid', detail: `GET /v1/audit/checkpoint answered ${res.status}${problem?.detail ? `: ${problem.detail}` : ''}` };
  }
  const note = await res.text();
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(verifyNote(note, [parseVerifierKey(verifierKey)]).body);
  } catch (e) {
    return { status: 'invalid', detail: `the checkpoint does not verify with the pinned key: ${(e as Error).message}` };
  }
  const next: MonitorState = {
    origin: checkpoint.origin,
    verifierKey,
    treeSize: checkpoint.treeSize,
    rootHash: b64(checkpoint.rootHash),
    checkpoint: note,
    checkedAt: (opts.now ?? new Date()).toISOString(),
  };
  const old = opts.state;
  if (!old) return { status: 'first', treeSize: checkpoint.treeSize, state: next, keyFromLog };
  if (checkpoint.origin !== old.origin) return { status: 'invalid', detail: `the checkpoint is for log "${checkpoint.origin}", the state for "${old.origin}"` };

  const from = old.treeSize;
  const to = checkpoint.treeSize;
  if (to < from) return { status: 'rolled-back', from, treeSize: to, detail: `rolled back from ${from} to ${to} entries: the log now signs a smaller tree than it did` };
  if (to === from) {
    return next.rootHash === old.rootHash
      ? { status: 'unchanged', from, treeSize: to, state: next }
      : { status: 'forked', from, treeSize: to, detail: `two different trees of ${to} entries were signed` };
  }
  if (from === 0) return { status: 'consistent', from, treeSize: to, state: next };
  const proofRes = await fetchLog(`/v1/audit/proofs/consistency?from=${from}&to=${to}`, auth);
  if (!proofRes.ok) return { status: 'invalid', detail: `GET /v1/audit/proofs/consistency answered ${proofRes.status} (a legal or admin token is needed)` };
  const proof = (await proofRes.json()) as { hashes: string[] };
  if (!verifyConsistency(from, to, proof.hashes.map(unb64), unb64(old.rootHash), checkpoint.rootHash)) {
    return { status: 'forked', from, treeSize: to, detail: `the tree of ${to} entries does not extend the one of ${from} this monitor saw: the log was rewritten` };
  }
  return { status: 'consistent', from, treeSize: to, state: next };
}
