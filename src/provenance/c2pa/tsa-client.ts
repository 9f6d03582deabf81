/**
 * An RFC 3161 time-stamp authority over HTTP (RFC 3161 §3.4: POST application/timestamp-query,
 * answer application/timestamp-reply), behind the small interface the signer uses.
 *
 * The request and the checks of the answer are the pure core in timestamp.ts; this file only adds the
 * nonce, the network and the deadline.
 */
import { randomBytes } from 'node:crypto';

import { encodeTimeStampRequest, parseTimeStampResponse, TimestampError } from './timestamp.ts';

export interface TimestampAuthority {
  /** Where tokens come from, fit for messages (no credentials). */
  readonly name: string;
  /**
   * A TimeStampToken (CMS ContentInfo, DER) over `messageImprint`, a SHA-256 digest. Rejects with a
   * TimestampError when none can be had: a signature must not silently go without its time-stamp.
   */
  stamp(messageImprint: Uint8Array): Promise<Uint8Array>;
}

/** Larger answers are refused (c2pa-rs reads at most 1 MB of a TSA's answer too). */
const MAX_RESPONSE_BYTES = 1_000_000;

export function httpTimestampAuthority(opts: { url: string; timeoutMs: number }): TimestampAuthority {
  const url = new URL(opts.url);
  const name = `${url.protocol}//${url.host}${url.pathname}`;
  return {
    name,
    async stamp(messageImprint) {
      // 64 random bits, as OpenSSL's `ts -query` uses.
      const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`);
      const request = { messageImprint, nonce, certReq: true };
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
          body: encodeTimeStampRequest(request),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
        const why = timedOut ? `no answer within ${opts.timeoutMs} ms` : causeText(err);
        throw new TimestampError('unreachable', `cannot reach the time-stamp authority ${name}: ${why}`, { cause: err });
      }
      let body: Uint8Array;
      try {
        body = await readLimited(res, MAX_RESPONSE_BYTES);
      } catch (err) {
        throw new TimestampError('unreachable', `the time-stamp authority ${name} broke off its answer: ${causeText(err)}`, { cause: err });
      }
      const type = res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (res.status !== 200 || type !== 'application/timestamp-reply') {
        throw new TimestampError('http', `the time-stamp authority ${name} answered HTTP ${res.status} ${type ?? '(no content-type)'}, not application/timestamp-reply`);
      }
      return parseTimeStampResponse(body, request).token;
    },
  };
}

async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new Error(`answer of ${declared} bytes exceeds ${limit}`);
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.length > limit) throw new Error(`answer of ${buf.length} bytes exceeds ${limit}`);
  return buf;
}

/** fetch wraps the socket error (ECONNREFUSED, …) in `cause`. */
function causeText(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
