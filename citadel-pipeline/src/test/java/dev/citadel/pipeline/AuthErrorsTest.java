package dev.citadel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.auth.AuthException;
import dev.citadel.core.AwsException;
import dev.citadel.wire.Protocol;
import org.junit.jupiter.api.Test;

/** Each authentication failure gets the code and status its service family uses. */
class AuthErrorsTest {
    private static AwsException map(AuthException.Kind kind, Protocol protocol) {
        return AuthErrors.toAwsException(new AuthException(kind, "detail"), protocol);
    }

    @Test
    void everyKindMapsForEveryProtocol() {
        for (AuthException.Kind kind : AuthException.Kind.values()) {
            for (Protocol protocol : Protocol.values()) {
                AwsException e = map(kind, protocol);
                assertThat(e.httpStatus()).as("%s %s", kind, protocol).isBetween(400, 499);
                assertThat(e.getMessage()).isNotBlank();
            }
        }
    }

    @Test
    void queryServicesAnswerAsSts() {
        assertThat(map(AuthException.Kind.SIGNATURE_MISMATCH, Protocol.AWS_QUERY).code()).isEqualTo("SignatureDoesNotMatch");
        assertThat(map(AuthException.Kind.UNKNOWN_ACCESS_KEY, Protocol.AWS_QUERY).code()).isEqualTo("InvalidClientTokenId");
        assertThat(map(AuthException.Kind.MISSING_AUTHENTICATION, Protocol.AWS_QUERY).code()).isEqualTo("MissingAuthenticationToken");
        assertThat(map(AuthException.Kind.REQUEST_TIME_TOO_SKEWED, Protocol.AWS_QUERY).getMessage()).isEqualTo("detail");
    }

    @Test
    void jsonServicesAnswerAsKms() {
        AwsException e = map(AuthException.Kind.SIGNATURE_MISMATCH, Protocol.AWS_JSON_1_1);
        assertThat(e.code()).isEqualTo("InvalidSignatureException");
        assertThat(e.httpStatus()).isEqualTo(400);
        assertThat(map(AuthException.Kind.UNKNOWN_ACCESS_KEY, Protocol.AWS_JSON_1_1).code()).isEqualTo("UnrecognizedClientException");
    }

    @Test
    void s3AnswersWithItsOwnCodes() {
        assertThat(map(AuthException.Kind.UNKNOWN_ACCESS_KEY, Protocol.REST_XML).code()).isEqualTo("InvalidAccessKeyId");
        assertThat(map(AuthException.Kind.REQUEST_TIME_TOO_SKEWED, Protocol.REST_XML).code()).isEqualTo("RequestTimeTooSkewed");
        assertThat(map(AuthException.Kind.PAYLOAD_HASH_MISMATCH, Protocol.REST_XML).code()).isEqualTo("XAmzContentSHA256Mismatch");
        assertThat(map(AuthException.Kind.TRAILER_CHECKSUM_MISMATCH, Protocol.REST_XML).code()).isEqualTo("BadDigest");
        assertThat(map(AuthException.Kind.PRESIGNED_EXPIRED, Protocol.REST_XML).getMessage()).isEqualTo("Request has expired");
        assertThat(map(AuthException.Kind.UNSUPPORTED_SIGNATURE_VERSION, Protocol.REST_XML).getMessage()).contains("AWS4-HMAC-SHA256");
    }

    /** The presigned-URL faults S3 names apart; other families fold them into their usual codes. */
    @Test
    void presignedFaultsAnswerAsS3Does() {
        AwsException both = map(AuthException.Kind.AMBIGUOUS_AUTHENTICATION, Protocol.REST_XML);
        assertThat(both.code()).isEqualTo("InvalidArgument");
        assertThat(both.httpStatus()).isEqualTo(400);
        AwsException query = map(AuthException.Kind.QUERY_PARAMETERS_MALFORMED, Protocol.REST_XML);
        assertThat(query.code()).isEqualTo("AuthorizationQueryParametersError");
        assertThat(query.getMessage()).isEqualTo("detail");
        AwsException early = map(AuthException.Kind.PRESIGNED_NOT_YET_VALID, Protocol.REST_XML);
        assertThat(early.code()).isEqualTo("AccessDenied");
        assertThat(early.httpStatus()).isEqualTo(403);
        assertThat(early.getMessage()).isEqualTo("Request is not valid yet");
        assertThat(map(AuthException.Kind.QUERY_PARAMETERS_MALFORMED, Protocol.AWS_QUERY).code()).isEqualTo("IncompleteSignature");
        assertThat(map(AuthException.Kind.PRESIGNED_NOT_YET_VALID, Protocol.AWS_JSON_1_1).code()).isEqualTo("InvalidSignatureException");
    }
}
