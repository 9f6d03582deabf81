// The second thread of full-log verification (src/audit/verify-log.ts): SHA-256 of leaves and of tree
// nodes into shared memory, so that hashing, the whole cost of a verification once the bytes are here,
// runs on two cores. Plain JavaScript on purpose: a worker is started by file name, and a .ts file would
// need a TypeScript loader in the worker, which the test runner and `bin/clearframe.js` do not give it.
// The hashing is RFC 9162's and mirrors merkle.ts (leafHashInto, parentLevel); the verifier's results
// do not depend on which thread hashed what, and its tests run both ways.
import { createHash, hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const digest = typeof hash === 'function' ? (data) => hash('sha256', data, 'buffer') : (data) => createHash('sha256').update(data).digest();
let scratch = Buffer.allocUnsafe(4096);

parentPort.on('message', (job) => {
  if (job.kind === 'leaves') {
    // Leaf i is job.bytes[places[2i] .. places[2i+1]); its hash goes to job.out at job.at + 32i.
    const out = Buffer.from(job.out);
    const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    for (let i = 0; i < job.places.length / 2; i++) {
      const start = job.places[2 * i];
      const end = job.places[2 * i + 1];
      const length = end - start;
      if (scratch.length < length + 1) scratch = Buffer.allocUnsafe(Math.max(length + 1, scratch.length * 2));
      scratch[0] = 0x00;
      bytes.copy(scratch, 1, start, end);
      digest(scratch.subarray(0, length + 1)).copy(out, job.at + i * 32);
    }
  } else if (job.kind === 'parents') {
    // Parents job.from..job.to of the level at job.level in job.shared, into job.parents.
    const level = Buffer.from(job.shared, job.level, job.levelLength);
    const parents = Buffer.from(job.shared, job.parents, job.parentsLength);
    const pair = Buffer.allocUnsafe(65);
    pair[0] = 0x01;
    for (let p = job.from; p < job.to; p++) {
      level.copy(pair, 1, 64 * p, 64 * p + 64);
      digest(pair).copy(parents, 32 * p);
    }
  }
  parentPort.postMessage(job.id);
});
