package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import software.amazon.smithy.model.Model;
import software.amazon.smithy.model.shapes.OperationShape;
import software.amazon.smithy.model.shapes.Shape;
import software.amazon.smithy.model.shapes.ShapeId;
import software.amazon.smithy.model.shapes.StructureShape;
import software.amazon.smithy.model.traits.ErrorTrait;
import software.amazon.smithy.protocoltests.traits.AppliesTo;
import software.amazon.smithy.protocoltests.traits.HttpMalformedRequestTestCase;
import software.amazon.smithy.protocoltests.traits.HttpMalformedRequestTestsTrait;
import software.amazon.smithy.protocoltests.traits.HttpRequestTestCase;
import software.amazon.smithy.protocoltests.traits.HttpRequestTestsTrait;
import software.amazon.smithy.protocoltests.traits.HttpResponseTestCase;
import software.amazon.smithy.protocoltests.traits.HttpResponseTestsTrait;

/**
 * The server-side cases (appliesTo {@code server} or unset) of
 * {@code software.amazon.smithy:smithy-aws-protocol-tests} for awsJson1_0, awsJson1_1, awsQuery,
 * restXml and restJson1, run against Citadel's schema-less codecs as dynamic tests named by case id:
 * <ul>
 *   <li>request cases whose body a decoder reads (every awsJson and awsQuery case; restXml and
 *       restJson1 cases with a structured body): the decoded tree must be equivalent to the case's
 *       {@code params} after {@link SmithyExpectedTree} applies the shapes' wire rules; the awsJson
 *       {@code X-Amz-Target} and the awsQuery {@code Action} must name the operation;</li>
 *   <li>response cases of error shapes: our encoder, given the case's code, status and message,
 *       must give the status, and the code and message as botocore reads them from that protocol
 *       (awsQuery: the whole {@code ErrorResponse} tree);</li>
 *   <li>restJson1 malformed-request cases whose body is not JSON at all: {@link RestJson#decode}
 *       must refuse with the case's status and code, and {@link RestJson#encodeError} must carry it
 *       in {@code X-Amzn-ErrorType}.</li>
 * </ul>
 * Cases that cannot apply to a schema-less codec are excluded by {@link #EXCLUDED}, a list of id
 * patterns each with its reason; the summary prints every exclusion, an exclusion that matches
 * nothing fails the run, and minimum executed counts keep the test from passing on nothing.
 * Known limits of the normalization: XML attributes are not read; ec2Query names are not in scope
 * (ec2Query is not one of Citadel's protocols).
 */
class SmithyProtocolConformanceTest {
    /** One named exclusion: the case ids it covers and why a schema-less codec cannot answer them. */
    record Exclusion(String kind, Pattern ids, String reason) {
        Exclusion(String kind, String ids, String reason) {
            this(kind, Pattern.compile(ids), reason);
        }
    }

    private static final String SCHEMA_TYPES = "typed by the schema: a schema-less decoder keeps what the wire carries and the handler applies the member's type";

    static final List<Exclusion> EXCLUDED = List.of(
            new Exclusion("request", "\\w*ServerPopulates\\w*DefaultsWhenMissingInRequestBody",
                    "@default values are filled in from the schema: the decoder yields what was sent and the handler applies its defaults"),
            new Exclusion("request", "AwsJson11ServersDontDeserializeNullStructureValues|RestJsonServersDontSerializeNullStructureValues",
                    "a JSON null for a structure member means unset: the tree keeps the null and Citadel's input readers treat it as absent"),
            new Exclusion("request", "SDKAppliedContentEncoding_\\w+|SDKAppendsGzipAndIgnoresHttpProvidedEncoding_\\w+",
                    "@requestCompression: the wire body is gzip (Content-Encoding), which the codecs do not decode; the case lists the uncompressed form"),
            new Exclusion("request", "QueryQueryMapWithMemberXmlName",
                    "map key and value renamed by @xmlName: only the schema tells which field is the key; the decoder reads key/value entries and refuses others"),
            new Exclusion("error", "AwsJson1[01]ComplexError|QueryComplexError|ComplexError|RestJsonComplexErrorWithNoMessage",
                    "error members beyond code and message: AwsException carries only code, status and message"),
            new Exclusion("error", "QueryCompatibleAwsJson10CustomCodeError",
                    "a custom awsQueryError code different from the shape name needs two codes; AwsException carries one"),
            new Exclusion("malformed", "RestJson(Path|Query|Header)\\w*|RestJsonHttp\\w*|RestJsonMalformed\\w*(Header|Query|Path)\\w*",
                    "the malformed value is in the URI or a header: routing and binding, not the body codec"),
            new Exclusion("malformed", "RestJsonBody(Byte|Short|Integer|Long)MalformedValueRejected_case(0|1|2|6|8|10)"
                    + "|RestJsonBody(Float|Double)MalformedValueRejected_case[01]|RestJsonBodyBooleanBadLiteral_case(7|18)"
                    + "|RestJsonBodyBooleanStringCoercion_case\\d+|RestJsonBody\\w+UnderflowOverflow_case\\d+"
                    + "|RestJsonBodyMalformedBlobInvalidBase64_case[1-6]|RestJsonBodyTimestamp\\w+",
                    "the body is valid JSON with a value of the wrong type or range: " + SCHEMA_TYPES),
            new Exclusion("malformed", "RestJsonMalformedUnion\\w+|RestJsonMalformedRecursiveStructures|RestJsonBodyMalformed(ListNullItem|MapNullValue)",
                    "valid JSON that breaks the member's shape (a union with other than one member, null in a dense list or map, recursion): "
                    + SCHEMA_TYPES),
            new Exclusion("malformed", "RestJsonMalformed(Length|Pattern|Range|Enum|UniqueItems|Required)\\w*",
                    "constraint traits (length, pattern, range, enum, uniqueItems, required) are checked by each handler against its spec"),
            new Exclusion("malformed", "RestJsonStringPayload\\w+|RestJsonWith\\w+ContentType\\w*",
                    "content negotiation of a REST operation (Content-Type, Accept) belongs to its route, not the body codec"));

    private static final ShapeId AWS_JSON_1_0 = ShapeId.from("aws.protocols#awsJson1_0");
    private static final ShapeId AWS_JSON_1_1 = ShapeId.from("aws.protocols#awsJson1_1");
    private static final ShapeId AWS_QUERY = ShapeId.from("aws.protocols#awsQuery");
    private static final ShapeId REST_XML = ShapeId.from("aws.protocols#restXml");
    private static final ShapeId REST_JSON_1 = ShapeId.from("aws.protocols#restJson1");
    private static final Set<ShapeId> PROTOCOLS = Set.of(AWS_JSON_1_0, AWS_JSON_1_1, AWS_QUERY, REST_XML, REST_JSON_1);
    private static final Map<String, Integer> MIN_EXECUTED = Map.ofEntries(
            Map.entry("request awsJson1_0", 22), Map.entry("request awsJson1_1", 55), Map.entry("request awsQuery", 32),
            Map.entry("request restXml", 46), Map.entry("request restJson1", 59),
            Map.entry("error awsJson1_0", 3), Map.entry("error awsJson1_1", 2), Map.entry("error awsQuery", 2),
            Map.entry("error restXml", 2), Map.entry("error restJson1", 2), Map.entry("malformed restJson1", 66));

    private static Model model;
    private static final Map<String, Integer> executed = new TreeMap<>();
    private static final Map<String, Integer> outOfScope = new TreeMap<>();
    private static final Map<Exclusion, List<String>> excluded = new LinkedHashMap<>();

    @BeforeAll
    static void load() {
        model = Model.assembler(SmithyProtocolConformanceTest.class.getClassLoader())
                .discoverModels(SmithyProtocolConformanceTest.class.getClassLoader())
                .assemble()
                .unwrap();
    }

    @AfterAll
    static void summary() {
        System.out.println("Smithy conformance executed: " + executed);
        System.out.println("Smithy conformance not in scope (no body for a body codec): " + outOfScope);
        for (Exclusion e : EXCLUDED) {
            List<String> ids = excluded.getOrDefault(e, List.of());
            System.out.println("Smithy conformance excluded " + ids.size() + " " + e.kind() + " case(s): " + e.reason() + " " + ids);
        }
        MIN_EXECUTED.forEach((k, min) -> assertThat(executed.getOrDefault(k, 0)).as("executed %s", k).isGreaterThanOrEqualTo(min));
        for (Exclusion e : EXCLUDED) {
            assertThat(excluded.getOrDefault(e, List.of())).as("exclusion %s matches a case", e.ids()).isNotEmpty();
        }
    }

    private static boolean serverSide(Optional<AppliesTo> appliesTo) {
        return appliesTo.isEmpty() || appliesTo.get() == AppliesTo.SERVER;
    }

    private static Optional<Exclusion> exclusion(String kind, String id) {
        Optional<Exclusion> e = EXCLUDED.stream().filter(x -> x.kind().equals(kind) && x.ids().matcher(id).matches()).findFirst();
        e.ifPresent(x -> excluded.computeIfAbsent(x, k -> new ArrayList<>()).add(id));
        return e;
    }

    private static DynamicTest counted(String key, String id, ThrowingBody body) {
        return DynamicTest.dynamicTest(id, () -> {
            try {
                body.run();
            } catch (Exception | AssertionError e) {
                throw new AssertionError(id + ": " + e.getMessage(), e);
            }
            executed.merge(key, 1, Integer::sum);
        });
    }

    /** A test body that may throw. */
    @FunctionalInterface
    interface ThrowingBody {
        void run() throws Exception;
    }

    private static SmithyExpectedTree.Wire wire(ShapeId protocol) {
        if (protocol.equals(AWS_QUERY)) {
            return SmithyExpectedTree.Wire.AWS_QUERY;
        }
        if (protocol.equals(REST_XML)) {
            return SmithyExpectedTree.Wire.REST_XML;
        }
        if (protocol.equals(REST_JSON_1)) {
            return SmithyExpectedTree.Wire.REST_JSON;
        }
        return SmithyExpectedTree.Wire.AWS_JSON;
    }

    @TestFactory
    Stream<DynamicTest> requestTests() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OperationShape op : model.getOperationShapes()) {
            Optional<HttpRequestTestsTrait> trait = op.getTrait(HttpRequestTestsTrait.class);
            if (trait.isEmpty()) {
                continue;
            }
            for (HttpRequestTestCase c : trait.get().getTestCases()) {
                ShapeId protocol = c.getProtocol();
                if (!PROTOCOLS.contains(protocol) || !serverSide(c.getAppliesTo())) {
                    continue;
                }
                String key = "request " + protocol.getName();
                Shape input = model.expectShape(op.getInputShape());
                if ((protocol.equals(REST_XML) || protocol.equals(REST_JSON_1)) && !structuredBody(input, c)) {
                    outOfScope.merge(key, 1, Integer::sum);
                    continue;
                }
                if (exclusion("request", c.getId()).isPresent()) {
                    continue;
                }
                tests.add(counted(key, c.getId(), () -> request(protocol, op, input, c)));
            }
        }
        return tests.stream();
    }

    /** A REST case is for a body codec when it sends a body bound to a structure (not a raw payload). */
    private static boolean structuredBody(Shape input, HttpRequestTestCase c) {
        if (c.getBody().orElse("").isBlank()) {
            return false;
        }
        return SmithyExpectedTree.payload(input)
                .map(m -> model.expectShape(m.getTarget()).isStructureShape() || model.expectShape(m.getTarget()).isUnionShape())
                .orElse(true);
    }

    private static void request(ShapeId protocol, OperationShape op, Shape input, HttpRequestTestCase c) throws Exception {
        String body = c.getBody().orElse("");
        JsonNode expected = new SmithyExpectedTree(model, wire(protocol)).request(input, c.getParams());
        JsonNode ours;
        if (protocol.equals(AWS_QUERY)) {
            AwsQuery.Request r = AwsQuery.decode(body);
            assertThat(r.action()).isEqualTo(op.getId().getName());
            ours = r.input();
        } else if (protocol.equals(REST_XML)) {
            ours = RestXml.read(body.getBytes(StandardCharsets.UTF_8), 1 << 20);
        } else {
            String target = header(c.getHeaders(), "x-amz-target");
            if (!protocol.equals(REST_JSON_1) && !target.isEmpty()) {
                assertThat(AwsJson.operation(target, target.substring(0, target.lastIndexOf('.')))).isEqualTo(op.getId().getName());
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ours = protocol.equals(REST_JSON_1) ? RestJson.decode(bytes) : AwsJson.decode(bytes);
        }
        Optional<String> difference = SmithyExpectedTree.difference(ours, expected, "$");
        assertThat(difference).as("decoded %s%nexpected %s", ours, expected).isEmpty();
    }

    private static String header(Map<String, String> headers, String name) {
        return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst().orElse("");
    }

    @TestFactory
    Stream<DynamicTest> errorResponseTests() {
        List<DynamicTest> tests = new ArrayList<>();
        for (StructureShape error : model.getStructureShapesWithTrait(ErrorTrait.class)) {
            Optional<HttpResponseTestsTrait> trait = error.getTrait(HttpResponseTestsTrait.class);
            if (trait.isEmpty()) {
                continue;
            }
            for (HttpResponseTestCase c : trait.get().getTestCases()) {
                if (!PROTOCOLS.contains(c.getProtocol()) || !serverSide(c.getAppliesTo()) || exclusion("error", c.getId()).isPresent()) {
                    continue;
                }
                tests.add(counted("error " + c.getProtocol().getName(), c.getId(), () -> errorResponse(c)));
            }
        }
        return tests.stream();
    }

    private static void errorResponse(HttpResponseTestCase c) throws Exception {
        ShapeId protocol = c.getProtocol();
        Map<String, String> expectedHeaders = lower(c.getHeaders());
        String expectedBody = c.getBody().orElse("");
        BotocoreError expected = BotocoreError.read(protocol, expectedHeaders, expectedBody.getBytes(StandardCharsets.UTF_8));
        assertThat(expected.code()).as("the case names a code").isNotEmpty();
        AwsException error = new AwsException(expected.code(), c.getCode(), expected.message());
        EncodedResponse ours;
        if (protocol.equals(AWS_QUERY)) {
            String requestId = RestXml.read(expectedBody.getBytes(StandardCharsets.UTF_8), 1 << 20).path("ErrorResponse").path("RequestId").asText();
            ours = AwsQuery.encodeError("https://example.com/", error, requestId);
            JsonNode want = RestXml.read(expectedBody.getBytes(StandardCharsets.UTF_8), 1 << 20);
            assertThat(SmithyExpectedTree.difference(RestXml.read(ours.body(), 1 << 20), want, "$")).isEmpty();
        } else if (protocol.equals(REST_XML)) {
            ours = RestXml.encodeError(error, "req", "host", false);
        } else if (protocol.equals(REST_JSON_1)) {
            ours = RestJson.encodeError(error, "req");
        } else {
            Protocol p = protocol.equals(AWS_JSON_1_0) ? Protocol.AWS_JSON_1_0 : Protocol.AWS_JSON_1_1;
            ours = AwsJson.encodeError(p, error, "req", expectedHeaders.containsKey("x-amzn-query-error"));
        }
        assertThat(ours.status()).isEqualTo(c.getCode());
        assertThat(BotocoreError.read(protocol, lower(ours.headers()), ours.body())).isEqualTo(expected);
        String contentType = expectedHeaders.getOrDefault("content-type", ours.contentType());
        assertThat(ours.contentType()).isEqualTo(contentType);
    }

    /**
     * An error as botocore's parsers read it (parsers.py): JSONParser takes {@code __type} (namespace
     * and {@code :…} suffix dropped) or, query-compatible, {@code x-amzn-query-error}; RestJSONParser
     * {@code x-amzn-errortype}, else {@code code}; both {@code message} or {@code Message}. QueryParser
     * and RestXMLParser take {@code Code} and {@code Message} of {@code <Error>}, at the root (S3) or
     * inside {@code <ErrorResponse>}. An absent message reads as the empty string.
     */
    record BotocoreError(String code, String message, String queryErrorType) {
        static BotocoreError read(ShapeId protocol, Map<String, String> headers, byte[] body) {
            if (protocol.equals(AWS_QUERY) || protocol.equals(REST_XML)) {
                JsonNode tree = RestXml.read(body, 1 << 20);
                JsonNode error = tree.has("ErrorResponse") ? tree.get("ErrorResponse").path("Error") : tree.path("Error");
                return new BotocoreError(error.path("Code").asText(), error.path("Message").asText(), "");
            }
            JsonNode tree = body.length == 0 ? JsonNodeFactory.instance.objectNode() : AwsJson.decode(body);
            String message = tree.has("message") ? tree.get("message").asText() : tree.path("Message").asText();
            String code;
            if (protocol.equals(REST_JSON_1) && headers.containsKey("x-amzn-errortype")) {
                code = headers.get("x-amzn-errortype");
            } else if (protocol.equals(REST_JSON_1)) {
                code = tree.has("code") ? tree.get("code").asText() : tree.path("Code").asText();
            } else {
                code = tree.path("__type").asText();
            }
            code = code.split(":", 2)[0];
            code = code.substring(code.lastIndexOf('#') + 1);
            String queryType = "";
            String queryError = headers.getOrDefault("x-amzn-query-error", "");
            String[] parts = queryError.split(";");
            if (parts.length == 2 && !parts[0].isEmpty()) {
                code = parts[0];
                queryType = parts[1];
            }
            return new BotocoreError(code, message, queryType);
        }
    }

    private static Map<String, String> lower(Map<String, String> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> malformedRequestTests() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OperationShape op : model.getOperationShapes()) {
            Optional<HttpMalformedRequestTestsTrait> trait = op.getTrait(HttpMalformedRequestTestsTrait.class);
            if (trait.isEmpty()) {
                continue;
            }
            for (HttpMalformedRequestTestCase c : trait.get().getTestCases()) {
                if (!PROTOCOLS.contains(c.getProtocol())) {
                    continue;
                }
                String key = "malformed " + c.getProtocol().getName();
                if (c.getRequest().getBody().orElse("").isEmpty()) {
                    outOfScope.merge(key, 1, Integer::sum);
                    continue;
                }
                if (exclusion("malformed", c.getId()).isPresent()) {
                    continue;
                }
                tests.add(counted(key, c.getId(), () -> malformed(c)));
            }
        }
        return tests.stream();
    }

    private static void malformed(HttpMalformedRequestTestCase c) {
        byte[] body = c.getRequest().getBody().orElse("").getBytes(StandardCharsets.UTF_8);
        String code = header(c.getResponse().getHeaders(), "x-amzn-errortype");
        int status = c.getResponse().getCode();
        assertThatThrownBy(() -> RestJson.decode(body)).isInstanceOfSatisfying(AwsException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.httpStatus()).isEqualTo(status);
            EncodedResponse r = RestJson.encodeError(e, "req");
            assertThat(r.status()).isEqualTo(status);
            assertThat(r.headers()).containsEntry("X-Amzn-ErrorType", code);
        });
    }
}
