package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

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
}
