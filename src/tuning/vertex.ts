/**
 * Vertex AI supervised tuning through `@google-cloud/aiplatform`'s GenAiTuningServiceClient (v1).
 *
 * Transport: gRPC (the client's default), always with an explicit auth client — Application Default
 * Credentials resolved by this module before the client is built (a missing ADC becomes a VertexError
 * UNAUTHENTICATED instead of the unhandled rejections google-gax's lazy auth produces), or
 * google-auth-library's `PassThroughClient` with plaintext gRPC for a local emulator
 * (`protocol: 'http'`). `fallback: true` selects the REST transport; with google-gax 5.0.x it does not
 * enforce deadlines (see src/signing/kms-signer.ts), so it is opt-in.
 *
 * The client library (and its 4 MB of protos) is loaded on first use, not at import.
 */
import type { v1 as AiplatformV1, protos } from '@google-cloud/aiplatform';
import type { AuthClient } from 'google-auth-library';
import { describeGoogleRpcError, GRPC_STATUS_NAMES, HTTP_OF_GRPC } from '../google/rpc-error.ts';

type ITuningJob = protos.google.cloud.aiplatform.v1.ITuningJob;
type GenAiTuningServiceClient = AiplatformV1.GenAiTuningServiceClient;

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export type TuningJobStateName =
  | 'JOB_STATE_UNSPECIFIED'
  | 'JOB_STATE_QUEUED'
  | 'JOB_STATE_PENDING'
  | 'JOB_STATE_RUNNING'
  | 'JOB_STATE_SUCCEEDED'
  | 'JOB_STATE_FAILED'
  | 'JOB_STATE_CANCELLING'
  | 'JOB_STATE_CANCELLED'
  | 'JOB_STATE_PAUSED'
  | 'JOB_STATE_EXPIRED'
  | 'JOB_STATE_UPDATING'
  | 'JOB_STATE_PARTIALLY_SUCCEEDED';

// Index = the proto enum number.
// prettier-ignore
export const JOB_STATES: readonly TuningJobStateName[] = [
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_QUEUED',
  'JOB_STATE_PENDING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLING',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_PAUSED',
  'JOB_STATE_EXPIRED',
  'JOB_STATE_UPDATING',
  'JOB_STATE_PARTIALLY_SUCCEEDED',
];

export const TERMINAL_TUNING_STATES: ReadonlySet<TuningJobStateName> = new Set([
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_EXPIRED',
  'JOB_STATE_PARTIALLY_SUCCEEDED',
]);

export function isTerminalTuningState(state: TuningJobStateName): boolean {
  return TERMINAL_TUNING_STATES.has(state);
}

/** LoRA adapter size (SupervisedHyperParameters.AdapterSize). */
export type AdapterSize = 1 | 2 | 4 | 8 | 16 | 32;
const ADAPTER_SIZE_ENUM: Record<AdapterSize, string> = {
  1: 'ADAPTER_SIZE_ONE',
  2: 'ADAPTER_SIZE_TWO',
  4: 'ADAPTER_SIZE_FOUR',
  8: 'ADAPTER_SIZE_EIGHT',
  16: 'ADAPTER_SIZE_SIXTEEN',
  32: 'ADAPTER_SIZE_THIRTY_TWO',
};

export interface TuningHyperParameters {
  epochCount?: number;
  learningRateMultiplier?: number;
  adapterSize?: AdapterSize;
}

export interface CreateTuningJobInput {
  project: string;
  location: string;
  /** e.g. `gemini-2.5-flash` (or a `projects/.../models/...` name). */
  baseModel: string;
  /** `gs://bucket/train.jsonl` */
  trainingDatasetUri: string;
  validationDatasetUri?: string;
  hyperParameters?: TuningHyperParameters;
  /** Becomes `tunedModelDisplayName`. */
  displayName?: string;
  labels?: Record<string, string>;
}

export interface TunedModelCheckpoint {
  checkpointId: string;
  epoch: number;
  step: number;
  endpoint: string;
}

export interface TuningJobState {
  /** `projects/{project}/locations/{location}/tuningJobs/{id}` */
  name: string;
  state: TuningJobStateName;
  error?: { code: number; message: string };
  tunedModel?: { model: string; endpoint: string; checkpoints?: TunedModelCheckpoint[] };
  /** RFC 3339 */
  createTime?: string;
  updateTime?: string;
  baseModel: string;
}

export interface TuningBackend {
  createTuningJob(input: CreateTuningJobInput): Promise<TuningJobState>;
  getTuningJob(name: string): Promise<TuningJobState>;
}

// ---------------------------------------------------------------------------------------------
// Errors

export type VertexRpc = 'CreateTuningJob' | 'GetTuningJob';

/** Vertex AI (or the way to it) failed. The service answers 502 for these. */
export class VertexError extends Error {
  override readonly name = 'VertexError';
  constructor(
    readonly rpc: VertexRpc,
    /** gRPC status code (google.rpc.Code). */
    readonly grpcCode: number,
    message: string,
    options?: { cause?: unknown; httpStatus?: number },
  ) {
    super(message, options);
    this.httpStatus = options?.httpStatus ?? HTTP_OF_GRPC[grpcCode] ?? 500;
  }
  /** The HTTP status Vertex answered (REST) or Google's mapping of `grpcCode`. */
  readonly httpStatus: number;
  /** Canonical status name, e.g. `INVALID_ARGUMENT`. */
  get status(): string {
    return GRPC_STATUS_NAMES[this.grpcCode] ?? 'UNKNOWN';
  }
  /** UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. CreateTuningJob is not idempotent: a retry may duplicate a job. */
  get retryable(): boolean {
    return this.grpcCode === 14 || this.grpcCode === 4 || this.grpcCode === 8;
  }
}

/** A google-gax error of either transport (or a network error) → VertexError. */
export function toVertexError(rpc: VertexRpc, err: unknown): VertexError {
  if (err instanceof VertexError) return err;
  const f = describeGoogleRpcError(err);
  return new VertexError(rpc, f.grpcCode, `Vertex AI ${rpc}: ${f.status}: ${f.message}`, { cause: err, httpStatus: f.httpStatus });
}

// ---------------------------------------------------------------------------------------------
// Client configuration

export interface VertexClientOptions {
  /** Host, no scheme. Default: the regional endpoint `{location}-aiplatform.googleapis.com`. */
  apiEndpoint?: string;
  port?: number;
  /** `http`: plaintext local emulator. Default `https`. */
  protocol?: 'http' | 'https';
  /** `true`: REST transport. Default gRPC. */
  fallback?: boolean;
  /** Explicit auth client. Default: PassThroughClient for `http`, else ADC resolved on first use. */
  authClient?: AuthClient;
  /** Per-call deadline, default 60 s. */
  timeoutMs?: number;
}

/** The regional Vertex AI endpoint for a location (`global` → `aiplatform.googleapis.com`). */
export function vertexApiEndpoint(location: string): string {
  return location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
}

/**
 * `http://127.0.0.1:8681` → `{ apiEndpoint: '127.0.0.1', port: 8681, protocol: 'http' }`;
 * `https://host[:port]` or a bare `host[:port]` → https. For a VERTEX_API_ENDPOINT setting.
 */
export function parseApiEndpoint(value: string): Pick<VertexClientOptions, 'apiEndpoint' | 'port' | 'protocol'> {
  const url = new URL(/^[a-z]+:\/\//i.test(value) ? value : `https://${value}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`unsupported endpoint ${value}`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new RangeError(`an API endpoint is a host and port, not a URL with a path: ${value}`);
  }
  return {
    apiEndpoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    protocol: url.protocol === 'http:' ? 'http' : 'https',
  };
}

// ---------------------------------------------------------------------------------------------
// Mapping

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/tuningJobs\/([^/]+)$/;

function timestamp(t: protos.google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (!t || t.seconds === null || t.seconds === undefined) return undefined;
  const ms = Number(t.seconds.toString()) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

const int = (v: number | string | { toString(): string } | null | undefined): number => (v === null || v === undefined ? 0 : Number(typeof v === 'object' ? v.toString() : v));

export function tuningJobState(job: ITuningJob): TuningJobState {
  const rawState = job.state as unknown;
  const state: TuningJobStateName =
    typeof rawState === 'number'
      ? (JOB_STATES[rawState] ?? 'JOB_STATE_UNSPECIFIED')
      : JOB_STATES.includes(rawState as TuningJobStateName)
        ? (rawState as TuningJobStateName)
        : 'JOB_STATE_UNSPECIFIED';
  const out: TuningJobState = { name: job.name ?? '', state, baseModel: job.baseModel ?? '' };
  if (job.error && (job.error.code || job.error.message)) {
    out.error = { code: job.error.code ?? 2, message: job.error.message ?? '' };
  }
  const tm = job.tunedModel;
  if (tm && (tm.model || tm.endpoint)) {
    out.tunedModel = { model: tm.model ?? '', endpoint: tm.endpoint ?? '' };
    if (tm.checkpoints?.length) {
      out.tunedModel.checkpoints = tm.checkpoints.map((c) => ({
        checkpointId: c.checkpointId ?? '',
        epoch: int(c.epoch),
        step: int(c.step),
        endpoint: c.endpoint ?? '',
      }));
    }
  }
  const createTime = timestamp(job.createTime);
  if (createTime) out.createTime = createTime;
  const updateTime = timestamp(job.updateTime);
  if (updateTime) out.updateTime = updateTime;
  return out;
}

function tuningJobRequest(input: CreateTuningJobInput): ITuningJob {
  const hp = input.hyperParameters;
  const hyperParameters: Record<string, unknown> = {};
  if (hp?.epochCount !== undefined) {
    if (!Number.isSafeInteger(hp.epochCount) || hp.epochCount < 1) throw new RangeError('epochCount must be a positive integer');
    hyperParameters['epochCount'] = hp.epochCount;
  }
  if (hp?.learningRateMultiplier !== undefined) {
    if (!(hp.learningRateMultiplier > 0) || !Number.isFinite(hp.learningRateMultiplier)) {
      throw new RangeError('learningRateMultiplier must be a positive number');
    }
    hyperParameters['learningRateMultiplier'] = hp.learningRateMultiplier;
  }
  if (hp?.adapterSize !== undefined) {
    const e = ADAPTER_SIZE_ENUM[hp.adapterSize];
    if (!e) throw new RangeError('adapterSize must be 1, 2, 4, 8, 16 or 32');
    hyperParameters['adapterSize'] = e;
  }
  if (!input.baseModel) throw new RangeError('baseModel is required');
  if (!input.trainingDatasetUri) throw new RangeError('trainingDatasetUri is required');
  return {
    baseModel: input.baseModel,
    supervisedTuningSpec: {
      trainingDatasetUri: input.trainingDatasetUri,
      ...(input.validationDatasetUri ? { validationDatasetUri: input.validationDatasetUri } : {}),
      ...(Object.keys(hyperParameters).length ? { hyperParameters } : {}),
    },
    ...(input.displayName ? { tunedModelDisplayName: input.displayName } : {}),
    ...(input.labels && Object.keys(input.labels).length ? { labels: { ...input.labels } } : {}),
  } as ITuningJob;
}

// ---------------------------------------------------------------------------------------------

export interface VertexTuningBackend extends TuningBackend {
  readonly project: string;
  readonly location: string;
  /** Closes the client (its gRPC channel). Later calls fail. */
  close(): Promise<void>;
}

export interface VertexTuningBackendOptions {
  /** Default project; `createTuningJob` input names its own. */
  project: string;
  /** The location this backend's (regional) endpoint serves; jobs in other locations are refused. */
  location: string;
  clientOptions?: VertexClientOptions;
}

export function vertexTuningBackend(opts: VertexTuningBackendOptions): VertexTuningBackend {
  const { project, location } = opts;
  if (!SEGMENT.test(project)) throw new RangeError(`bad Vertex project: ${project}`);
  if (!SEGMENT.test(location)) throw new RangeError(`bad Vertex location: ${location}`);
  const co = opts.clientOptions ?? {};
  const callOptions = { timeout: co.timeoutMs ?? 60_000 };
  let clientPromise: Promise<GenAiTuningServiceClient> | undefined;
  let closed = false;

  async function buildClient(rpc: VertexRpc): Promise<GenAiTuningServiceClient> {
    const local = co.protocol === 'http';
    const [{ v1 }, { grpc }, gauth] = await Promise.all([import('@google-cloud/aiplatform'), import('google-gax'), import('google-auth-library')]);
    let authClient = co.authClient;
    if (!authClient && local) authClient = new gauth.PassThroughClient();
    if (!authClient) {
      try {
        authClient = await new gauth.GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient();
      } catch (err) {
        throw new VertexError(rpc, 16, `Vertex AI: ${(err as Error).message}`, { cause: err });
      }
    }
    return new v1.GenAiTuningServiceClient({
      apiEndpoint: co.apiEndpoint ?? vertexApiEndpoint(location),
      ...(co.port ? { port: co.port } : {}),
      authClient,
      ...(co.fallback ? { fallback: true, ...(co.protocol ? { protocol: co.protocol } : {}) } : local ? { sslCreds: grpc.credentials.createInsecure() } : {}),
    });
  }

  function client(rpc: VertexRpc): Promise<GenAiTuningServiceClient> {
    if (closed) return Promise.reject(new VertexError(rpc, 1, 'Vertex AI backend is closed'));
    clientPromise ??= buildClient(rpc).catch((err: unknown) => {
      clientPromise = undefined; // e.g. ADC missing now, present later
      throw err;
    });
    return clientPromise;
  }

  function checkLocation(l: string, what: string): void {
    if (l !== location) {
      throw new RangeError(`${what} is in location ${l}; this Vertex backend serves ${location}`);
    }
  }

  return {
    project,
    location,
    async createTuningJob(input) {
      if (!SEGMENT.test(input.project)) throw new RangeError(`bad Vertex project: ${input.project}`);
      if (!SEGMENT.test(input.location)) throw new RangeError(`bad Vertex location: ${input.location}`);
      checkLocation(input.location, 'the tuning job');
      const tuningJob = tuningJobRequest(input);
      const c = await client('CreateTuningJob');
      try {
        const [job] = await c.createTuningJob({ parent: `projects/${input.project}/locations/${input.location}`, tuningJob }, callOptions);
        return tuningJobState(job);
      } catch (err) {
        throw toVertexError('CreateTuningJob', err);
      }
    },
    async getTuningJob(name) {
      const m = JOB_NAME.exec(name);
      if (!m) throw new RangeError(`not a tuning job name: ${name}`);
      checkLocation(m[2] as string, name);
      const c = await client('GetTuningJob');
      try {
        const [job] = await c.getTuningJob({ name }, callOptions);
        return tuningJobState(job);
      } catch (err) {
        throw toVertexError('GetTuningJob', err);
      }
    },
    async close() {
      closed = true;
      const p = clientPromise;
      clientPromise = undefined;
      if (p) await (await p.catch(() => undefined))?.close();
    },
  };
}
