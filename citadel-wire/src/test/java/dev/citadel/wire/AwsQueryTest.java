package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The awsQuery codec: schema-less form decoding with its refusals, the XML output and the ErrorResponse shape. */
class AwsQueryTest {
    private static AwsException refusal(String form) {
        try {
            AwsQuery.decode(form);
        } catch (AwsException e) {
            return e;
        }
        throw new AssertionError("accepted: " + form);
    }

    @Test
    void actionVersionAndScalarsDecode() {
        AwsQuery.Request r = AwsQuery.decode("Action=CreateUser&Version=2010-05-08&UserName=bob&Path=%2Fa+b%2F");
        assertThat(r.action()).isEqualTo("CreateUser");
        assertThat(r.version()).isEqualTo("2010-05-08");
        assertThat(r.input().toString()).isEqualTo("{\"UserName\":\"bob\",\"Path\":\"/a b/\"}");
    }

    @Test
    void memberListsAreOrderedByIndex() {
        AwsQuery.Request r = AwsQuery.decode("Action=X&Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Value=2");
        assertThat(r.input().toString()).isEqualTo("{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\",\"Value\":\"2\"}]}");
    }

    @Test
    void flattenedListsAndEntryMapsDecode() {
        AwsQuery.Request r = AwsQuery.decode("Action=X&L.1=x&L.2=y&M.entry.1.key=k1&M.entry.1.value=v1&M.entry.2.key=k2&M.entry.2.value=v2");
        assertThat(r.input().toString()).isEqualTo("{\"L\":[\"x\",\"y\"],\"M\":{\"k1\":\"v1\",\"k2\":\"v2\"}}");
    }

    @Test
    void listGapsAreRefused() {
        assertThat(refusal("Action=X&L.member.1=a&L.member.3=b").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&L.member.0=a").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void conflictingAndRepeatedKeysAreRefused() {
        assertThat(refusal("Action=X&A=1&A.B=2").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A=1&A=2").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A..B=1").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void malformedPercentEncodingIsRefused() {
        assertThat(refusal("Action=X&A=%zz").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A=%4").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void missingActionIsRefused() {
        assertThat(refusal("Version=1&A=1").code()).isEqualTo("MissingAction");
    }

    @Test
    void tooManyParametersAreRefused() {
        assertThat(refusal("Action=X" + "&A=1".repeat(1001)).code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void outputIsWrappedInResultAndResponseMetadata() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("Arn", "arn:aws:iam::1:user/<b>&");
        out.putArray("Names").add("a").add("b");
        ObjectNode map = JsonNodeFactory.instance.objectNode();
        map.put("Users", "3");
        out.set("SummaryMap", AwsQuery.map(map));
        EncodedResponse r = AwsQuery.encode("GetThing", "https://iam.amazonaws.com/doc/2010-05-08/", out, "req-1");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("text/xml");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(
                "<GetThingResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetThingResult>"
                + "<Arn>arn:aws:iam::1:user/&lt;b&gt;&amp;</Arn><Names><member>a</member><member>b</member></Names>"
                + "<SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap>"
                + "</GetThingResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetThingResponse>\n");
    }

    @Test
    void errorHasAwsQueryShape() {
        EncodedResponse r = AwsQuery.encodeError("https://sts.amazonaws.com/doc/2011-06-15/",
                new AwsException("SignatureDoesNotMatch", 403, "no <match>"), "req-2");
        assertThat(r.status()).isEqualTo(403);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                + "<Code>SignatureDoesNotMatch</Code><Message>no &lt;match&gt;</Message></Error><RequestId>req-2</RequestId></ErrorResponse>\n");
        assertThat(r.headers()).containsEntry("x-amzn-RequestId", "req-2");
    }

    @Test
    void serverErrorsAreReceiverFaults() {
        EncodedResponse r = AwsQuery.encodeError("urn:x", AwsException.internal(), "r");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("<Type>Receiver</Type>");
    }

    @Test
    void controlCharactersCannotBreakTheDocument() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("A", "x\u0000y\uD800z");
        String xml = new String(AwsQuery.encode("Op", "urn:x", out, "r").body(), StandardCharsets.UTF_8);
        assertThat(xml).contains("<A>x\uFFFDy\uFFFDz</A>");
    }

    @Test
    void dottedKeysNestIntoObjects() {
        AwsQuery.Request r = AwsQuery.decode("Action=X&A.B.C=1&A.B.D=2&A.E=3");
        assertThat(r.input().toString()).isEqualTo("{\"A\":{\"B\":{\"C\":\"1\",\"D\":\"2\"},\"E\":\"3\"}}");
    }

    @Test
    void memberListIndexesOrderNumericallyNotAsText() {
        StringBuilder form = new StringBuilder("Action=X");
        for (int i = 12; i >= 1; i--) {
            form.append("&L.member.").append(i).append('=').append(i);
        }
        assertThat(AwsQuery.decode(form.toString()).input().toString())
                .isEqualTo("{\"L\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\"]}");
    }

    @Test
    void listsOfListsAndMapsOfStructuresDecode() {
        AwsQuery.Request r = AwsQuery.decode("Action=X&L.member.1.member.1=a&L.member.2.member.1=b&M.entry.1.key=k&M.entry.1.value.A=1");
        assertThat(r.input().toString()).isEqualTo("{\"L\":[[\"a\"],[\"b\"]],\"M\":{\"k\":{\"A\":\"1\"}}}");
    }

    @Test
    void listIndexesWithLeadingZerosOrLettersAreRefused() {
        assertThat(refusal("Action=X&L.member.01=a").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&L.member.a=a").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&L.member.1=a&L.member.x=b").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void mapEntryWithoutKeyIsRefused() {
        assertThat(refusal("Action=X&M.entry.1.value=v").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void mapEntryWithAFieldOtherThanKeyAndValueIsRefused() {
        assertThat(refusal("Action=X&M.entry.1.key=k&M.entry.1.other=v").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&M.entry.1.key=k&M.entry.1.value=v&M.entry.1.other=w").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void repeatedMapKeyIsRefused() {
        assertThat(refusal("Action=X&M.entry.1.key=k&M.entry.1.value=1&M.entry.2.key=k&M.entry.2.value=2").code())
                .isEqualTo("MalformedQueryString");
    }

    @Test
    void mapEntryWithoutValueIsAnEmptyString() {
        assertThat(AwsQuery.decode("Action=X&M.entry.1.key=k").input().toString()).isEqualTo("{\"M\":{\"k\":\"\"}}");
    }

    @Test
    void plusIsASpaceAndPercentEscapesAreUtf8() {
        AwsQuery.Request r = AwsQuery.decode("Action=X&A=a+b%20c%2Bd&B=%C3%A9%E2%82%AC&C%2ED=1");
        assertThat(r.input().toString()).isEqualTo("{\"A\":\"a b c+d\",\"B\":\"\u00e9\u20ac\",\"C\":{\"D\":\"1\"}}");
    }

    @Test
    void parameterWithoutEqualsIsAnEmptyValue() {
        assertThat(AwsQuery.decode("Action=X&A&B=").input().toString()).isEqualTo("{\"A\":\"\",\"B\":\"\"}");
    }

    @Test
    void percentAtTheEndIsRefused() {
        assertThat(refusal("Action=X&A=%").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A%=1").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void repeatedActionOrVersionIsRefused() {
        assertThat(refusal("Action=X&Action=Y").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&Version=1&Version=2").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void emptyActionIsMissingAction() {
        AwsException e = refusal("Action=&Version=1");
        assertThat(e.code()).isEqualTo("MissingAction");
        assertThat(e.httpStatus()).isEqualTo(400);
    }

    @Test
    void missingVersionIsEmpty() {
        assertThat(AwsQuery.decode("Action=X").version()).isEmpty();
    }

    @Test
    void thousandParametersAreAcceptedAndOneMoreRefused() {
        StringBuilder form = new StringBuilder("Action=X");
        for (int i = 1; i < 1000; i++) {
            form.append("&P").append(i).append("=v");
        }
        assertThat(AwsQuery.decode(form.toString()).input().size()).isEqualTo(999);
        assertThat(refusal(form + "&Q=v").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void overlongOrTooDeepNamesAreRefused() {
        assertThat(refusal("Action=X&" + "a".repeat(513) + "=1").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&" + "a.".repeat(16) + "a=1").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void listAndScalarUnderOneNameConflict() {
        assertThat(refusal("Action=X&L.member.1=a&L=b").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&L=b&L.member.1=a").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void nullOutputMembersAreLeftOut() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putNull("Gone");
        out.putArray("L").add("a").addNull();
        out.set("M", AwsQuery.map(JsonNodeFactory.instance.objectNode().putNull("k")));
        assertThat(new String(AwsQuery.encode("Op", "urn:x", out, "r").body(), StandardCharsets.UTF_8))
                .contains("<OpResult><L><member>a</member></L><M></M></OpResult>");
    }

    @Test
    void nestedOutputStructuresAndMapsOfListsAreElements() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putObject("User").put("UserName", "bob").putArray("Tags").addObject().put("Key", "k");
        ObjectNode map = JsonNodeFactory.instance.objectNode();
        map.putArray("k").add("1");
        out.set("M", AwsQuery.map(map));
        assertThat(new String(AwsQuery.encode("Op", "urn:x", out, "r").body(), StandardCharsets.UTF_8)).contains(
                "<OpResult><User><UserName>bob</UserName><Tags><member><Key>k</Key></member></Tags></User>"
                + "<M><entry><key>k</key><value><member>1</member></value></entry></M></OpResult>");
    }

    @Test
    void mapKeysAreEscaped() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("M", AwsQuery.map(JsonNodeFactory.instance.objectNode().put("<k&>", "v")));
        assertThat(new String(AwsQuery.encode("Op", "urn:x", out, "r").body(), StandardCharsets.UTF_8))
                .contains("<entry><key>&lt;k&amp;&gt;</key><value>v</value></entry>");
    }

    @Test
    void outputFieldThatIsNotAnXmlNameIsAnError() {
        ObjectNode out = JsonNodeFactory.instance.objectNode().put("a><b", "v");
        assertThatThrownBy(() -> AwsQuery.encode("Op", "urn:x", out, "r")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AwsQuery.encode("Op x=\"1\"", "urn:x", JsonNodeFactory.instance.objectNode(), "r"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void errorNamespaceAndRequestIdAreEscaped() {
        EncodedResponse r = AwsQuery.encodeError("urn:\"x", new AwsException("C", 400, "m"), "<r>");
        assertThat(new String(r.body(), StandardCharsets.UTF_8))
                .startsWith("<ErrorResponse xmlns=\"urn:&quot;x\">").contains("<RequestId>&lt;r&gt;</RequestId>");
    }

    @Test
    void errorBodyReadsBackAsBotocoreQueryParserSeesIt() throws Exception {
        EncodedResponse r = AwsQuery.encodeError("urn:x", new AwsException("NoSuchEntity", 404, "no user"), "req-3");
        assertThat(RestXml.read(r.body(), 4096).toString()).isEqualTo("{\"ErrorResponse\":{\"Error\":{\"Type\":\"Sender\","
                + "\"Code\":\"NoSuchEntity\",\"Message\":\"no user\"},\"RequestId\":\"req-3\"}}");
    }

    @Test
    void percentEscapesThatAreNotUtf8AreRefused() {
        assertThat(refusal("Action=X&A=%FF").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A=%C3").code()).isEqualTo("MalformedQueryString");
        assertThat(refusal("Action=X&A=%ED%A0%80").code()).isEqualTo("MalformedQueryString");
    }

    @Test
    void multiByteUtf8EscapesAndLowercaseHexDecode() {
        assertThat(AwsQuery.decode("Action=X&A=%e2%82%ac+%F0%9F%98%80x").input().get("A").textValue()).isEqualTo("\u20ac \ud83d\ude00x");
    }

    @Test
    void queryStringAndBodyDecodeTogether() {
        AwsQuery.Request r = AwsQuery.decode("Action=GetRole&Version=2010-05-08", "RoleName=r%201".getBytes(StandardCharsets.UTF_8));
        assertThat(r.action()).isEqualTo("GetRole");
        assertThat(r.version()).isEqualTo("2010-05-08");
        assertThat(r.input().toString()).isEqualTo("{\"RoleName\":\"r 1\"}");
    }

    @Test
    void nameInBothQueryStringAndBodyIsRepeated() {
        assertThatThrownBy(() -> AwsQuery.decode("Action=X", "Action=Y".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
        assertThatThrownBy(() -> AwsQuery.decode("Action=X&A=1", "A=2".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
    }

    @Test
    void bodyThatIsNotUtf8IsRefused() {
        byte[] body = {'A', '=', (byte) 0xC3, '(', '&', 'A', 'c', 't', 'i', 'o', 'n', '=', 'X'};
        assertThatThrownBy(() -> AwsQuery.decode("", body))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
    }

    @Test
    void parameterCountSpansQueryStringAndBody() {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            body.append("&P").append(i).append("=v");
        }
        assertThatThrownBy(() -> AwsQuery.decode("Action=X", body.toString().getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
    }

    @Test
    void fieldNamedLikeAnOldMapMarkerIsAnOrdinaryElement() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putObject("M").put("__citadel_query_map__", "x");
        assertThat(new String(AwsQuery.encode("A", "urn:x", out, "r").body(), StandardCharsets.UTF_8))
                .contains("<M><__citadel_query_map__>x</__citadel_query_map__></M>");
    }

    @Test
    void queryMapInsideAListWritesEntriesInsideEachMember() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("L").add(AwsQuery.map(JsonNodeFactory.instance.objectNode().put("k", "v")));
        assertThat(new String(AwsQuery.encode("A", "urn:x", out, "r").body(), StandardCharsets.UTF_8))
                .contains("<L><member><entry><key>k</key><value>v</value></entry></member></L>");
    }

    @Test
    void booleansAndNumbersAreWrittenAsText() {
        ObjectNode out = JsonNodeFactory.instance.objectNode().put("IsTruncated", false).put("MaxItems", 100).put("Ratio", 0.5);
        assertThat(new String(AwsQuery.encode("A", "urn:x", out, "r").body(), StandardCharsets.UTF_8))
                .contains("<AResult><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems><Ratio>0.5</Ratio></AResult>");
    }

    @Test
    void outputThatIsNotAnObjectIsRefused() {
        assertThatThrownBy(() -> AwsQuery.encode("A", "urn:x", JsonNodeFactory.instance.arrayNode(), "r"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void responseCarriesTheRequestIdHeader() {
        assertThat(AwsQuery.encode("A", "urn:x", null, "req-9").headers()).containsExactly(java.util.Map.entry("x-amzn-RequestId", "req-9"));
    }
}
