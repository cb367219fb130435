package dev.citadel.auth;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The AWS Signature Version 4 test suite (aws-c-auth's {@code v4} cases, read from
 * {@code ${citadel.projectRoot}/../shared/testdata/sigv4/v4/<case>/}). For header and query
 * signing: the canonical request built from {@code request.txt} (its path taken as the raw wire
 * path, the body's SHA-256 as payload hash, {@code context.normalize} deciding dot-segment removal,
 * the path encoded once more) equals {@code *-canonical-request.txt}, the string to sign and the
 * signature equal theirs, and the verifier accepts {@code *-signed-request.txt} but refuses it with
 * one character of the signature or of a signed header value changed.
 * <p>
 * Request files are HTTP/1.1 messages with LF line ends: a request line {@code METHOD target HTTP/1.1}
 * (the target may hold spaces and UTF-8), header lines {@code Name:value}, continuation lines
 * starting with white space folded into the previous value, repeated headers kept in order, then an
 * empty line and the body.
 */
class SigV4TestSuiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_SKEW = Duration.ofMinutes(15);

    /** {@code context.json} of one case. */
    record Context(String accessKeyId, SecretBytes secret, Optional<String> token, String region, String service, Instant timestamp,
            boolean normalize, boolean signBody, boolean omitSessionToken, long expiresSeconds) {
        Context {
            requireNonNull(accessKeyId, "accessKeyId is null");
            requireNonNull(secret, "secret is null");
            requireNonNull(token, "token is null");
            requireNonNull(region, "region is null");
            requireNonNull(service, "service is null");
            requireNonNull(timestamp, "timestamp is null");
        }

        static Context parse(JsonNode json) {
            JsonNode credentials = json.path("credentials");
            JsonNode token = credentials.path("token");
            return new Context(credentials.path("access_key_id").asText(), SecretBytes.ofUtf8(credentials.path("secret_access_key").asText()),
                    token.isMissingNode() ? Optional.empty() : Optional.of(token.asText()), json.path("region").asText(),
                    json.path("service").asText(), Instant.parse(json.path("timestamp").asText()), json.path("normalize").asBoolean(),
                    json.path("sign_body").asBoolean(), json.path("omit_session_token").asBoolean(false),
                    json.path("expiration_in_seconds").asLong());
        }

        String amzDate() {
            return SigV4.amzDate(timestamp);
        }

        CredentialScope scope() {
            return new CredentialScope(accessKeyId, amzDate().substring(0, 8), region, service);
        }

        Optional<SecretBytes> requiredToken() {
            return token.map(SecretBytes::ofUtf8);
        }

        boolean tokenSigned() {
            return token.isPresent() && !omitSessionToken;
        }
    }

    record Case(String name, Path dir, Context context) {
        Case {
            requireNonNull(name, "name is null");
            requireNonNull(dir, "dir is null");
            requireNonNull(context, "context is null");
        }

        @Override
        public String toString() {
            return name;
        }

        String read(String file) {
            try {
                return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        RequestFile request(String file) {
            return RequestFile.parse(read(file));
        }

        SigV4Verifier verifier() {
            return new SigV4Verifier(Clock.fixed(context.timestamp(), ZoneOffset.UTC), MAX_SKEW);
        }
    }

    record Header(String name, String value) {
        Header {
            requireNonNull(name, "name is null");
            requireNonNull(value, "value is null");
        }
    }

    /** A parsed request file. */
    record RequestFile(String method, String path, String query, List<Header> headers, String body) {
        RequestFile {
            requireNonNull(method, "method is null");
            requireNonNull(path, "path is null");
            requireNonNull(query, "query is null");
            headers = List.copyOf(headers);
            requireNonNull(body, "body is null");
        }

        static RequestFile parse(String text) {
            int end = text.indexOf("\n\n");
            String head = end < 0 ? text : text.substring(0, end);
            String body = end < 0 ? "" : text.substring(end + 2);
            String[] lines = head.split("\n");
            String requestLine = lines[0];
            String method = requestLine.substring(0, requestLine.indexOf(' '));
            String target = requestLine.substring(method.length() + 1, requestLine.lastIndexOf(" HTTP/"));
            int q = target.indexOf('?');
            List<Header> headers = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                String line = lines[i];
                if (line.startsWith(" ") || line.startsWith("\t")) {
                    Header last = headers.removeLast();
                    headers.add(new Header(last.name(), last.value() + " " + line.strip()));
                } else {
                    int colon = line.indexOf(':');
                    headers.add(new Header(line.substring(0, colon), line.substring(colon + 1)));
                }
            }
            return new RequestFile(method, q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1), headers, body);
        }

        RequestFile withHeader(String name, String value) {
            List<Header> more = new ArrayList<>(headers);
            more.add(new Header(name, value));
            return new RequestFile(method, path, query, more, body);
        }

        RequestFile withQuery(String query) {
            return new RequestFile(method, path, query, headers, body);
        }

        HttpRequestView view() {
            Map<String, List<String>> byName = new LinkedHashMap<>();
            for (Header h : headers) {
                byName.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.value());
            }
            return new HttpRequestView(method, path, query, byName);
        }

        List<String> headerNames() {
            TreeSet<String> names = new TreeSet<>();
            headers.forEach(h -> names.add(h.name().toLowerCase(Locale.ROOT)));
            return List.copyOf(names);
        }

        String payloadHash() {
            return SigV4.sha256Hex(body.getBytes(StandardCharsets.UTF_8));
        }
    }

    static Stream<Case> cases() throws IOException {
        Path root = TestData.root().resolve("sigv4/v4");
        try (Stream<Path> dirs = Files.list(root)) {
            List<Case> out = new ArrayList<>();
            for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                out.add(new Case(d.getFileName().toString(), d, Context.parse(JSON.readTree(d.resolve("context.json").toFile()))));
            }
            return out.stream();
        }
    }

    @Test
    void suiteHasExactly38Cases() throws IOException {
        assertThat(cases().count()).isEqualTo(38);
    }

    /** request.txt as the client signs it in the Authorization header. */
    private static RequestFile headerRequest(Case c) {
        RequestFile r = c.request("request.txt").withHeader("X-Amz-Date", c.context().amzDate());
        if (c.context().signBody()) {
            r = r.withHeader("X-Amz-Content-Sha256", r.payloadHash());
        }
        return c.context().tokenSigned() ? r.withHeader("X-Amz-Security-Token", c.context().token().orElseThrow()) : r;
    }

    private static String headerCanonicalRequest(Case c) {
        RequestFile r = headerRequest(c);
        return CanonicalRequest.build(r.view(), r.headerNames(), r.payloadHash(), c.context().normalize(), true);
    }

    /** request.txt with the presigning parameters added to its query, as the client signs it. */
    private static String queryCanonicalRequest(Case c) {
        RequestFile r = c.request("request.txt");
        Context ctx = c.context();
        StringBuilder q = new StringBuilder(r.query());
        if (!q.isEmpty()) {
            q.append('&');
        }
        q.append("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=")
                .append(Rfc3986.encode(ctx.accessKeyId() + "/" + ctx.scope().scope(), false))
                .append("&X-Amz-Date=").append(ctx.amzDate())
                .append("&X-Amz-SignedHeaders=").append(Rfc3986.encode(String.join(";", r.headerNames()), false))
                .append("&X-Amz-Expires=").append(ctx.expiresSeconds());
        if (ctx.tokenSigned()) {
            q.append("&X-Amz-Security-Token=").append(Rfc3986.encode(ctx.token().orElseThrow(), false));
        }
        return CanonicalRequest.build(r.withQuery(q.toString()).view(), r.headerNames(), r.payloadHash(), ctx.normalize(), true);
    }

    private static String signature(Case c, String stringToSign) {
        CredentialScope scope = c.context().scope();
        byte[] key = SigV4.signingKey(c.context().secret().revealBytes(), scope.date(), scope.region(), scope.service());
        return SigV4.signatureHex(key, stringToSign);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerCanonicalRequestMatches(Case c) {
        assertThat(headerCanonicalRequest(c)).isEqualTo(c.read("header-canonical-request.txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerStringToSignMatches(Case c) {
        assertThat(SigV4.stringToSign(c.context().amzDate(), c.context().scope(), headerCanonicalRequest(c)))
                .isEqualTo(c.read("header-string-to-sign.txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSignatureMatches(Case c) {
        assertThat(signature(c, c.read("header-string-to-sign.txt"))).isEqualTo(c.read("header-signature.txt").strip());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void queryCanonicalRequestMatches(Case c) {
        assertThat(queryCanonicalRequest(c)).isEqualTo(c.read("query-canonical-request.txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void queryStringToSignMatches(Case c) {
        assertThat(SigV4.stringToSign(c.context().amzDate(), c.context().scope(), queryCanonicalRequest(c)))
                .isEqualTo(c.read("query-string-to-sign.txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySignatureMatches(Case c) {
        assertThat(signature(c, c.read("query-string-to-sign.txt"))).isEqualTo(c.read("query-signature.txt").strip());
    }

    private static VerifiedSignature verify(Case c, RequestFile signed) {
        HttpRequestView view = signed.view();
        return c.verifier().verify(view, SigV4Parser.parse(view), c.context().secret(), c.context().requiredToken(), signed.payloadHash(),
                c.context().normalize(), true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSignedRequestIsAccepted(Case c) {
        VerifiedSignature verified = verify(c, c.request("header-signed-request.txt"));
        assertThat(verified.seedSignature()).isEqualTo(c.read("header-signature.txt").strip());
        assertThat(verified.authorization().presigned()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySignedRequestIsAccepted(Case c) {
        VerifiedSignature verified = verify(c, c.request("query-signed-request.txt"));
        assertThat(verified.seedSignature()).isEqualTo(c.read("query-signature.txt").strip());
        assertThat(verified.authorization().presigned()).isTrue();
        assertThat(verified.authorization().expiresSeconds()).isEqualTo(c.context().expiresSeconds());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSignedRequestWithOneSignatureCharacterChangedIsRefused(Case c) {
        String text = c.read("header-signed-request.txt");
        String signature = c.read("header-signature.txt").strip();
        RequestFile tampered = RequestFile.parse(text.replace("Signature=" + signature, "Signature=" + changeFirst(signature)));
        assertRefused(c, tampered, AuthException.Kind.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySignedRequestWithOneSignatureCharacterChangedIsRefused(Case c) {
        String text = c.read("query-signed-request.txt");
        String signature = c.read("query-signature.txt").strip();
        RequestFile tampered = RequestFile.parse(text.replace("X-Amz-Signature=" + signature, "X-Amz-Signature=" + changeFirst(signature)));
        assertRefused(c, tampered, AuthException.Kind.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSignedRequestWithOneCharacterOfASignedHeaderChangedIsRefused(Case c) {
        assertEverySignedHeaderIsCovered(c, c.request("header-signed-request.txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySignedRequestWithOneCharacterOfASignedHeaderChangedIsRefused(Case c) {
        assertEverySignedHeaderIsCovered(c, c.request("query-signed-request.txt"));
    }

    /**
     * Changes one character of each signed header's first value in turn. A changed session token
     * is refused by the token check, which comes before the signature.
     */
    private static void assertEverySignedHeaderIsCovered(Case c, RequestFile signed) {
        List<String> signedHeaders = SigV4Parser.parse(signed.view()).signedHeaders();
        assertThat(signedHeaders).isNotEmpty();
        for (String name : signedHeaders) {
            List<Header> headers = new ArrayList<>(signed.headers());
            int at = indexOfFirst(headers, name);
            headers.set(at, new Header(headers.get(at).name(), changeOneCharacter(headers.get(at).value())));
            RequestFile tampered = new RequestFile(signed.method(), signed.path(), signed.query(), headers, signed.body());
            assertRefused(c, tampered, name.equals("x-amz-security-token") ? AuthException.Kind.INVALID_SESSION_TOKEN
                    : AuthException.Kind.SIGNATURE_MISMATCH);
        }
    }

    private static void assertRefused(Case c, RequestFile tampered, AuthException.Kind kind) {
        assertThatThrownBy(() -> verify(c, tampered))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private static int indexOfFirst(List<Header> headers, String lowerName) {
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().toLowerCase(Locale.ROOT).equals(lowerName)) {
                return i;
            }
        }
        throw new AssertionError("signed header " + lowerName + " is not in the request");
    }

    private static String changeFirst(String hex) {
        return (hex.charAt(0) == '0' ? "1" : "0") + hex.substring(1);
    }

    /**
     * Changes the last digit (so that a changed X-Amz-Date stays a valid date inside the allowed
     * skew), or else the last letter, to another of its kind.
     */
    private static String changeOneCharacter(String value) {
        int at = -1;
        for (int i = value.length() - 1; i >= 0 && at < 0; i--) {
            if (Character.isDigit(value.charAt(i))) {
                at = i;
            }
        }
        for (int i = value.length() - 1; i >= 0 && at < 0; i--) {
            if (Character.isLetter(value.charAt(i))) {
                at = i;
            }
        }
        if (at < 0) {
            throw new AssertionError("no digit or letter to change in a signed header value");
        }
        char ch = value.charAt(at);
        char changed = switch (ch) {
            case '9' -> '8';
            case 'z' -> 'y';
            case 'Z' -> 'Y';
            default -> (char) (ch + 1);
        };
        return value.substring(0, at) + changed + value.substring(at + 1);
    }
}
