/** Public surface of the C2PA adapter. */
export {
  activeManifestLabelFromJumbf,
  BytesBlob,
  C2paWasmEngine,
  computeReserveSize,
  createC2paWasmEngine,
  createLocalKeySigner,
  installNodeShims,
  loadC2paWasm,
  NodeFileReaderSync,
  TIMESTAMP_RESERVE,
  TRUST_FAILURE_CODES,
  type C2paWasmEngineOptions,
} from './c2pa-wasm.ts';
export {
  buildCoseSign1,
  CoseSizeError,
  decodeCoseSign1,
  derEcdsaSignatureToRaw,
  rawEcdsaSignatureToDer,
  sigStructure,
  type BuildCoseSign1Options,
  type DecodedCoseSign1,
  type RawSignFn,
} from './cose-sign1.ts';
export { C2paError, type C2paErrorCode } from './errors.ts';
export { matchesMimeType, normalizeMimeType, sniffFamily } from './formats.ts';
export {
  createLocalCa,
  createLocalSigningIdentity,
  derToPem,
  issueSigningCertificate,
  issueTimestampingCertificate,
  OIDS,
  pemToDerList,
  type CreateLocalCaOptions,
  type DistinguishedName,
  type IssueSigningCertificateOptions,
  type LocalCa,
  type SigningCertificate,
} from './local-ca.ts';
export {
  encodeTimeStampRequest,
  parseTimeStampResponse,
  parseTimeStampToken,
  sigTst2Header,
  sigTst2MessageImprint,
  sigTst2Payload,
  TimestampError,
  type GrantedTimeStamp,
  type TimeStampInfo,
  type TimeStampRequest,
} from './timestamp.ts';
export { httpTimestampAuthority, type TimestampAuthority } from './tsa-client.ts';
export {
  allNotAllowed,
  effectiveUse,
  extractTrainingMining,
  TRAINING_MINING_KEYS,
  TRAINING_MINING_LABELS,
  trainingMiningAssertion,
  type TrainingMiningPermission,
} from './training-mining.ts';
export * from './types.ts';
