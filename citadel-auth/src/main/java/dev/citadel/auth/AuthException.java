package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

/**
 * Why a request failed authentication. The message is safe to show to the client: it never holds
 * a secret, a signature the server computed, or the canonical request.
 */
public final class AuthException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kinds of failure; the pipeline maps each to the error code of the addressed service's family. */
    public enum Kind {
        MISSING_AUTHENTICATION,
        INCOMPLETE_SIGNATURE,
        /** A header signature and a presigned query on one request. */
        AMBIGUOUS_AUTHENTICATION,
        /** A presigned query whose X-Amz-* parameters are missing, repeated or malformed. */
        QUERY_PARAMETERS_MALFORMED,
        /** A presigned request dated later than the allowed skew. */
        PRESIGNED_NOT_YET_VALID,
        UNSUPPORTED_SIGNATURE_VERSION,
        UNKNOWN_ACCESS_KEY,
        SIGNATURE_MISMATCH,
        REQUEST_TIME_TOO_SKEWED,
        PRESIGNED_EXPIRED,
        INVALID_SESSION_TOKEN,
        EXPIRED_SESSION_TOKEN,
        PAYLOAD_HASH_MISMATCH,
        CHUNK_MALFORMED,
        CHUNK_SIGNATURE_MISMATCH,
        TRAILER_CHECKSUM_MISMATCH,
        DECODED_LENGTH_MISMATCH
    }

    private final Kind kind;

    public AuthException(Kind kind, String message) {
        super(requireNonNull(message, "message is null"), null, false, false);
        this.kind = requireNonNull(kind, "kind is null");
    }

    public Kind kind() {
        return kind;
    }
}
