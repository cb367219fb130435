package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The AWS Signature Version 4 test suite (aws-c-auth's v4 cases, in ../shared/testdata/sigv4/v4):
 * for header and query signing, the canonical request, string to sign and signature match; the
 * verifier accepts each signed request and refuses it with one character changed.
 */
class SigV4TestSuiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Case(String name, Path dir, JsonNode context) {
        @Override
        public String toString() {
            return name;
        }

        String read(String file) {
            try {
                return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        boolean has(String file) {
            return Files.exists(dir.resolve(file));
        }

        Instant timestamp() {
            return Instant.parse(context.path("timestamp").asText());
        }

        boolean normalize() {
            return context.path("normalize").asBoolean(true);
        }

        SecretBytes secret() {
            return SecretBytes.ofUtf8(context.path("credentials").path("secret_access_key").asText());
        }

        Optional<SecretBytes> token() {
            JsonNode t = context.path("credentials").path("token");
            return t.isMissingNode() ? Optional.empty() : Optional.of(SecretBytes.ofUtf8(t.asText()));
        }
    }

    /** A request file: method, raw path, raw query, headers (folded lines joined), body. */
    record Parsed(HttpRequestView view, String body) {
    }

    static Stream<Case> cases() throws IOException {
        Path dir = TestData.root().resolve("sigv4/v4");
        List<Case> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(dir)) {
            for (Path d : dirs.sorted().toList()) {
                out.add(new Case(d.getFileName().toString(), d, JSON.readTree(d.resolve("context.json").toFile())));
            }
        }
        return out.stream();
    }

    @Test
    void suiteHasAll38Cases() throws IOException {
        assertThat(cases().count()).isEqualTo(38);
    }

    static Parsed parse(String text) {
        String[] parts = text.split("\n\n", 2);
        String body = parts.length > 1 ? parts[1] : "";
        String[] lines = parts[0].split("\n");
        String[] requestLine = lines[0].split(" ");
        String target = lines[0].substring(requestLine[0].length() + 1, lines[0].lastIndexOf(" HTTP/"));
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String lastName = null;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if ((line.startsWith(" ") || line.startsWith("\t")) && lastName != null) {
                List<String> values = headers.get(lastName);
                values.set(values.size() - 1, values.getLast() + " " + line.strip());
                continue;
            }
            int colon = line.indexOf(':');
            lastName = line.substring(0, colon).toLowerCase(Locale.ROOT);
            headers.computeIfAbsent(lastName, k -> new ArrayList<>()).add(line.substring(colon + 1));
        }
        return new Parsed(new HttpRequestView(requestLine[0], path, query, headers), body);
    }

    private static String payloadHash(Parsed p) {
        return SigV4.sha256Hex(p.body().getBytes(StandardCharsets.UTF_8));
    }

    private static SigV4Verifier verifier(Case c) {
        return new SigV4Verifier(Clock.fixed(c.timestamp(), ZoneOffset.UTC), Duration.ofMinutes(15));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSigningMatchesTheSuite(Case c) {
        Parsed signed = parse(c.read("header-signed-request.txt"));
        SigV4Authorization auth = SigV4Parser.parse(signed.view());
        String canonical = CanonicalRequest.build(signed.view(), auth.signedHeaders(), payloadHash(signed), c.normalize(), true);
        assertThat(canonical).isEqualTo(c.read("header-canonical-request.txt"));
        String sts = SigV4.stringToSign(auth.amzDate(), auth.scope(), canonical);
        assertThat(sts).isEqualTo(c.read("header-string-to-sign.txt"));
        byte[] key = SigV4.signingKey(c.secret().revealBytes(), auth.scope().date(), auth.scope().region(), auth.scope().service());
        assertThat(SigV4.signatureHex(key, sts)).isEqualTo(c.read("header-signature.txt").strip()).isEqualTo(auth.signature());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySigningMatchesTheSuite(Case c) {
        Parsed signed = parse(c.read("query-signed-request.txt"));
        SigV4Authorization auth = SigV4Parser.parse(signed.view());
        assertThat(auth.presigned()).isTrue();
        String canonical = CanonicalRequest.build(signed.view(), auth.signedHeaders(),
                c.read("query-canonical-request.txt").lines().reduce((a, b) -> b).orElseThrow(), c.normalize(), true,
                c.context().path("omit_session_token").asBoolean(false));
        assertThat(canonical).isEqualTo(c.read("query-canonical-request.txt"));
        String sts = SigV4.stringToSign(auth.amzDate(), auth.scope(), canonical);
        assertThat(sts).isEqualTo(c.read("query-string-to-sign.txt"));
        byte[] key = SigV4.signingKey(c.secret().revealBytes(), auth.scope().date(), auth.scope().region(), auth.scope().service());
        assertThat(SigV4.signatureHex(key, sts)).isEqualTo(c.read("query-signature.txt").strip()).isEqualTo(auth.signature());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void verifierAcceptsTheSignedRequestAndRefusesATamperedOne(Case c) {
        Parsed signed = parse(c.read("header-signed-request.txt"));
        SigV4Authorization auth = SigV4Parser.parse(signed.view());
        Optional<SecretBytes> token = signed.view().header("x-amz-security-token") == null ? Optional.empty() : c.token();
        VerifiedSignature ok = verifier(c).verify(signed.view(), auth, c.secret(), token, payloadHash(signed), c.normalize(), true);
        assertThat(ok.seedSignature()).isEqualTo(auth.signature());

        char first = auth.signature().charAt(0);
        String wrongSignature = c.read("header-signed-request.txt")
                .replace("Signature=" + auth.signature(), "Signature=" + (first == '0' ? '1' : '0') + auth.signature().substring(1));
        Parsed badSig = parse(wrongSignature);
        assertThatThrownBy(() -> verifier(c).verify(badSig.view(), SigV4Parser.parse(badSig.view()), c.secret(), token,
                payloadHash(badSig), c.normalize(), true))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.SIGNATURE_MISMATCH));

        String hostChanged = c.read("header-signed-request.txt").replace("example.amazonaws.com", "examplf.amazonaws.com");
        Parsed badHost = parse(hostChanged);
        assertThatThrownBy(() -> verifier(c).verify(badHost.view(), SigV4Parser.parse(badHost.view()), c.secret(), token,
                payloadHash(badHost), c.normalize(), true))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.SIGNATURE_MISMATCH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void verifierAcceptsThePresignedRequest(Case c) {
        Parsed signed = parse(c.read("query-signed-request.txt"));
        SigV4Authorization auth = SigV4Parser.parse(signed.view());
        Optional<SecretBytes> token = auth.securityToken().isPresent() ? c.token() : Optional.empty();
        String hash = c.read("query-canonical-request.txt").lines().reduce((a, b) -> b).orElseThrow();
        assertThat(verifier(c).verify(signed.view(), auth, c.secret(), token, hash, c.normalize(), true).seedSignature())
                .isEqualTo(auth.signature());
    }
}
