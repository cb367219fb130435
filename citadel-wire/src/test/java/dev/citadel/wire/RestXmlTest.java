package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The restXml (S3) codec: the safe request-body reader and its limits, and the S3 error shape. */
class RestXmlTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema";

    private static String read(String xml) {
        return RestXml.read(xml.getBytes(StandardCharsets.UTF_8), 1 << 20).toString();
    }

    private static AwsException refusal(String xml) {
        return refusal(xml.getBytes(StandardCharsets.UTF_8), 1 << 20);
    }

    private static AwsException refusal(byte[] xml, int maxBytes) {
        try {
            RestXml.read(xml, maxBytes);
        } catch (AwsException e) {
            return e;
        }
        throw new AssertionError("accepted: " + new String(xml, StandardCharsets.UTF_8));
    }

    private static void assertMalformedXml(AwsException e) {
        assertThat(e.code()).isEqualTo("MalformedXML");
        assertThat(e.httpStatus()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo(MALFORMED);
    }

    @Test
    void deleteObjectsBodyReadsRepeatedElementsAsArrays() {
        assertThat(read("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
                + "  <Object><Key>a</Key><VersionId>v1</VersionId></Object>\n  <Object><Key>b</Key></Object>\n  <Quiet>true</Quiet>\n</Delete>"))
                .isEqualTo("{\"Delete\":{\"Object\":[{\"Key\":\"a\",\"VersionId\":\"v1\"},{\"Key\":\"b\"}],\"Quiet\":\"true\"}}");
    }

    @Test
    void singleElementStaysAnObject() {
        assertThat(read("<Delete><Object><Key>a</Key></Object></Delete>")).isEqualTo("{\"Delete\":{\"Object\":{\"Key\":\"a\"}}}");
    }

    @Test
    void leafTextIsKeptExactlyIncludingSpaces() {
        assertThat(read("<Delete><Object><Key>  a b \n</Key></Object></Delete>")).isEqualTo("{\"Delete\":{\"Object\":{\"Key\":\"  a b \\n\"}}}");
    }

    @Test
    void emptyElementIsAnEmptyString() {
        assertThat(read("<R><A/><B></B></R>")).isEqualTo("{\"R\":{\"A\":\"\",\"B\":\"\"}}");
    }

    @Test
    void predefinedEntitiesCharacterReferencesAndCdataAreText() {
        assertThat(read("<R><K>a&amp;b&lt;&#x41;&#66;<![CDATA[<c>]]></K></R>")).isEqualTo("{\"R\":{\"K\":\"a&b<AB<c>\"}}");
    }

    @Test
    void namespacePrefixesAreDroppedAndAttributesIgnored() {
        assertThat(read("<s:R xmlns:s=\"urn:s\" a=\"1\"><s:K>v</s:K></s:R>")).isEqualTo("{\"R\":{\"K\":\"v\"}}");
    }

    @Test
    void externalFileEntityIsRefusedWithoutReadingTheFile(@TempDir Path dir) throws IOException {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET");
        AwsException e = refusal("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"" + secret.toUri() + "\">]><x>&e;</x>");
        assertMalformedXml(e);
        assertThat(e.toString()).doesNotContain("TOP-SECRET");
    }

    @Test
    void etcPasswdEntityIsRefused() {
        assertMalformedXml(refusal("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"));
    }

    @Test
    void externalEntitiesAndDtdsAreNeverFetched() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + listener.getLocalPort() + "/x";
            assertMalformedXml(refusal("<!DOCTYPE x [<!ENTITY e SYSTEM \"" + url + "\">]><x>&e;</x>"));
            assertMalformedXml(refusal("<!DOCTYPE x SYSTEM \"" + url + "\"><x/>"));
            assertMalformedXml(refusal("<!DOCTYPE x [<!ENTITY % p SYSTEM \"" + url + "\"> %p;]><x/>"));
            listener.setSoTimeout(200);
            try {
                listener.accept().close();
                throw new AssertionError("the reader connected to " + url);
            } catch (SocketTimeoutException expected) {
                assertThat(expected).isNotNull();
            }
        }
    }

    @Test
    void billionLaughsIsRefused() {
        StringBuilder bomb = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY l0 \"lol\">");
        for (int i = 1; i < 10; i++) {
            bomb.append("<!ENTITY l").append(i).append(" \"").append(("&l" + (i - 1) + ";").repeat(10)).append("\">");
        }
        bomb.append("]><l>&l9;</l>");
        assertMalformedXml(refusal(bomb.toString()));
    }

    @Test
    void undeclaredEntityIsRefused() {
        assertMalformedXml(refusal("<x>&e;</x>"));
    }

    @Test
    void depthOfThirtyTwoIsAcceptedAndThirtyThreeRefused() {
        assertThat(RestXml.read(("<a>".repeat(32) + "</a>".repeat(32)).getBytes(StandardCharsets.UTF_8), 1 << 20)).isNotNull();
        assertMalformedXml(refusal("<a>".repeat(33) + "</a>".repeat(33)));
    }

    @Test
    void moreThanHundredThousandElementsAreRefused() {
        assertThat(RestXml.read(("<r>" + "<b/>".repeat(99_999) + "</r>").getBytes(StandardCharsets.UTF_8), 1 << 20)).isNotNull();
        assertMalformedXml(refusal("<r>" + "<b/>".repeat(100_000) + "</r>"));
    }

    @Test
    void bodyLargerThanTheLimitIsRefused() {
        byte[] body = ("<a>" + "x".repeat(100) + "</a>").getBytes(StandardCharsets.UTF_8);
        assertThat(RestXml.read(body, body.length).path("a").asText()).hasSize(100);
        assertMalformedXml(refusal(body, body.length - 1));
    }

    @Test
    void emptyTruncatedOrTrailingContentIsRefused() {
        assertMalformedXml(refusal(new byte[0], 10));
        assertMalformedXml(refusal("<a>"));
        assertMalformedXml(refusal("<a></b>"));
        assertMalformedXml(refusal("<a/><b/>"));
        assertMalformedXml(refusal("text"));
    }

    @Test
    void s3ErrorHasCodeMessageRequestIdAndHostId() {
        EncodedResponse r = RestXml.encodeError(new AwsException("NoSuchKey", 404, "The specified key does not exist."), "req", "host", false);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.contentType()).isEqualTo("application/xml");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                + "<Message>The specified key does not exist.</Message><RequestId>req</RequestId><HostId>host</HostId></Error>");
        assertThat(r.headers()).isEqualTo(Map.of("x-amz-request-id", "req", "x-amz-id-2", "host"));
    }

    @Test
    void s3ErrorReadsBackAsBotocoreSeesIt() throws IOException {
        EncodedResponse r = RestXml.encodeError(new AwsException("AccessDenied", 403, "a<b&c"), "req", "host", false);
        assertThat(RestXml.read(r.body(), 4096)).isEqualTo(JSON.readTree(
                "{\"Error\":{\"Code\":\"AccessDenied\",\"Message\":\"a<b&c\",\"RequestId\":\"req\",\"HostId\":\"host\"}}"));
    }

    @Test
    void s3ErrorOfAHeadRequestHasNoBodyButKeepsStatusAndIds() {
        EncodedResponse r = RestXml.encodeError(new AwsException("NoSuchKey", 404, "x"), "req", "host", true);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).isEmpty();
        assertThat(r.headers()).isEqualTo(Map.of("x-amz-request-id", "req", "x-amz-id-2", "host"));
    }

    @Test
    void s3ErrorHeadersComeRequestIdFirst() {
        EncodedResponse r = RestXml.encodeError(new AwsException("NoSuchKey", 404, "x"), "req", "host", false);
        assertThat(r.headers().keySet()).containsExactly("x-amz-request-id", "x-amz-id-2");
    }

    @Test
    void s3ErrorExtraElementsFollowTheMessageInOrder() {
        Map<String, String> extra = new java.util.LinkedHashMap<>();
        extra.put("BucketName", "b<1>");
        extra.put("Resource", "/b/k");
        EncodedResponse r = RestXml.encodeError(new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"), "req", "host",
                false, extra);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
                + "<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b&lt;1&gt;</BucketName>"
                + "<Resource>/b/k</Resource><RequestId>req</RequestId><HostId>host</HostId></Error>");
    }

    @Test
    void s3ErrorOfAHeadRequestHasNoContentType() {
        assertThat(RestXml.encodeError(new AwsException("NoSuchKey", 404, "x"), "req", "host", true).contentType()).isEmpty();
    }

    @Test
    void treeEncodesObjectsAsElementsAndArraysAsRepeatedElements() throws IOException {
        EncodedResponse r = RestXml.encode(200, "DeleteResult", "http://s3.amazonaws.com/doc/2006-03-01/",
                JSON.readTree("{\"Deleted\":[{\"Key\":\"a\"},{\"Key\":\" b \"}],\"Error\":{\"Key\":\"c\",\"Code\":\"AccessDenied\"},"
                        + "\"Skipped\":null,\"Quiet\":false,\"Size\":12}"), "req", "host");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Deleted><Key>a</Key></Deleted><Deleted><Key> b </Key></Deleted>"
                + "<Error><Key>c</Key><Code>AccessDenied</Code></Error><Quiet>false</Quiet><Size>12</Size></DeleteResult>");
        assertThat(r.contentType()).isEqualTo("application/xml");
        assertThat(r.headers().entrySet()).containsExactly(Map.entry("x-amz-request-id", "req"), Map.entry("x-amz-id-2", "host"));
    }

    @Test
    void encodedTreeReadsBackAsTheSameTree() throws IOException {
        String tree = "{\"Part\":[{\"PartNumber\":\"1\",\"ETag\":\"\\\"e1\\\"\"},{\"PartNumber\":\"2\",\"ETag\":\"e2\"}]}";
        EncodedResponse r = RestXml.encode(200, "CompleteMultipartUpload", null, JSON.readTree(tree), "req", "host");
        assertThat(RestXml.read(r.body())).isEqualTo(JSON.readTree("{\"CompleteMultipartUpload\":" + tree + "}"));
    }

    @Test
    void treeWithAnArrayInsideAnArrayIsRefused() throws IOException {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RestXml.encode(200, "R", null, JSON.readTree("{\"A\":[[1]]}"), "q", "h"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyBodyResponseHasNoContentType() {
        EncodedResponse r = RestXml.encode(204, new byte[0], "req", "host", Map.of("x-amz-delete-marker", "true"));
        assertThat(r.contentType()).isEmpty();
        assertThat(r.headers().keySet()).containsExactly("x-amz-request-id", "x-amz-id-2", "x-amz-delete-marker");
    }

    @Test
    void doctypeWithoutEntitiesIsRefused() {
        assertMalformedXml(refusal("<?xml version=\"1.0\"?><!DOCTYPE Delete><Delete><Quiet>true</Quiet></Delete>"));
    }

    @Test
    void tooManyAttributesOnOneElementAreRefused() {
        StringBuilder sb = new StringBuilder("<a");
        for (int i = 0; i < 65; i++) {
            sb.append(" x").append(i).append("=\"1\"");
        }
        assertMalformedXml(refusal(sb.append("/>").toString()));
    }

    @Test
    void streamingReaderRefusesAnEntityDeclarationWithoutReadingTheFile() throws Exception {
        byte[] xxe = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>".getBytes(StandardCharsets.UTF_8);
        javax.xml.stream.XMLStreamReader r = RestXml.reader(new java.io.ByteArrayInputStream(xxe));
        StringBuilder seen = new StringBuilder();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
            while (r.hasNext()) {
                if (r.next() == javax.xml.stream.XMLStreamConstants.CHARACTERS) {
                    seen.append(r.getText());
                }
            }
        }).isInstanceOf(javax.xml.stream.XMLStreamException.class);
        r.close();
        assertThat(seen.toString()).doesNotContain("root:");
    }

    @Test
    void streamingReaderReadsElementsAndSkipsWhitespaceBetweenTags() throws Exception {
        byte[] xml = "<Delete>\n  <Object><Key>a</Key></Object>\n</Delete>".getBytes(StandardCharsets.UTF_8);
        javax.xml.stream.XMLStreamReader r = RestXml.reader(new java.io.ByteArrayInputStream(xml));
        r.nextTag();
        assertThat(r.getLocalName()).isEqualTo("Delete");
        r.nextTag();
        assertThat(r.getLocalName()).isEqualTo("Object");
        r.nextTag();
        assertThat(r.getElementText()).isEqualTo("a");
        r.close();
    }

    @Test
    void malformedXmlIsTheS3Error() {
        assertMalformedXml(RestXml.malformedXml());
    }
}
