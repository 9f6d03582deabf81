/**
 * Errors from Google Cloud clients (google-gax, gRPC or REST transport, or the network under them),
 * normalised to a gRPC code, its canonical name, the HTTP status Google maps it to, and a message.
 * Shared by the KMS signer and the Vertex AI tuning adapter.
 */

// prettier-ignore
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
export const HTTP_OF_GRPC = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];
// prettier-ignore
const GRPC_OF_HTTP: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  409: 10,
  429: 8,
  499: 1,
  500: 13,
  501: 12,
  502: 14,
  503: 14,
  504: 4,
};

export interface GoogleRpcFailure {
  grpcCode: number;
  /** Canonical name, e.g. `UNAVAILABLE`. */
  status: string;
  /** The HTTP status Google maps that code to (or the one the REST transport saw). */
  httpStatus: number;
  message: string;
}

/** Normalises a google-gax error from the gRPC or the REST transport (or a network error). */
export function describeGoogleRpcError(err: unknown): GoogleRpcFailure {
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown };
  let message = typeof e.message === 'string' ? e.message : String(err);
  let grpcCode: number | undefined;
  let httpStatus: number | undefined;
  // REST transport: gaxios puts the response body — a Google JSON error — in the message.
  if (message.startsWith('{')) {
    try {
      const body = JSON.parse(message) as { error?: { code?: number; message?: string; status?: string } };
      const idx = GRPC_STATUS_NAMES.indexOf(body.error?.status as (typeof GRPC_STATUS_NAMES)[number]);
      if (idx >= 0) grpcCode = idx;
      if (typeof body.error?.code === 'number') httpStatus = body.error.code;
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // not JSON after all
    }
  }
  if (grpcCode === undefined && typeof e.code === 'number' && e.code >= 0 && e.code <= 16) {
    grpcCode = e.code; // gRPC ServiceError / GoogleError
    if (typeof e.details === 'string' && e.details) message = e.details;
  } else if (grpcCode === undefined && typeof e.code === 'number' && e.code >= 100) {
    httpStatus ??= e.code; // REST transport: HTTP status
    grpcCode = GRPC_OF_HTTP[e.code] ?? (e.code >= 500 ? 14 : 2);
  } else if (grpcCode === undefined && typeof e.code === 'string') {
    grpcCode = /TIMEDOUT|TIMEOUT|ABORT/i.test(e.code) ? 4 : 14; // ECONNREFUSED, ECONNRESET, ENOTFOUND…
  }
  grpcCode ??= 2;
  return {
    grpcCode,
    status: GRPC_STATUS_NAMES[grpcCode] ?? 'UNKNOWN',
    httpStatus: httpStatus ?? HTTP_OF_GRPC[grpcCode] ?? 500,
    message,
  };
}
