package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz targets for the restXml request-body reader. {@link #body} feeds arbitrary bytes: they are
 * read or refused with {@code MalformedXML}, a tree that was read never holds text from outside
 * the document, and when its names are ASCII XML names, writing it with {@link RestXml#encode} and
 * reading that back gives the same tree. {@link #bodyAfterDoctype} puts the input after a DOCTYPE that declares an internal
 * canary entity and an external one: since no DTD is ever processed, every such document must be
 * refused. Under {@code mvn test} the targets run their regression corpora in
 * {@code src/test/resources/dev/citadel/wire/RestXmlFuzzTestInputs/<method>/}; a campaign is
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-wire -am test -Dtest=RestXmlFuzzTest#<method> -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class RestXmlFuzzTest {
    private static final String CANARY = "CANARY-ENTITY-EXPANDED";
    private static final String DOCTYPE = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY c \"" + CANARY + "\">"
            + "<!ENTITY e SYSTEM \"file:///etc/passwd\">]>";

    @FuzzTest(maxDuration = "60s")
    void body(byte[] input) {
        JsonNode tree;
        try {
            tree = RestXml.read(input, 1 << 20);
        } catch (AwsException refused) {
            assertThat(refused.code()).isEqualTo("MalformedXML");
            return;
        }
        assertThat(tree.size()).isEqualTo(1);
        assertThat(tree.toString()).doesNotContain("root:x:0:0").doesNotContain(CANARY);
        String root = tree.fieldNames().next();
        JsonNode content = tree.get(root);
        EncodedResponse written;
        try {
            written = RestXml.encode(200, root, null, content, "q", "h");
        } catch (IllegalArgumentException notAsciiName) {
            return;
        }
        assertThat(RestXml.read(written.body(), Integer.MAX_VALUE)).isEqualTo(tree);
    }

    @FuzzTest(maxDuration = "60s")
    void bodyAfterDoctype(byte[] input) {
        byte[] doctype = DOCTYPE.getBytes(StandardCharsets.UTF_8);
        byte[] document = new byte[doctype.length + input.length];
        System.arraycopy(doctype, 0, document, 0, doctype.length);
        System.arraycopy(input, 0, document, doctype.length, input.length);
        assertThatThrownBy(() -> RestXml.read(document, 1 << 20))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("MalformedXML"));
    }
}
