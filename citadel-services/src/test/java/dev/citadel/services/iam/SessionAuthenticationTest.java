package dev.citadel.services.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.auth.AuthException;
import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.AccountId;
import dev.citadel.core.Ids;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestAuthenticator;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.sts.SessionTokens;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests signed with temporary credentials: accepted while the token lives, ExpiredToken after, refused without their token. */
class SessionAuthenticationTest {
    private static final byte[] BODY = "Action=GetCallerIdentity&Version=2011-06-15".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    private MetadataStore store;
    private final dev.citadel.services.TestSupport.MovableClock clock = new dev.citadel.services.TestSupport.MovableClock();
    private AccessKeyAuthenticator authenticator;
    private SessionTokens.Credentials credentials;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir));
        dev.citadel.services.TestSupport.MarkingSealer sealer = new dev.citadel.services.TestSupport.MarkingSealer();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        SessionTokens tokens = new SessionTokens(sealer, new Ids(new SecureRandom()));
        authenticator = new AccessKeyAuthenticator(directory, tokens, clock, Duration.ofMinutes(15));
        credentials = tokens.issue("IAMUser", new AccountId("111122223333"), "AIDAEXAMPLEEXAMPLE00", "arn:aws:iam::111122223333:user/bob",
                "bob", Map.of(), new Principal.Session("arn:aws:iam::111122223333:user/bob", "", clock.now, clock.now.plusSeconds(900),
                        Optional.empty(), List.of(), List.of(), Optional.empty(), false));
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private RequestAuthenticator.Authenticated call(String accessKeyId, String token) {
        SigV4Signer signer = new SigV4Signer(accessKeyId, credentials.secretAccessKey(), "us-east-1", "sts");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "localhost");
        headers.put("Content-Type", "application/x-www-form-urlencoded");
        if (token != null) {
            headers.put("X-Amz-Security-Token", token);
        }
        Map<String, List<String>> lower = new LinkedHashMap<>();
        signer.signHeaders("POST", "/", "", headers, SigV4.sha256Hex(BODY), clock.now)
                .forEach((k, v) -> lower.put(k.toLowerCase(java.util.Locale.ROOT), List.of(v)));
        IncomingRequest request = new IncomingRequest("POST", "/", "", lower, new ByteArrayInputStream(BODY), BODY.length,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""));
        return authenticator.authenticate(authenticator.scope(request), BODY, false);
    }

    @Test
    void acceptedWhileValidExpiredAfter() {
        RequestAuthenticator.Authenticated ok = call(credentials.accessKeyId(), credentials.sessionToken());
        assertThat(ok.principal().arn()).isEqualTo("arn:aws:iam::111122223333:user/bob");
        assertThat(ok.principal().session()).isPresent();
        clock.now = clock.now.plusSeconds(899);
        assertThat(call(credentials.accessKeyId(), credentials.sessionToken()).principal().accessKeyId()).isEqualTo(credentials.accessKeyId());
        clock.now = clock.now.plusSeconds(1);
        assertThatThrownBy(() -> call(credentials.accessKeyId(), credentials.sessionToken()))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.EXPIRED_SESSION_TOKEN));
    }

    @Test
    void refusedWithoutItsTokenOrWithAnother() {
        assertThatThrownBy(() -> call(credentials.accessKeyId(), null))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.INVALID_SESSION_TOKEN));
        assertThatThrownBy(() -> call(credentials.accessKeyId(), credentials.sessionToken() + "x"))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.INVALID_SESSION_TOKEN));
        assertThatThrownBy(() -> call("ASIAOTHEROTHEROTHER0", credentials.sessionToken()))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.INVALID_SESSION_TOKEN));
    }
}
