// When a failed delivery is tried again: pure.

export type RetryPolicy = { baseMs: number; capMs: number; maxAttempts: number };

/**
 * The wait after attempt `attempt` (1 for the first) failed: base × 2^(attempt−1), at most the cap, with
 * "equal jitter" (half fixed, half random) so receivers coming back up are not hit by every sender at once.
 * `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.round(exp / 2 + (exp / 2) * Math.min(Math.max(random, 0), 1));
}

export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** After an attempt: delivered, tried again later, or given up (the last allowed attempt failed). */
export function afterAttempt(attempt: number, result: AttemptResult, policy: RetryPolicy): 'delivered' | 'retry' | 'failed' {
  if (result.ok) return 'delivered';
  return attempt >= policy.maxAttempts ? 'failed' : 'retry';
}

/** A receiver's answer counts as delivered only as a 2xx; a redirect is not followed (it could point anywhere). */
export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}
