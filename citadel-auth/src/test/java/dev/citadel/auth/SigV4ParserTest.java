package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.AMBIGUOUS_AUTHENTICATION;
import static dev.citadel.auth.AuthException.Kind.INCOMPLETE_SIGNATURE;
import static dev.citadel.auth.AuthException.Kind.QUERY_PARAMETERS_MALFORMED;
import static dev.citadel.auth.AuthException.Kind.MISSING_AUTHENTICATION;
import static dev.citadel.auth.AuthException.Kind.UNSUPPORTED_SIGNATURE_VERSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the SigV4 parser accepts from a header or a presigned query, and what it refuses and how. */
class SigV4ParserTest {
    private static final String SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    private static final String CREDENTIAL = "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request";
    private static final String HEADER = "AWS4-HMAC-SHA256 " + CREDENTIAL + ", SignedHeaders=host;x-amz-date, Signature=" + SIGNATURE;
    private static final String QUERY = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiam%2Faws4_request"
            + "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=" + SIGNATURE;

    private static HttpRequestView withHeader(String authorization) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("host", List.of("iam.amazonaws.com"));
        headers.put("x-amz-date", List.of("20150830T123600Z"));
        headers.put("authorization", List.of(authorization));
        return new HttpRequestView("GET", "/", "", headers);
    }

    private static HttpRequestView withQuery(String query) {
        return new HttpRequestView("GET", "/", query, Map.of("host", List.of("iam.amazonaws.com")));
    }

    private static void assertRefused(HttpRequestView view, AuthException.Kind kind) {
        assertThatThrownBy(() -> SigV4Parser.parse(view))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    @Test
    void headerSignatureIsParsed() {
        SigV4Authorization auth = SigV4Parser.parse(withHeader(HEADER));
        assertThat(auth.scope()).isEqualTo(new CredentialScope("AKIDEXAMPLE", "20150830", "us-east-1", "iam"));
        assertThat(auth.signedHeaders()).containsExactly("host", "x-amz-date");
        assertThat(auth.signature()).isEqualTo(SIGNATURE);
        assertThat(auth.presigned()).isFalse();
    }

    @Test
    void presignedQueryIsParsed() {
        SigV4Authorization auth = SigV4Parser.parse(withQuery(QUERY));
        assertThat(auth.scope()).isEqualTo(new CredentialScope("AKIDEXAMPLE", "20150830", "us-east-1", "iam"));
        assertThat(auth.presigned()).isTrue();
        assertThat(auth.expiresSeconds()).isEqualTo(3600);
        assertThat(auth.amzDate()).isEqualTo("20150830T123600Z");
    }

    @Test
    void requestWithoutAnySignatureIsUnauthenticated() {
        assertRefused(withQuery("Action=ListUsers"), MISSING_AUTHENTICATION);
    }

    @Test
    void sigV2HeaderIsUnsupported() {
        assertRefused(withHeader("AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="), UNSUPPORTED_SIGNATURE_VERSION);
    }

    @Test
    void sigV2QueryIsUnsupported() {
        assertRefused(withQuery("AWSAccessKeyId=AKIDEXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"),
                UNSUPPORTED_SIGNATURE_VERSION);
    }

    @Test
    void headerWithoutCredentialIsIncomplete() {
        assertRefused(withHeader("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + SIGNATURE), INCOMPLETE_SIGNATURE);
    }

    @Test
    void headerWithoutSignedHeadersIsIncomplete() {
        assertRefused(withHeader("AWS4-HMAC-SHA256 " + CREDENTIAL + ", Signature=" + SIGNATURE), INCOMPLETE_SIGNATURE);
    }

    @Test
    void headerWithoutSignatureIsIncomplete() {
        assertRefused(withHeader("AWS4-HMAC-SHA256 " + CREDENTIAL + ", SignedHeaders=host;x-amz-date"), INCOMPLETE_SIGNATURE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires"})
    void presignedQueryWithoutARequiredParameterIsIncomplete(String name) {
        String query = String.join("&", Arrays.stream(QUERY.split("&")).filter(p -> !p.startsWith(name + "=")).toList());
        assertRefused(withQuery(query), QUERY_PARAMETERS_MALFORMED);
    }

    @Test
    void presignedExpiryOfOneWeekIsAccepted() {
        assertThat(SigV4Parser.parse(withQuery(QUERY.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800"))).expiresSeconds())
                .isEqualTo(604800);
    }

    @Test
    void presignedExpiryLongerThanAWeekIsAMalformedQuery() {
        assertRefused(withQuery(QUERY.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801")), QUERY_PARAMETERS_MALFORMED);
    }

    @Test
    void headerAndPresignedQueryTogetherAreAmbiguous() {
        HttpRequestView both = withHeader(HEADER);
        assertRefused(new HttpRequestView("GET", "/", QUERY, both.headers()), AMBIGUOUS_AUTHENTICATION);
    }

    @Test
    void credentialDateOtherThanTheRequestDateIsIncomplete() {
        assertRefused(withHeader(HEADER.replace("/20150830/", "/20150831/")), INCOMPLETE_SIGNATURE);
    }

    @Test
    void signatureThatIsNot64HexDigitsIsIncomplete() {
        assertRefused(withHeader(HEADER.replace(SIGNATURE, SIGNATURE.toUpperCase(Locale.ROOT))), INCOMPLETE_SIGNATURE);
    }

    @Test
    void unsortedSignedHeadersAreIncomplete() {
        assertRefused(withHeader(HEADER.replace("host;x-amz-date", "x-amz-date;host")), INCOMPLETE_SIGNATURE);
    }
}
