import { describe, expect, it } from 'vitest';
import { readRefusal } from '../../src/outputs/problems.ts';
import { C2paError, READ_ERROR_CLASS, readError } from '../../src/provenance/c2pa/errors.ts';

/** The variants of c2pa-rs's `Error` (sdk/src/error.rs at 24d17555beafb70c15e1e1e4054ac3c06fbba1c0). */
const C2PA_RS_ERRORS = `ClaimMissing AssertionMissing AssertionEncoding AssertionDecoding AssertionInvalidRedaction
AssertionRedactionNotFound AssertionSpecificError BadParam OperationCancelled ValidationRule NotImplemented ClaimEncoding
ClaimDecoding ClaimUnsigned ClaimMissingSignatureBox ClaimVersion ClaimInvalidContent ClaimMissingHardBinding
ClaimMultipleHardBinding ClaimSelfRedact ClaimDisallowedRedaction UpdateManifestInvalid TooManyManifestStores
TooManyAssertions CoseSignatureAlgorithmNotSupported CoseX5ChainMissing CoseInvalidCert CoseSignature CoseVerifier
CoseTimeStampGeneration CoseSigboxTooSmall CoseNoCerts JumbfCreationError ThreadReceiveError JumbfNotFound
JumbfBoxNotFound RemoteManifestFetch RemoteManifestUrl FailedToRemoteSign NotFound UnsupportedType
UnsupportedThumbnailFormat MissingSignerSettings MissingAutoCreatedActionSourceType EmbeddingError IngredientNotFound
FileNotFound ResourceNotFound XmpReadError XmpWriteError XmpNotSupported ProvenanceMissing HashMismatch
CyclicIngredients ClaimVerification PdfReadError InvalidClaim InvalidAsset JumbfParseError VerifiableCredentialInvalid
InvalidEcdsaSignature MissingDataBox XmlWriteError UnknownAlgorithm InvalidSigningKey Utf8Error HttpError
HttpResolverError TryFromIntError IoError JsonError ImageError CborError TomlSerializationError OtherError
PrereleaseError VersionCompatibility InsufficientMemory TimeStampError RawSignatureValidationError RawSignerError
CertificateProfileError CertificateTrustError InvalidCertificateError InternalError C2PAValidation InvalidManifest
BmffError GifError JpegError Mp3Error FlacError PdfError PngError RiffError SvgError TiffError`.split(/\s+/);

/** c2pa-rs failing in itself, not over the file: these alone are a 500. */
const ENGINE_OWN = ['OperationCancelled', 'NotImplemented', 'ThreadReceiveError', 'InsufficientMemory', 'InternalError'];

// Issue 21: every c2pa-rs error class has a verdict, so a file that parses never gets a 5xx.
describe('c2pa-rs read errors as verdicts', () => {
  it('classifies every variant of c2pa-rs Error explicitly', () => {
    expect(C2PA_RS_ERRORS.filter((v) => !(v in READ_ERROR_CLASS))).toEqual([]);
  });

  it.each(C2PA_RS_ERRORS)('%s', (variant) => {
    const refused = readRefusal(readError(`C2pa(${variant})`));
    if (ENGINE_OWN.includes(variant)) expect(refused).toBeUndefined();
    else expect(['damaged', 'remote-manifest']).toContain(refused?.verdict);
  });

  it('gives a remote manifest its URL, and c2pa-rs codes where it has them', () => {
    const remote = readError('C2pa(RemoteManifestUrl("https://cai-manifests.adobe.com/manifests/x"))');
    expect({ code: remote.code, url: remote.remoteUrl, codes: remote.validationCodes }).toEqual({
      code: 'remote_manifest',
      url: 'https://cai-manifests.adobe.com/manifests/x',
      codes: ['manifest.inaccessible'],
    });
    expect(readError('C2pa(UnknownAlgorithm)').validationCodes).toEqual(['algorithm.unsupported']);
    expect(readError('C2pa(SomethingNewer("x"))').code).toBe('manifest_parse_error');
  });

  it('leaves what is not a c2pa-rs error (a wasm trap) to the engine: a 500', () => {
    const trap = readError(new Error('RuntimeError: unreachable'));
    expect(trap).toBeInstanceOf(C2paError);
    expect(trap.code).toBe('engine_error');
    expect(readRefusal(trap)).toBeUndefined();
  });
});
