/**
 * A fake Vertex AI GenAiTuningService on 127.0.0.1 speaking the real wire protocol of
 * `@google-cloud/aiplatform`'s GenAiTuningServiceClient (v1):
 * - `transport: 'grpc'` (default): gRPC, protobuf messages from the client's own protos.json,
 *   `google.cloud.aiplatform.v1.GenAiTuningService/{CreateTuningJob,GetTuningJob}`;
 * - `transport: 'rest'`: HTTP/1.1 + proto3 JSON, `POST /v1/{parent=projects/*\/locations/*}/tuningJobs`
 *   (body: the TuningJob) and `GET /v1/{name=projects/*\/locations/*\/tuningJobs/*}`.
 *
 * Records every request (so a test can assert the fake saw no call). Outcomes are scripted per
 * created job with `nextCreate()`: `succeed` (default), `failLater` (the job ends FAILED with an
 * error), or `reject` (CreateTuningJob itself answers an error status). Jobs go
 * PENDING → RUNNING → SUCCEEDED | FAILED, one step per `advance(name)` or, with
 * `progression: 'onGet'`, one step per GetTuningJob.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { grpc } from 'google-gax';
import { type FakeTransport, grpcError, listenGrpc, listenHttp, loadGrpcService, metadataObject, readBody, type ScriptedError, sendJson, sendJsonError } from './fake-kms.ts';

export type { ScriptedError } from './fake-kms.ts';

export type FakeVertexRpc = 'CreateTuningJob' | 'GetTuningJob';

export interface RecordedVertexRequest {
  transport: FakeTransport;
  rpc: FakeVertexRpc | 'unknown';
  /** CreateTuningJob */
  parent?: string;
  /** CreateTuningJob: the TuningJob as received (gRPC: proto-loader object; REST: JSON, enums as names). */
  tuningJob?: Record<string, unknown>;
  /** GetTuningJob */
  name?: string;
  headers: Record<string, string>;
  http?: { method: string; path: string; query: Record<string, string> };
}

export interface FakeTunedModel {
  model: string;
  endpoint: string;
  checkpoints?: { checkpointId: string; epoch: number; step: number; endpoint: string }[];
}

export type CreateOutcome =
  | { kind: 'succeed'; tunedModel?: FakeTunedModel }
  | { kind: 'failLater'; error?: { code: number; message: string } }
  | { kind: 'reject'; error: ScriptedError };

export type FakeJobState = 'JOB_STATE_PENDING' | 'JOB_STATE_RUNNING' | 'JOB_STATE_SUCCEEDED' | 'JOB_STATE_FAILED';
const STATE_NUMBER: Record<FakeJobState, number> = {
  JOB_STATE_PENDING: 2,
  JOB_STATE_RUNNING: 3,
  JOB_STATE_SUCCEEDED: 4,
  JOB_STATE_FAILED: 5,
};
const ADAPTER_SIZE_NAMES: Record<number, string> = {
  0: 'ADAPTER_SIZE_UNSPECIFIED',
  1: 'ADAPTER_SIZE_ONE',
  6: 'ADAPTER_SIZE_TWO',
  2: 'ADAPTER_SIZE_FOUR',
  3: 'ADAPTER_SIZE_EIGHT',
  4: 'ADAPTER_SIZE_SIXTEEN',
  5: 'ADAPTER_SIZE_THIRTY_TWO',
};

export interface FakeJob {
  name: string;
  project: string;
  location: string;
  baseModel: string;
  tunedModelDisplayName: string;
  labels: Record<string, string>;
  trainingDatasetUri: string;
  validationDatasetUri: string;
  state: FakeJobState;
  outcome: Exclude<CreateOutcome, { kind: 'reject' }>;
  createTime: Date;
  updateTime: Date;
  startTime?: Date;
  endTime?: Date;
  error?: { code: number; message: string };
  tunedModel?: FakeTunedModel;
}

export interface FakeVertex {
  readonly transport: FakeTransport;
  readonly host: string;
  readonly port: number;
  readonly requests: RecordedVertexRequest[];
  readonly jobs: Map<string, FakeJob>;
  /** Outcome for the next CreateTuningJob (queued; default `succeed`). */
  nextCreate(outcome: CreateOutcome): void;
  /** The next call of `rpc` answers this error status (independent of job outcomes). */
  failNext(rpc: FakeVertexRpc, err: ScriptedError): void;
  /** One step: PENDING → RUNNING → SUCCEEDED | FAILED (per the job's outcome). Returns the new state. */
  advance(name: string): FakeJobState;
  /** Options for `vertexTuningBackend({ clientOptions })`: plaintext, this port, this fake's transport. */
  clientOptions(): { apiEndpoint: string; port: number; protocol: 'http'; fallback: boolean };
  close(): Promise<void>;
}

const PARENT = /^projects\/([^/]+)\/locations\/([^/]+)$/;
const JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/tuningJobs\/([^/]+)$/;
const CREATE_PATH = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/tuningJobs$/;
const GET_PATH = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/tuningJobs\/[^/]+)$/;

type Result<T> = { ok: true; body: T } | { ok: false; error: ScriptedError };

export async function startFakeVertex(opts: { transport?: FakeTransport; progression?: 'manual' | 'onGet' } = {}): Promise<FakeVertex> {
  const transport = opts.transport ?? 'grpc';
  const progression = opts.progression ?? 'manual';
  const requests: RecordedVertexRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const outcomes: CreateOutcome[] = [];
  const failures = new Map<FakeVertexRpc, ScriptedError>();
  let nextId = 7_200_000_000_000_000_000n;

  function scripted(rpc: FakeVertexRpc): ScriptedError | undefined {
    const f = failures.get(rpc);
    if (f) failures.delete(rpc);
    return f;
  }

  function advance(name: string): FakeJobState {
    const job = jobs.get(name);
    if (!job) throw new Error(`fake Vertex: no job ${name}`);
    const now = new Date(Math.max(Date.now(), job.updateTime.getTime() + 1));
    if (job.state === 'JOB_STATE_PENDING') {
      job.state = 'JOB_STATE_RUNNING';
      job.startTime = now;
    } else if (job.state === 'JOB_STATE_RUNNING') {
      job.endTime = now;
      if (job.outcome.kind === 'succeed') {
        job.state = 'JOB_STATE_SUCCEEDED';
        job.tunedModel = job.outcome.tunedModel ?? {
          model: `projects/${job.project}/locations/${job.location}/models/123@1`,
          endpoint: `projects/${job.project}/locations/${job.location}/endpoints/456`,
          checkpoints: [
            {
              checkpointId: '1',
              epoch: 3,
              step: 30,
              endpoint: `projects/${job.project}/locations/${job.location}/endpoints/456`,
            },
          ],
        };
      } else {
        job.state = 'JOB_STATE_FAILED';
        job.error = job.outcome.error ?? {
          code: 3,
          message: 'Tuning failed: the training dataset has rows without a model turn.',
        };
      }
    } else {
      return job.state;
    }
    job.updateTime = now;
    return job.state;
  }

  /** Validates like Vertex does, then creates the job. `tj` is in "proto object" shape. */
  function create(parent: string, tj: Record<string, unknown>): Result<FakeJob> {
    const f = scripted('CreateTuningJob');
    if (f) return { ok: false, error: f };
    const pm = PARENT.exec(parent);
    if (!pm) return { ok: false, error: { status: 'INVALID_ARGUMENT', message: `Invalid parent: ${parent}` } };
    const spec = (tj['supervisedTuningSpec'] ?? null) as Record<string, unknown> | null;
    const baseModel = String(tj['baseModel'] ?? '');
    const training = String(spec?.['trainingDatasetUri'] ?? '');
    const validation = String(spec?.['validationDatasetUri'] ?? '');
    if (!baseModel) return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'base_model is required.' } };
    if (!spec) return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'A tuning spec is required.' } };
    if (!training.startsWith('gs://') || (validation && !validation.startsWith('gs://'))) {
      return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'Dataset URIs must be gs:// URIs.' } };
    }
    const outcome = outcomes.shift() ?? { kind: 'succeed' };
    if (outcome.kind === 'reject') return { ok: false, error: outcome.error };
    const now = new Date();
    const job: FakeJob = {
      name: `${parent}/tuningJobs/${nextId++}`,
      project: pm[1] as string,
      location: pm[2] as string,
      baseModel,
      tunedModelDisplayName: String(tj['tunedModelDisplayName'] ?? ''),
      labels: { ...((tj['labels'] as Record<string, string> | undefined) ?? {}) },
      trainingDatasetUri: training,
      validationDatasetUri: validation,
      state: 'JOB_STATE_PENDING',
      outcome,
      createTime: now,
      updateTime: now,
    };
    jobs.set(job.name, job);
    return { ok: true, body: job };
  }

  function get(name: string): Result<FakeJob> {
    const f = scripted('GetTuningJob');
    if (f) return { ok: false, error: f };
    if (!JOB_NAME.test(name)) return { ok: false, error: { status: 'INVALID_ARGUMENT', message: `Invalid name: ${name}` } };
    const job = jobs.get(name);
    if (!job) return { ok: false, error: { status: 'NOT_FOUND', message: `TuningJob ${name} is not found.` } };
    if (progression === 'onGet') advance(name);
    return { ok: true, body: job };
  }

  // --- gRPC adapter
  const ts = (d: Date) => ({ seconds: String(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1e6 });
  function jobToProto(job: FakeJob): Record<string, unknown> {
    return {
      name: job.name,
      baseModel: job.baseModel,
      tunedModelDisplayName: job.tunedModelDisplayName,
      supervisedTuningSpec: {
        trainingDatasetUri: job.trainingDatasetUri,
        validationDatasetUri: job.validationDatasetUri,
      },
      state: job.state,
      createTime: ts(job.createTime),
      updateTime: ts(job.updateTime),
      ...(job.startTime ? { startTime: ts(job.startTime) } : {}),
      ...(job.endTime ? { endTime: ts(job.endTime) } : {}),
      ...(job.error ? { error: { code: job.error.code, message: job.error.message, details: [] } } : {}),
      labels: job.labels,
      ...(job.tunedModel
        ? {
            tunedModel: {
              model: job.tunedModel.model,
              endpoint: job.tunedModel.endpoint,
              checkpoints: (job.tunedModel.checkpoints ?? []).map((c) => ({
                ...c,
                epoch: String(c.epoch),
                step: String(c.step),
              })),
            },
          }
        : {}),
    };
  }

  type Unary = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => void;
  const grpcImpl: Record<string, Unary> = {
    CreateTuningJob(call, cb) {
      const parent = String(call.request['parent'] ?? '');
      const tuningJob = (call.request['tuningJob'] ?? {}) as Record<string, unknown>;
      requests.push({ transport, rpc: 'CreateTuningJob', parent, tuningJob, headers: metadataObject(call.metadata) });
      const r = create(parent, tuningJob);
      if (!r.ok) return cb(grpcError(r.error));
      cb(null, jobToProto(r.body));
    },
    GetTuningJob(call, cb) {
      const name = String(call.request['name'] ?? '');
      requests.push({ transport, rpc: 'GetTuningJob', name, headers: metadataObject(call.metadata) });
      const r = get(name);
      if (!r.ok) return cb(grpcError(r.error));
      cb(null, jobToProto(r.body));
    },
  };

  // --- REST adapter
  function jobToJson(job: FakeJob, intEnums: boolean): Record<string, unknown> {
    const p = jobToProto(job);
    const iso = (d: Date | undefined) => d?.toISOString();
    return {
      ...p,
      state: intEnums ? STATE_NUMBER[job.state] : job.state,
      createTime: iso(job.createTime),
      updateTime: iso(job.updateTime),
      ...(job.startTime ? { startTime: iso(job.startTime) } : {}),
      ...(job.endTime ? { endTime: iso(job.endTime) } : {}),
      ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
    };
  }

  async function restHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const http = { method: req.method ?? '', path, query };
    const intEnums = (query['$alt'] ?? '').includes('enum-encoding=int');
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      if (raw) body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJsonError(res, { status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' });
      return;
    }
    const cm = req.method === 'POST' ? CREATE_PATH.exec(path) : null;
    const gm = req.method === 'GET' ? GET_PATH.exec(path) : null;
    if (cm) {
      const parent = cm[1] as string;
      // Record enums by name, as the gRPC adapter does.
      const hp = (body['supervisedTuningSpec'] as { hyperParameters?: Record<string, unknown> } | undefined)?.hyperParameters;
      if (hp && typeof hp['adapterSize'] === 'number') hp['adapterSize'] = ADAPTER_SIZE_NAMES[hp['adapterSize']];
      requests.push({ transport, rpc: 'CreateTuningJob', parent, tuningJob: body, headers, http });
      const r = create(parent, body);
      if (!r.ok) return sendJsonError(res, r.error);
      return sendJson(res, 200, jobToJson(r.body, intEnums));
    }
    if (gm) {
      const name = gm[1] as string;
      requests.push({ transport, rpc: 'GetTuningJob', name, headers, http });
      const r = get(name);
      if (!r.ok) return sendJsonError(res, r.error);
      return sendJson(res, 200, jobToJson(r.body, intEnums));
    }
    requests.push({ transport, rpc: 'unknown', headers, http });
    sendJsonError(res, { status: 'NOT_FOUND', message: `No route for ${req.method} ${path}` });
  }

  const server =
    transport === 'grpc'
      ? await listenGrpc(
          loadGrpcService('@google-cloud/aiplatform/build/protos/protos.json', 'google.cloud.aiplatform.v1.GenAiTuningService'),
          grpcImpl as grpc.UntypedServiceImplementation,
        )
      : await listenHttp(restHandler);

  return {
    transport,
    host: '127.0.0.1',
    port: server.port,
    requests,
    jobs,
    nextCreate(outcome) {
      outcomes.push(outcome);
    },
    failNext(rpc, err) {
      failures.set(rpc, err);
    },
    advance,
    clientOptions: () => ({
      apiEndpoint: '127.0.0.1',
      port: server.port,
      protocol: 'http',
      fallback: transport === 'rest',
    }),
    close: server.close,
  };
}
