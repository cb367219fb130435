package dev.citadel.services.ecr;

import dev.citadel.auth.AuthException;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RegistryAuthenticator;
import dev.citadel.services.iam.AccessKeyAuthenticator;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Authenticates registry requests by the ECR token GetAuthorizationToken issued: {@code Basic
 * base64("AWS:" + password)} (what {@code aws ecr get-login-password} piped to a client's login
 * sends), or the password as a Bearer token. The password is {@code <ASIA key id>.<session token>};
 * it stands for the identity that asked for it until it expires.
 */
public final class RegistryTokens implements RegistryAuthenticator {
    private static final int MAX_HEADER = 40 * 1024;

    private final AccessKeyAuthenticator sessions;

    public RegistryTokens(AccessKeyAuthenticator sessions) {
        this.sessions = sessions;
    }

    @Override
    public Principal authenticate(IncomingRequest request) {
        String header = request.header("authorization");
        if (header == null || header.isBlank()) {
            throw new AuthException(AuthException.Kind.MISSING_AUTHENTICATION, "Not Authorized");
        }
        if (header.length() > MAX_HEADER) {
            throw invalid();
        }
        String password;
        if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw invalid();
            }
            int colon = decoded.indexOf(':');
            if (colon < 0 || !decoded.substring(0, colon).equals("AWS")) {
                throw invalid();
            }
            password = decoded.substring(colon + 1);
        } else if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            password = header.substring(7).trim();
        } else {
            throw invalid();
        }
        int dot = password.indexOf('.');
        if (dot <= 0 || dot == password.length() - 1) {
            throw invalid();
        }
        return sessions.sessionPrincipal(password.substring(0, dot), password.substring(dot + 1));
    }

    private static AuthException invalid() {
        return new AuthException(AuthException.Kind.INVALID_SESSION_TOKEN, "Your authorization token is invalid.");
    }
}
