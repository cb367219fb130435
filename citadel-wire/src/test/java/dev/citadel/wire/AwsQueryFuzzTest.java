package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.core.AwsException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Fuzz target for the awsQuery form decoder and the XML it writes back. A form either decodes or
 * is refused with an {@link AwsException}; anything else escaping is a finding. A decoded form is
 * then written as a response: when every name in it is an XML name the document must be
 * well-formed, and otherwise the encoder must refuse with {@link IllegalArgumentException}.
 * Under {@code mvn test} the target runs its regression corpus in
 * {@code src/test/resources/dev/citadel/wire/AwsQueryFuzzTestInputs/<method>/}; a campaign is
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-wire -am test -Dtest=AwsQueryFuzzTest#<method> -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class AwsQueryFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void form(byte[] input) throws Exception {
        AwsQuery.Request request;
        try {
            request = AwsQuery.decode(new String(input, StandardCharsets.UTF_8));
        } catch (AwsException refused) {
            assertThat(refused.code()).isIn("MalformedQueryString", "MissingAction");
            return;
        }
        assertThat(request.action()).isNotEmpty();
        boolean names = isName(request.action()) && allNames(request.input());
        EncodedResponse response;
        try {
            response = AwsQuery.encode(request.action(), "urn:x", request.input(), "id");
        } catch (IllegalArgumentException notAName) {
            assertThat(names).as("refused only for a name that is not an XML name").isFalse();
            return;
        }
        assertThat(names).as("accepted only when every name is an XML name").isTrue();
        SAXParserFactory f = SAXParserFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.newSAXParser().parse(new ByteArrayInputStream(response.body()), new DefaultHandler());
    }

    /**
     * The query string and the body together: the input up to its first newline is the raw query,
     * the rest the body bytes, which need not be UTF-8. The same outcomes as {@link #form}.
     */
    @FuzzTest(maxDuration = "60s")
    void queryAndBody(byte[] input) {
        int newline = 0;
        while (newline < input.length && input[newline] != '\n') {
            newline++;
        }
        String query = new String(input, 0, newline, StandardCharsets.ISO_8859_1);
        byte[] body = newline < input.length ? Arrays.copyOfRange(input, newline + 1, input.length) : new byte[0];
        AwsQuery.Request request;
        try {
            request = AwsQuery.decode(query, body);
        } catch (AwsException refused) {
            assertThat(refused.code()).isIn("MalformedQueryString", "MissingAction");
            assertThat(refused.httpStatus()).isEqualTo(400);
            return;
        }
        assertThat(request.action()).isNotEmpty();
        assertThat(request.input().isObject()).isTrue();
    }

    private static boolean allNames(JsonNode n) {
        if (n.isArray()) {
            for (JsonNode item : n) {
                if (!allNames(item)) {
                    return false;
                }
            }
        }
        if (n.isObject()) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!isName(name) || !allNames(n.get(name))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean isName(String s) {
        return s.matches("[A-Za-z_][A-Za-z0-9_.-]*");
    }
}
