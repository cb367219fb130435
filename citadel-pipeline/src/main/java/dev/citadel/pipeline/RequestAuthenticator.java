package dev.citadel.pipeline;

import dev.citadel.auth.AuthException;
import dev.citadel.auth.HttpRequestView;
import dev.citadel.auth.SigV4Authorization;

/**
 * The authentication step of the pipeline: first the cheap parse of the signature, whose
 * credential scope routes the request, then full SigV4 verification of the request and its body.
 */
public interface RequestAuthenticator {
    /** A parsed, unverified signature and the request view it was read from. */
    record Scope(HttpRequestView view, SigV4Authorization authorization) {
        public String service() {
            return authorization.scope().service();
        }

        public String region() {
            return authorization.scope().region();
        }
    }

    /** Reads the signature without verifying it; throws {@link AuthException} when there is none or it is malformed. */
    Scope scope(IncomingRequest request);

    /** Who signed the request, and its body as the operation must read it (aws-chunked bodies decoded and verified). */
    record Authenticated(Principal principal, byte[] body) {
    }

    /**
     * Verifies the signature over the request and its body; returns who signed it or throws
     * {@link AuthException}.
     *
     * @param s3 whether the addressed service is S3 (paths signed as sent; {@code UNSIGNED-PAYLOAD} and
     *           {@code aws-chunked} bodies allowed)
     */
    Authenticated authenticate(Scope scope, byte[] body, boolean s3);

    /** Who signed a request whose body streams, and the body as the operation reads it (verified as it is read). */
    record StreamingAuthenticated(Principal principal, java.io.InputStream body) {
    }

    /**
     * Verifies the signature over the request and the payload hash it declares, and returns the body
     * as a stream that checks the body against that hash (or decodes and checks aws-chunked framing)
     * as it is read, failing with {@link AuthException} at the point a check fails.
     */
    StreamingAuthenticated authenticateStreaming(Scope scope, java.io.InputStream body, boolean s3);
}
