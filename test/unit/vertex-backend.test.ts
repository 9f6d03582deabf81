import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  type CreateTuningJobInput,
  isTerminalTuningState,
  parseApiEndpoint,
  VertexError,
  type VertexTuningBackend,
  vertexApiEndpoint,
  vertexTuningBackend,
} from '../../src/tuning/vertex.ts';
import { type FakeVertex, startFakeVertex } from '../support/fake-vertex.ts';

const PROJECT = 'upstairs-films';
const LOCATION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;

const input = (over: Partial<CreateTuningJobInput> = {}): CreateTuningJobInput => ({
  project: PROJECT,
  location: LOCATION,
  baseModel: 'gemini-2.5-flash',
  trainingDatasetUri: 'gs://clearframe-datasets/ds_01/train.jsonl',
  validationDatasetUri: 'gs://clearframe-datasets/ds_01/validation.jsonl',
  hyperParameters: { epochCount: 3, learningRateMultiplier: 0.5, adapterSize: 16 },
  displayName: 'stairwell-style-v1',
  labels: { dataset: 'ds_01', production: 'dear-upstairs-neighbors' },
  ...over,
});

describe('Vertex endpoint helpers', () => {
  it('regional endpoints and VERTEX_API_ENDPOINT parsing', () => {
    expect(vertexApiEndpoint('us-central1')).toBe('us-central1-aiplatform.googleapis.com');
    expect(vertexApiEndpoint('global')).toBe('aiplatform.googleapis.com');
    expect(parseApiEndpoint('http://127.0.0.1:8681')).toEqual({ apiEndpoint: '127.0.0.1', port: 8681, protocol: 'http' });
    expect(parseApiEndpoint('europe-west4-aiplatform.googleapis.com')).toEqual({
      apiEndpoint: 'europe-west4-aiplatform.googleapis.com',
      protocol: 'https',
    });
    expect(() => parseApiEndpoint('http://127.0.0.1:1/v1')).toThrow(RangeError);
  });

  it('real Google without credentials: a VertexError UNAUTHENTICATED, no unhandled rejection', async () => {
    const saved = process.env['GOOGLE_APPLICATION_CREDENTIALS'];
    process.env['GOOGLE_APPLICATION_CREDENTIALS'] = '/nonexistent/clearframe-adc.json';
    const b = vertexTuningBackend({ project: PROJECT, location: LOCATION });
    try {
      await expect(b.createTuningJob(input())).rejects.toMatchObject({
        name: 'VertexError',
        rpc: 'CreateTuningJob',
        grpcCode: 16,
        httpStatus: 401,
      });
    } finally {
      await b.close();
      if (saved === undefined) delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
      else process.env['GOOGLE_APPLICATION_CREDENTIALS'] = saved;
    }
  });
});

describe.each(['grpc', 'rest'] as const)('Vertex tuning backend: real GenAiTuningServiceClient (%s) against a local fake', (transport) => {
  let fake: FakeVertex;
  let backend: VertexTuningBackend;

  beforeAll(async () => {
    fake = await startFakeVertex({ transport });
    backend = vertexTuningBackend({ project: PROJECT, location: LOCATION, clientOptions: fake.clientOptions() });
  });
  afterAll(async () => {
    await backend?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it('create: the fake sees the parent, base model, dataset URIs, hyper-parameters, display name, labels', async () => {
    const job = await backend.createTuningJob(input());
    expect(job.name).toMatch(new RegExp(`^${PARENT}/tuningJobs/\\d+$`));
    expect(job.state).toBe('JOB_STATE_PENDING');
    expect(job.baseModel).toBe('gemini-2.5-flash');
    expect(job.tunedModel).toBeUndefined();
    expect(job.error).toBeUndefined();
    expect(Date.parse(job.createTime!)).toBeGreaterThan(Date.now() - 60_000);

    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req).toMatchObject({ transport, rpc: 'CreateTuningJob', parent: PARENT });
    expect(req.headers['x-goog-request-params']).toBe(`parent=${encodeURIComponent(PARENT)}`);
    if (transport === 'rest') expect(req.http).toMatchObject({ method: 'POST', path: `/v1/${PARENT}/tuningJobs` });
    expect(req.tuningJob).toMatchObject({
      baseModel: 'gemini-2.5-flash',
      tunedModelDisplayName: 'stairwell-style-v1',
      labels: { dataset: 'ds_01', production: 'dear-upstairs-neighbors' },
      supervisedTuningSpec: {
        trainingDatasetUri: 'gs://clearframe-datasets/ds_01/train.jsonl',
        validationDatasetUri: 'gs://clearframe-datasets/ds_01/validation.jsonl',
        hyperParameters: { epochCount: '3', learningRateMultiplier: 0.5, adapterSize: 'ADAPTER_SIZE_SIXTEEN' },
      },
    });
  });

  it('get: PENDING → RUNNING → SUCCEEDED, with the tuned model and endpoint', async () => {
    const created = await backend.createTuningJob(input({ validationDatasetUri: undefined, hyperParameters: undefined }));
    expect((await backend.getTuningJob(created.name)).state).toBe('JOB_STATE_PENDING');
    fake.advance(created.name);
    const running = await backend.getTuningJob(created.name);
    expect(running.state).toBe('JOB_STATE_RUNNING');
    expect(isTerminalTuningState(running.state)).toBe(false);
    fake.advance(created.name);
    const done = await backend.getTuningJob(created.name);
    expect(done).toMatchObject({
      name: created.name,
      state: 'JOB_STATE_SUCCEEDED',
      baseModel: 'gemini-2.5-flash',
      tunedModel: {
        model: `projects/${PROJECT}/locations/${LOCATION}/models/123@1`,
        endpoint: `projects/${PROJECT}/locations/${LOCATION}/endpoints/456`,
        checkpoints: [{ checkpointId: '1', epoch: 3, step: 30, endpoint: `projects/${PROJECT}/locations/${LOCATION}/endpoints/456` }],
      },
    });
    expect(done.error).toBeUndefined();
    expect(isTerminalTuningState(done.state)).toBe(true);
    expect(Date.parse(done.updateTime!)).toBeGreaterThanOrEqual(Date.parse(done.createTime!));

    const gets = fake.requests.filter((r) => r.rpc === 'GetTuningJob');
    expect(gets.map((r) => r.name)).toEqual([created.name, created.name, created.name]);
    // what the tuning job was created without is not sent
    const spec = fake.requests[0]!.tuningJob!['supervisedTuningSpec'] as Record<string, unknown>;
    expect(spec['validationDatasetUri'] || undefined).toBeUndefined();
    expect(spec['hyperParameters'] ?? null).toBeNull();
  });

  it('an immediate error (400 INVALID_ARGUMENT) is a VertexError', async () => {
    fake.nextCreate({ kind: 'reject', error: { status: 'INVALID_ARGUMENT', message: 'Unsupported base model: imagen-9' } });
    const err = await backend.createTuningJob(input({ baseModel: 'imagen-9' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VertexError);
    expect(err).toMatchObject({
      rpc: 'CreateTuningJob',
      grpcCode: 3,
      status: 'INVALID_ARGUMENT',
      httpStatus: 400,
      retryable: false,
      message: expect.stringContaining('Unsupported base model: imagen-9'),
    });
    expect(fake.requests.map((r) => r.rpc)).toEqual(['CreateTuningJob']);
  });

  it('an immediate 503 UNAVAILABLE is a retryable VertexError, sent once (CreateTuningJob is not retried)', async () => {
    fake.nextCreate({ kind: 'reject', error: { status: 'UNAVAILABLE', message: 'The service is currently unavailable.' } });
    await expect(backend.createTuningJob(input())).rejects.toMatchObject({
      name: 'VertexError',
      grpcCode: 14,
      status: 'UNAVAILABLE',
      httpStatus: 503,
      retryable: true,
    });
    expect(fake.requests.map((r) => r.rpc)).toEqual(['CreateTuningJob']);
  });

  it('the fake validates like Vertex: a non-gs:// dataset is INVALID_ARGUMENT', async () => {
    await expect(backend.createTuningJob(input({ trainingDatasetUri: 'https://example.com/x.jsonl' }))).rejects.toMatchObject({
      grpcCode: 3,
      httpStatus: 400,
    });
  });

  it('a later failure: the job ends FAILED with the error', async () => {
    fake.nextCreate({ kind: 'failLater', error: { code: 3, message: 'Dataset row 17: missing "contents".' } });
    const created = await backend.createTuningJob(input());
    expect(created.state).toBe('JOB_STATE_PENDING');
    fake.advance(created.name);
    expect((await backend.getTuningJob(created.name)).state).toBe('JOB_STATE_RUNNING');
    fake.advance(created.name);
    const failed = await backend.getTuningJob(created.name);
    expect(failed).toMatchObject({
      state: 'JOB_STATE_FAILED',
      error: { code: 3, message: 'Dataset row 17: missing "contents".' },
    });
    expect(failed.tunedModel).toBeUndefined();
    expect(isTerminalTuningState(failed.state)).toBe(true);
  });

  it('get of an unknown job is a VertexError NOT_FOUND; a GET failure is a VertexError too', async () => {
    await expect(backend.getTuningJob(`${PARENT}/tuningJobs/999`)).rejects.toMatchObject({
      rpc: 'GetTuningJob',
      grpcCode: 5,
      httpStatus: 404,
    });
    const created = await backend.createTuningJob(input());
    fake.failNext('GetTuningJob', { status: 'PERMISSION_DENIED', message: 'aiplatform.tuningJobs.get denied' });
    await expect(backend.getTuningJob(created.name)).rejects.toMatchObject({
      grpcCode: 7,
      httpStatus: 403,
      message: expect.stringContaining('aiplatform.tuningJobs.get denied'),
    });
  });

  it('bad input is refused locally: the fake sees no call', async () => {
    await expect(backend.getTuningJob('tuningJobs/1')).rejects.toThrow(RangeError);
    await expect(backend.getTuningJob(`projects/${PROJECT}/locations/europe-west4/tuningJobs/1`)).rejects.toThrow(/us-central1/);
    await expect(backend.createTuningJob(input({ location: 'europe-west4' }))).rejects.toThrow(RangeError);
    await expect(backend.createTuningJob(input({ project: 'a/b' }))).rejects.toThrow(RangeError);
    await expect(backend.createTuningJob(input({ hyperParameters: { adapterSize: 3 as never } }))).rejects.toThrow(/adapterSize/);
    await expect(backend.createTuningJob(input({ hyperParameters: { epochCount: 0 } }))).rejects.toThrow(/epochCount/);
    await expect(backend.createTuningJob(input({ baseModel: '' }))).rejects.toThrow(/baseModel/);
    expect(fake.requests).toEqual([]);
  });

  it('progression per GET, on a second fake', async () => {
    const auto = await startFakeVertex({ transport, progression: 'onGet' });
    const b = vertexTuningBackend({ project: PROJECT, location: LOCATION, clientOptions: auto.clientOptions() });
    try {
      const created = await b.createTuningJob(input());
      const states = [];
      for (let i = 0; i < 3; i++) states.push((await b.getTuningJob(created.name)).state);
      expect(states).toEqual(['JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED', 'JOB_STATE_SUCCEEDED']);
    } finally {
      await b.close();
      await auto.close();
    }
  });

  it('an unreachable Vertex is a retryable VertexError, not a hang', async () => {
    const gone = await startFakeVertex({ transport });
    const opts = gone.clientOptions();
    await gone.close();
    const b = vertexTuningBackend({
      project: PROJECT,
      location: LOCATION,
      clientOptions: { ...opts, timeoutMs: 2_000 },
    });
    try {
      const err = await b.createTuningJob(input()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VertexError);
      expect((err as VertexError).retryable).toBe(true);
    } finally {
      await b.close();
    }
    await expect(b.getTuningJob(`${PARENT}/tuningJobs/1`)).rejects.toMatchObject({ name: 'VertexError', grpcCode: 1 });
  });
});
