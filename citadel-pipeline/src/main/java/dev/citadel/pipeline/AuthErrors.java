package dev.citadel.pipeline;

import dev.citadel.auth.AuthException;
import dev.citadel.core.AwsException;
import dev.citadel.wire.Protocol;

/**
 * Turns an authentication failure into the error the real service gives for it. The families
 * differ: query services (STS, IAM) answer {@code SignatureDoesNotMatch} with 403, JSON services
 * (KMS, Organizations, SageMaker) {@code InvalidSignatureException} with 400, and S3 has codes of
 * its own ({@code InvalidAccessKeyId}, {@code RequestTimeTooSkewed}, …).
 */
public final class AuthErrors {
    static final String SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    static final String INVALID_TOKEN = "The security token included in the request is invalid.";
    static final String SIGV2 = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";

    private AuthErrors() {
    }

    public static AwsException toAwsException(AuthException e, Protocol protocol) {
        return switch (protocol) {
            case AWS_QUERY -> query(e);
            case REST_XML -> s3(e);
            case AWS_JSON_1_0, AWS_JSON_1_1, REST_JSON_1 -> json(e);
            case OCI_DISTRIBUTION -> registry(e);
        };
    }

    /** The registry answers every authentication failure with 401 and a challenge, as Docker clients expect. */
    private static AwsException registry(AuthException e) {
        String message = switch (e.kind()) {
            case EXPIRED_SESSION_TOKEN -> "Your authorization token has expired. Reauthenticate and try again.";
            case MISSING_AUTHENTICATION -> "Not Authorized";
            default -> "Your authorization token is invalid.";
        };
        return new AwsException("UNAUTHORIZED", 401, message);
    }

    /** A request whose credential scope names a service or region this server does not answer. */
    public static AwsException wrongScope(Protocol protocol, String message) {
        return switch (protocol) {
            case AWS_QUERY, REST_XML -> new AwsException("SignatureDoesNotMatch", 403, message);
            case AWS_JSON_1_0, AWS_JSON_1_1, REST_JSON_1 -> new AwsException("InvalidSignatureException", 400, message);
            case OCI_DISTRIBUTION -> new AwsException("UNAUTHORIZED", 401, message);
        };
    }

    private static final String EXPIRED_TOKEN = "The security token included in the request is expired";

    private static AwsException query(AuthException e) {
        return switch (e.kind()) {
            case MISSING_AUTHENTICATION -> new AwsException("MissingAuthenticationToken", 403, "Request is missing Authentication Token");
            case INCOMPLETE_SIGNATURE, AMBIGUOUS_AUTHENTICATION, QUERY_PARAMETERS_MALFORMED, CHUNK_MALFORMED, DECODED_LENGTH_MISMATCH ->
                    new AwsException("IncompleteSignature", 400, e.getMessage());
            case UNSUPPORTED_SIGNATURE_VERSION -> new AwsException("IncompleteSignature", 400, SIGV2);
            case UNKNOWN_ACCESS_KEY, INVALID_SESSION_TOKEN -> new AwsException("InvalidClientTokenId", 403, INVALID_TOKEN);
            case SIGNATURE_MISMATCH, PAYLOAD_HASH_MISMATCH, CHUNK_SIGNATURE_MISMATCH, TRAILER_CHECKSUM_MISMATCH ->
                    new AwsException("SignatureDoesNotMatch", 403, SIGNATURE_MISMATCH);
            case REQUEST_TIME_TOO_SKEWED -> new AwsException("SignatureDoesNotMatch", 403, e.getMessage());
            case PRESIGNED_EXPIRED -> new AwsException("SignatureDoesNotMatch", 403, "Request has expired");
            case PRESIGNED_NOT_YET_VALID -> new AwsException("SignatureDoesNotMatch", 403, e.getMessage());
            case EXPIRED_SESSION_TOKEN -> new AwsException("ExpiredToken", 403, EXPIRED_TOKEN);
        };
    }

    private static AwsException json(AuthException e) {
        return switch (e.kind()) {
            case MISSING_AUTHENTICATION -> new AwsException("MissingAuthenticationTokenException", 403, "Missing Authentication Token");
            case INCOMPLETE_SIGNATURE, AMBIGUOUS_AUTHENTICATION, QUERY_PARAMETERS_MALFORMED, CHUNK_MALFORMED, DECODED_LENGTH_MISMATCH ->
                    new AwsException("IncompleteSignatureException", 400, e.getMessage());
            case UNSUPPORTED_SIGNATURE_VERSION -> new AwsException("IncompleteSignatureException", 400, SIGV2);
            case UNKNOWN_ACCESS_KEY, INVALID_SESSION_TOKEN -> new AwsException("UnrecognizedClientException", 400, INVALID_TOKEN);
            case SIGNATURE_MISMATCH, PAYLOAD_HASH_MISMATCH, CHUNK_SIGNATURE_MISMATCH, TRAILER_CHECKSUM_MISMATCH ->
                    new AwsException("InvalidSignatureException", 400, SIGNATURE_MISMATCH);
            case REQUEST_TIME_TOO_SKEWED, PRESIGNED_EXPIRED, PRESIGNED_NOT_YET_VALID -> new AwsException("InvalidSignatureException", 400, e.getMessage());
            case EXPIRED_SESSION_TOKEN -> new AwsException("ExpiredTokenException", 400, EXPIRED_TOKEN);
        };
    }

    private static AwsException s3(AuthException e) {
        return switch (e.kind()) {
            case MISSING_AUTHENTICATION -> new AwsException("AccessDenied", 403, "Access Denied");
            case INCOMPLETE_SIGNATURE -> new AwsException("AuthorizationHeaderMalformed", 400, e.getMessage());
            case AMBIGUOUS_AUTHENTICATION -> new AwsException("InvalidArgument", 400, e.getMessage());
            case QUERY_PARAMETERS_MALFORMED -> new AwsException("AuthorizationQueryParametersError", 400, e.getMessage());
            case UNSUPPORTED_SIGNATURE_VERSION -> new AwsException("InvalidRequest", 400, SIGV2);
            case UNKNOWN_ACCESS_KEY -> new AwsException("InvalidAccessKeyId", 403,
                    "The AWS Access Key Id you provided does not exist in our records.");
            case INVALID_SESSION_TOKEN -> new AwsException("InvalidToken", 400, "The provided token is malformed or otherwise invalid.");
            case SIGNATURE_MISMATCH, CHUNK_SIGNATURE_MISMATCH -> new AwsException("SignatureDoesNotMatch", 403, SIGNATURE_MISMATCH);
            case PAYLOAD_HASH_MISMATCH -> new AwsException("XAmzContentSHA256Mismatch", 400,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.");
            case TRAILER_CHECKSUM_MISMATCH -> new AwsException("BadDigest", 400,
                    "The checksum you specified did not match the calculated checksum.");
            case CHUNK_MALFORMED, DECODED_LENGTH_MISMATCH -> new AwsException("IncompleteBody", 400,
                    "You did not provide the number of bytes specified by the Content-Length HTTP header.");
            case REQUEST_TIME_TOO_SKEWED -> new AwsException("RequestTimeTooSkewed", 403,
                    "The difference between the request time and the current time is too large.");
            case PRESIGNED_EXPIRED -> new AwsException("AccessDenied", 403, "Request has expired");
            case PRESIGNED_NOT_YET_VALID -> new AwsException("AccessDenied", 403, "Request is not valid yet");
            case EXPIRED_SESSION_TOKEN -> new AwsException("ExpiredToken", 400, "The provided token has expired.");
        };
    }
}
