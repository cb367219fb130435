package dev.citadel.services.iam;

import dev.citadel.auth.AuthException;
import dev.citadel.auth.AwsChunkedDecoder;
import dev.citadel.auth.VerifiedSignature;
import dev.citadel.auth.HttpRequestView;
import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Parser;
import dev.citadel.auth.SigV4Verifier;
import dev.citadel.core.SecretBytes;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.RequestAuthenticator;
import dev.citadel.services.accounts.AccountDirectory;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates requests signed with an IAM user's access key. The key's sealed secret is
 * unsealed on first use and kept for a short time (30 seconds), so that the hot path does one map
 * lookup instead of a query and a decryption, while a deactivated or deleted key stops working
 * within that time. The body's SHA-256 is always computed here and, when the client also sent
 * {@code x-amz-content-sha256}, must equal it; only S3 may sign {@code UNSIGNED-PAYLOAD} or send an
 * {@code aws-chunked} body, which is decoded here, every chunk signature and trailer checksum
 * verified, before any operation sees it.
 */
public final class AccessKeyAuthenticator implements RequestAuthenticator {
    private static final Duration CACHE_TTL = Duration.ofSeconds(30);
    private static final int CACHE_MAX = 10_000;

    private record Cached(AccountDirectory.ResolvedKey key, long expiresAtNanos) {
    }

    private final AccountDirectory directory;
    private final SigV4Verifier verifier;
    private final dev.citadel.services.sts.SessionTokens sessions;
    private final Clock clock;
    private final ConcurrentHashMap<String, CachedSession> sessionCache = new ConcurrentHashMap<>();

    private record CachedSession(String token, dev.citadel.services.sts.SessionTokens.Opened opened) {
    }
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    public AccessKeyAuthenticator(AccountDirectory directory, dev.citadel.services.sts.SessionTokens sessions, Clock clock, Duration maxSkew) {
        this.directory = directory;
        this.sessions = sessions;
        this.clock = clock;
        this.verifier = new SigV4Verifier(clock, maxSkew);
        directory.onIdentityChange(() -> {
            cache.clear();
            sessionCache.clear();
        });
    }

    @Override
    public Scope scope(IncomingRequest request) {
        HttpRequestView view = new HttpRequestView(request.method(), request.rawPath(), request.rawQuery(), request.headers());
        return new Scope(view, SigV4Parser.parse(view));
    }

    @Override
    public Authenticated authenticate(Scope scope, byte[] body, boolean s3) {
        Caller caller = caller(scope);
        AccountDirectory.ResolvedKey key = caller.key();
        Optional<SecretBytes> token = caller.token();
        String claimed = scope.view().header("x-amz-content-sha256");
        Optional<AwsChunkedDecoder.Mode> chunked = claimed == null ? Optional.empty() : AwsChunkedDecoder.Mode.of(claimed);
        if (s3 && chunked.isPresent()) {
            VerifiedSignature seed = verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, claimed, true);
            return new Authenticated(key.principal(), decodeChunked(scope, chunked.get(), seed, body));
        }
        String bodyHash = SigV4.sha256Hex(body);
        String payloadHash = bodyHash;
        if (claimed != null) {
            boolean literal = claimed.equals(SigV4.UNSIGNED_PAYLOAD);
            if (literal && s3) {
                payloadHash = claimed;
            } else if (!MessageDigest.isEqual(claimed.getBytes(StandardCharsets.US_ASCII), bodyHash.getBytes(StandardCharsets.US_ASCII))) {
                throw new AuthException(AuthException.Kind.PAYLOAD_HASH_MISMATCH,
                        "The provided 'x-amz-content-sha256' header does not match what was computed.");
            }
        }
        verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, payloadHash, s3);
        return new Authenticated(key.principal(), body);
    }

    /** The signing key (long-term, or of a session) and the session token the signature must carry, if any. */
    private record Caller(AccountDirectory.ResolvedKey key, Optional<SecretBytes> token) {
    }

    private Caller caller(Scope scope) {
        String accessKeyId = scope.authorization().scope().accessKeyId();
        AccountDirectory.ResolvedKey key = accessKeyId.startsWith("ASIA") ? session(accessKeyId, scope)
                : resolve(accessKeyId)
                .filter(AccountDirectory.ResolvedKey::active)
                .orElseThrow(() -> new AuthException(AuthException.Kind.UNKNOWN_ACCESS_KEY,
                        "The security token included in the request is invalid."));
        Optional<SecretBytes> token = key.principal().session().isPresent()
                ? Optional.of(SecretBytes.ofUtf8(scope.authorization().securityToken().orElseThrow()))
                : Optional.empty();
        return new Caller(key, token);
    }

    @Override
    public StreamingAuthenticated authenticateStreaming(Scope scope, java.io.InputStream body, boolean s3) {
        Caller caller = caller(scope);
        AccountDirectory.ResolvedKey key = caller.key();
        Optional<SecretBytes> token = caller.token();
        String claimed = scope.view().header("x-amz-content-sha256");
        if (scope.authorization().presigned()) {
            verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, SigV4.UNSIGNED_PAYLOAD, s3);
            return new StreamingAuthenticated(key.principal(), body);
        }
        if (claimed == null) {
            throw new AuthException(AuthException.Kind.PAYLOAD_HASH_MISMATCH, "Missing required header for this request: x-amz-content-sha256");
        }
        Optional<AwsChunkedDecoder.Mode> chunked = AwsChunkedDecoder.Mode.of(claimed);
        if (s3 && chunked.isPresent()) {
            VerifiedSignature seed = verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, claimed, true);
            long decodedLength;
            try {
                decodedLength = Long.parseLong(Optional.ofNullable(scope.view().header("x-amz-decoded-content-length")).orElse("-1"));
            } catch (NumberFormatException e) {
                decodedLength = -1;
            }
            return new StreamingAuthenticated(key.principal(), new AwsChunkedDecoder(body, chunked.get(), Optional.of(seed),
                    Optional.ofNullable(scope.view().header("x-amz-trailer")), decodedLength));
        }
        if (claimed.equals(SigV4.UNSIGNED_PAYLOAD) && s3) {
            verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, claimed, true);
            return new StreamingAuthenticated(key.principal(), body);
        }
        // A signed payload: the signature covers the declared hash, and the stream checks the body against it.
        dev.citadel.auth.PayloadHashVerifyingInputStream verified = new dev.citadel.auth.PayloadHashVerifyingInputStream(body, claimed);
        verifier.verify(scope.view(), scope.authorization(), key.secretAccessKey(), token, claimed, s3);
        return new StreamingAuthenticated(key.principal(), verified);
    }

    private static byte[] decodeChunked(Scope scope, AwsChunkedDecoder.Mode mode, VerifiedSignature seed, byte[] body) {
        long decodedLength;
        try {
            decodedLength = Long.parseLong(Optional.ofNullable(scope.view().header("x-amz-decoded-content-length")).orElse("-1"));
        } catch (NumberFormatException e) {
            decodedLength = -1;
        }
        try (AwsChunkedDecoder in = new AwsChunkedDecoder(new java.io.ByteArrayInputStream(body), mode, Optional.of(seed),
                Optional.ofNullable(scope.view().header("x-amz-trailer")), decodedLength)) {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new AuthException(AuthException.Kind.CHUNK_MALFORMED, "The aws-chunked body could not be read.");
        }
    }

    /**
     * Temporary credentials: the token must be present, open under this server's key for exactly
     * this access key id, and not be expired. An opened token is kept (by access key id, compared
     * in full on each use) until it expires or the cache is cleared.
     */
    private AccountDirectory.ResolvedKey session(String accessKeyId, Scope scope) {
        String token = scope.authorization().securityToken().orElseThrow(() -> new AuthException(AuthException.Kind.INVALID_SESSION_TOKEN,
                "The security token included in the request is invalid."));
        return session(accessKeyId, token);
    }

    /**
     * Who a session token stands for, when it opens for {@code accessKeyId} and has not expired
     * (the container registry's ECR tokens carry one); AuthException otherwise.
     */
    public dev.citadel.pipeline.Principal sessionPrincipal(String accessKeyId, String token) {
        if (!accessKeyId.startsWith("ASIA") || accessKeyId.length() > 128) {
            throw new AuthException(AuthException.Kind.INVALID_SESSION_TOKEN, "The security token included in the request is invalid.");
        }
        return session(accessKeyId, token).principal();
    }

    private AccountDirectory.ResolvedKey session(String accessKeyId, String token) {
        CachedSession cached = sessionCache.get(accessKeyId);
        dev.citadel.services.sts.SessionTokens.Opened opened;
        if (cached != null && MessageDigest.isEqual(cached.token.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            opened = cached.opened;
        } else {
            opened = withRoleTags(sessions.open(accessKeyId, token).orElseThrow(() -> new AuthException(
                    AuthException.Kind.INVALID_SESSION_TOKEN, "The security token included in the request is invalid.")));
            if (sessionCache.size() >= CACHE_MAX) {
                sessionCache.clear();
            }
            sessionCache.put(accessKeyId, new CachedSession(token, opened));
        }
        if (!clock.instant().isBefore(opened.principal().session().orElseThrow().expiresAt())) {
            sessionCache.remove(accessKeyId);
            throw new AuthException(AuthException.Kind.EXPIRED_SESSION_TOKEN, "The security token included in the request is expired");
        }
        return new AccountDirectory.ResolvedKey(opened.principal(), opened.secretAccessKey(), true);
    }

    /** A role session's principal tags: the role's tags, overridden (keys compared without case) by the session tags. */
    private dev.citadel.services.sts.SessionTokens.Opened withRoleTags(dev.citadel.services.sts.SessionTokens.Opened opened) {
        dev.citadel.pipeline.Principal p = opened.principal();
        if (!p.isRoleSession()) {
            return opened;
        }
        java.util.Map<String, String> tags = new java.util.LinkedHashMap<>(directory.tags(p.account().value(), "role", p.name()));
        p.tags().forEach((k, v) -> {
            tags.keySet().removeIf(existing -> existing.equalsIgnoreCase(k));
            tags.put(k, v);
        });
        return new dev.citadel.services.sts.SessionTokens.Opened(new dev.citadel.pipeline.Principal(p.type(), p.account(), p.principalId(),
                p.arn(), p.name(), p.accessKeyId(), tags, p.session()), opened.secretAccessKey());
    }

    private Optional<AccountDirectory.ResolvedKey> resolve(String accessKeyId) {
        long now = System.nanoTime();
        Cached c = cache.get(accessKeyId);
        if (c != null && c.expiresAtNanos - now > 0) {
            return Optional.of(c.key);
        }
        if (accessKeyId.length() > 128) {
            return Optional.empty();
        }
        Optional<AccountDirectory.ResolvedKey> found = directory.resolveAccessKey(accessKeyId);
        if (found.isPresent()) {
            if (cache.size() >= CACHE_MAX) {
                cache.clear();
            }
            cache.put(accessKeyId, new Cached(found.get(), now + CACHE_TTL.toNanos()));
        }
        return found;
    }
}
