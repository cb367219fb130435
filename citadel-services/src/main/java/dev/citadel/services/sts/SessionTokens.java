package dev.citadel.services.sts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AccountId;
import dev.citadel.core.Ids;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.pipeline.Principal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Temporary credentials. Nothing about a session is stored: its session token is the sealed
 * (AES-GCM, bound to the context {@code sts/session-token/v1}) description of the session,
 * including its secret access key, so any node with the root key can verify a request signed with
 * it and nobody else can read or forge one. A token is refused once expired; a changed byte makes
 * it fail to open.
 */
public final class SessionTokens {
    private static final String CONTEXT = "sts/session-token/v1";
    private static final String PREFIX = "CTZ1";
    /** Tokens longer than this are not opened (session policies are bounded, so real tokens are far shorter). */
    public static final int MAX_TOKEN_LENGTH = 32 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Credentials as STS returns them; the secret and token exist in plaintext only here. */
    public record Credentials(String accessKeyId, SecretBytes secretAccessKey, String sessionToken, Instant expiration) {
    }

    /** An opened token: who the session acts as, and the secret that signs its requests. */
    public record Opened(Principal principal, SecretBytes secretAccessKey) {
    }

    private final SecretSealer sealer;
    private final Ids ids;

    public SessionTokens(SecretSealer sealer, Ids ids) {
        this.sealer = sealer;
        this.ids = ids;
    }

    /**
     * Issues credentials for a session acting as {@code type}/{@code arn}. The access key id is made
     * here ({@code ASIA…}) and recorded in the principal.
     */
    public Credentials issue(String type, AccountId account, String principalId, String arn, String name, Map<String, String> tags,
            Principal.Session session) {
        String keyId = ids.iamId("ASIA");
        SecretBytes secret = SecretBytes.ofUtf8(ids.secretAccessKey());
        ObjectNode n = JSON.createObjectNode();
        n.put("k", keyId);
        n.put("s", secret.revealUtf8());
        n.put("t", type);
        n.put("a", account.value());
        n.put("id", principalId);
        n.put("arn", arn);
        n.put("n", name);
        ObjectNode t = n.putObject("tags");
        tags.forEach(t::put);
        n.put("iss", session.issuer());
        n.put("sn", session.sessionName());
        n.put("iat", session.issuedAt().toEpochMilli());
        n.put("exp", session.expiresAt().toEpochMilli());
        session.mfaAt().ifPresent(at -> n.put("mfa", at.toEpochMilli()));
        session.policies().forEach(n.withArray("pol")::add);
        session.policyArns().forEach(n.withArray("parn")::add);
        session.sourceIdentity().ifPresent(s -> n.put("sid", s));
        n.put("ch", session.chained());
        byte[] plain;
        try {
            plain = JSON.writeValueAsBytes(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        SecretBytes sealedInput = SecretBytes.copyOf(plain);
        java.util.Arrays.fill(plain, (byte) 0);
        String token = PREFIX + Base64.getEncoder().encodeToString(sealer.seal(sealedInput, CONTEXT));
        return new Credentials(keyId, secret, token, session.expiresAt());
    }

    /**
     * Opens a token presented with {@code accessKeyId}. Empty when it is not a token of this
     * server, was altered, or belongs to another access key; the caller checks expiry.
     */
    public Optional<Opened> open(String accessKeyId, String token) {
        if (token.length() > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) {
            return Optional.empty();
        }
        try {
            byte[] sealed = Base64.getDecoder().decode(token.substring(PREFIX.length()));
            SecretBytes plain = sealer.unseal(sealed, CONTEXT);
            JsonNode n = JSON.readTree(plain.revealBytes());
            if (!n.path("k").asText().equals(accessKeyId)) {
                return Optional.empty();
            }
            Map<String, String> tags = new LinkedHashMap<>();
            n.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
            List<String> policies = new ArrayList<>();
            n.path("pol").forEach(p -> policies.add(p.asText()));
            List<String> policyArns = new ArrayList<>();
            n.path("parn").forEach(p -> policyArns.add(p.asText()));
            Principal.Session session = new Principal.Session(n.path("iss").asText(), n.path("sn").asText(),
                    Instant.ofEpochMilli(n.path("iat").asLong()), Instant.ofEpochMilli(n.path("exp").asLong()),
                    n.has("mfa") ? Optional.of(Instant.ofEpochMilli(n.get("mfa").asLong())) : Optional.empty(),
                    policies, policyArns, n.has("sid") ? Optional.of(n.get("sid").asText()) : Optional.empty(), n.path("ch").asBoolean());
            Principal principal = new Principal(n.path("t").asText(), new AccountId(n.path("a").asText()), n.path("id").asText(),
                    n.path("arn").asText(), n.path("n").asText(), accessKeyId, tags, Optional.of(session));
            return Optional.of(new Opened(principal, SecretBytes.ofUtf8(n.path("s").asText())));
        } catch (IllegalArgumentException | java.io.IOException e) {
            return Optional.empty();
        }
    }
}
