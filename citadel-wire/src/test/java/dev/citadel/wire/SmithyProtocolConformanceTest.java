package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import software.amazon.smithy.model.Model;
import software.amazon.smithy.model.node.Node;
import software.amazon.smithy.model.shapes.MemberShape;
import software.amazon.smithy.model.shapes.OperationShape;
import software.amazon.smithy.model.shapes.Shape;
import software.amazon.smithy.model.shapes.ShapeId;
import software.amazon.smithy.model.shapes.ShapeType;
import software.amazon.smithy.model.shapes.StructureShape;
import software.amazon.smithy.model.traits.ErrorTrait;
import software.amazon.smithy.model.traits.XmlFlattenedTrait;
import software.amazon.smithy.model.traits.XmlNameTrait;
import software.amazon.smithy.protocoltests.traits.AppliesTo;
import software.amazon.smithy.protocoltests.traits.HttpRequestTestCase;
import software.amazon.smithy.protocoltests.traits.HttpRequestTestsTrait;
import software.amazon.smithy.protocoltests.traits.HttpResponseTestCase;
import software.amazon.smithy.protocoltests.traits.HttpResponseTestsTrait;

/**
 * The server-side cases of {@code software.amazon.smithy:smithy-aws-protocol-tests} that a
 * schema-less codec can answer:
 * <ul>
 *   <li>request tests of awsJson 1.0/1.1 and awsQuery: our decoder reads the serialized body into
 *       the tree the case's {@code params} describe (for awsQuery, scalars compare as their text,
 *       since the form carries only text);</li>
 *   <li>response tests of error shapes in all five protocols: our encoder, given the error's code,
 *       status and message, produces a response from which the error code and status are read the
 *       way the case's body and headers carry them.</li>
 * </ul>
 * Cases that need the operation's schema (timestamps, blobs, floats' special values, empty lists,
 * renamed or flattened XML members, error members beyond the message) are excluded with that
 * reason, counted, and printed; minimum counts keep the test from passing on nothing.
 */
class SmithyProtocolConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ShapeId AWS_JSON_1_0 = ShapeId.from("aws.protocols#awsJson1_0");
    private static final ShapeId AWS_JSON_1_1 = ShapeId.from("aws.protocols#awsJson1_1");
    private static final ShapeId AWS_QUERY = ShapeId.from("aws.protocols#awsQuery");
    private static final ShapeId REST_XML = ShapeId.from("aws.protocols#restXml");
    private static final ShapeId REST_JSON_1 = ShapeId.from("aws.protocols#restJson1");
    private static final Map<String, Integer> MIN_EXECUTED = Map.of("request awsJson1_1", 10, "request awsQuery", 5,
            "error awsJson1_1", 2, "error awsJson1_0", 3, "error awsQuery", 2, "error restXml", 2, "error restJson1", 2);

    private static Model model;
    private static final Map<String, Integer> executed = new TreeMap<>();
    private static final Map<String, Integer> excluded = new TreeMap<>();

    @BeforeAll
    static void load() {
        model = Model.assembler(SmithyProtocolConformanceTest.class.getClassLoader())
                .discoverModels(SmithyProtocolConformanceTest.class.getClassLoader())
                .assemble()
                .getResult()
                .orElseThrow(() -> new AssertionError("the Smithy protocol-test models did not load"));
    }

    @AfterAll
    static void summary() {
        System.out.println("Smithy conformance executed: " + executed);
        System.out.println("Smithy conformance excluded (reason: count): " + excluded);
        MIN_EXECUTED.forEach((k, min) -> assertThat(executed.getOrDefault(k, 0)).as("executed %s", k).isGreaterThanOrEqualTo(min));
    }

    private static String name(ShapeId protocol) {
        return protocol.getName();
    }

    private static void exclude(String reason) {
        excluded.merge(reason, 1, Integer::sum);
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
                if (c.getAppliesTo().filter(a -> a == AppliesTo.CLIENT).isPresent() && !protocol.equals(AWS_QUERY)) {
                    continue;
                }
                if (!protocol.equals(AWS_JSON_1_0) && !protocol.equals(AWS_JSON_1_1) && !protocol.equals(AWS_QUERY)) {
                    continue;
                }
                if (op.hasTrait(ShapeId.from("smithy.api#requestCompression"))) {
                    exclude("compressed request bodies (requestCompression) are not accepted by Citadel");
                    continue;
                }
                Optional<String> why = schemaNeeded(op.getInputShape(), protocol.equals(AWS_QUERY));
                if (why.isPresent()) {
                    exclude(why.get());
                    continue;
                }
                if (protocol.equals(AWS_QUERY) && c.getBody().orElse("").matches(".*=(&|$).*")) {
                    exclude("an empty list is an empty value, which only the schema can tell from an empty string");
                    continue;
                }
                String key = "request " + name(protocol);
                tests.add(DynamicTest.dynamicTest(c.getId(), () -> {
                    executed.merge(key, 1, Integer::sum);
                    byte[] body = c.getBody().orElse("").getBytes(StandardCharsets.UTF_8);
                    JsonNode expected = JSON.readTree(Node.printJson(c.getParams()));
                    if (protocol.equals(AWS_QUERY)) {
                        AwsQuery.Request r = AwsQuery.decode(new String(body, StandardCharsets.UTF_8));
                        assertThat(r.action()).isEqualTo(op.getId().getName());
                        assertThat(r.input()).isEqualTo(textual(expected));
                    } else {
                        JsonNode want = expected.isNull() ? JsonNodeFactory.instance.objectNode() : expected;
                        assertThat(withoutUnsetNulls(AwsJson.decode(body), want)).isEqualTo(want);
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** The reason a case needs the schema, if any of the input's shapes would make a schema-less decoder differ. */
    private Optional<String> schemaNeeded(ShapeId input, boolean query) {
        return schemaNeeded(model.expectShape(input), query, 0);
    }

    private Optional<String> schemaNeeded(Shape shape, boolean query, int depth) {
        if (depth > 8) {
            return Optional.of("recursive shapes");
        }
        ShapeType t = shape.getType();
        if (t == ShapeType.TIMESTAMP) {
            return Optional.of("timestamps are formatted by the schema");
        }
        if (t == ShapeType.BLOB) {
            return Optional.of("blobs are base64 by the schema");
        }
        if (t == ShapeType.FLOAT || t == ShapeType.DOUBLE) {
            return Optional.of("floats have special values the schema names");
        }
        if (t == ShapeType.DOCUMENT || t == ShapeType.UNION || t == ShapeType.BIG_DECIMAL || t == ShapeType.BIG_INTEGER) {
            return Optional.of("documents, unions and big numbers are typed by the schema");
        }
        if (query && (shape.hasTrait(XmlNameTrait.class) || shape.hasTrait(XmlFlattenedTrait.class))) {
            return Optional.of("renamed or flattened query members are named by the schema");
        }
        for (MemberShape m : shape.members()) {
            if (m.hasTrait(ShapeId.from("smithy.api#default"))) {
                return Optional.of("default values are filled in from the schema");
            }
            if (m.hasTrait(ShapeId.from("smithy.api#idempotencyToken"))) {
                return Optional.of("idempotency tokens are filled in by clients from the schema");
            }
            if (query && (m.hasTrait(XmlNameTrait.class) || m.hasTrait(XmlFlattenedTrait.class)
                    || m.hasTrait(ShapeId.from("aws.protocols#awsQueryName")))) {
                return Optional.of("renamed or flattened query members are named by the schema");
            }
            Optional<String> inner = schemaNeeded(model.expectShape(m.getTarget()), query, depth + 1);
            if (inner.isPresent()) {
                return inner;
            }
        }
        return Optional.empty();
    }

    /**
     * A structure member sent as {@code null} is not set (Citadel's input readers treat it so); a
     * sparse map or list keeps its nulls. Without the schema, drop from ours exactly the null
     * members that the expected tree does not have.
     */
    private static JsonNode withoutUnsetNulls(JsonNode ours, JsonNode expected) {
        if (ours.isObject() && expected.isObject()) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            ours.fields().forEachRemaining(e -> {
                if (!(e.getValue().isNull() && !expected.has(e.getKey()))) {
                    o.set(e.getKey(), expected.has(e.getKey()) ? withoutUnsetNulls(e.getValue(), expected.get(e.getKey())) : e.getValue());
                }
            });
            return o;
        }
        return ours;
    }

    /** The form carries text only: scalars become their text, as our decoder yields them. */
    private static JsonNode textual(JsonNode n) {
        if (n == null || n.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (n.isObject()) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            n.fields().forEachRemaining(e -> o.set(e.getKey(), textual(e.getValue())));
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            n.forEach(x -> a.add(textual(x)));
            return a;
        }
        return JsonNodeFactory.instance.textNode(n.asText());
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
                ShapeId protocol = c.getProtocol();
                if (!List.of(AWS_JSON_1_0, AWS_JSON_1_1, AWS_QUERY, REST_XML, REST_JSON_1).contains(protocol)) {
                    continue;
                }
                if (c.getAppliesTo().filter(a -> a == AppliesTo.CLIENT).isPresent()) {
                    exclude("client-only error parsing case");
                    continue;
                }
                Map<String, Node> params = new LinkedHashMap<>();
                c.getParams().getMembers().forEach((k, v) -> params.put(k.getValue(), v));
                params.keySet().removeIf(k -> k.equalsIgnoreCase("message"));
                if (!params.isEmpty()) {
                    exclude("error members beyond the message are not produced by Citadel's errors");
                    continue;
                }
                String key = "error " + name(protocol);
                tests.add(DynamicTest.dynamicTest(c.getId(), () -> {
                    executed.merge(key, 1, Integer::sum);
                    String code = errorCode(protocol, c);
                    assertThat(code).as("the case names a code").isNotEmpty();
                    AwsException e = new AwsException(code, c.getCode(), c.getParams().getStringMemberOrDefault("Message",
                            c.getParams().getStringMemberOrDefault("message", "an error")));
                    EncodedResponse ours = encode(protocol, e);
                    assertThat(ours.status()).isEqualTo(c.getCode());
                    assertThat(errorCode(protocol, ours)).isEqualTo(code);
                }));
            }
        }
        return tests.stream();
    }

    private static EncodedResponse encode(ShapeId protocol, AwsException e) {
        if (protocol.equals(AWS_JSON_1_0)) {
            return AwsJson.encodeError(Protocol.AWS_JSON_1_0, e, "req", false);
        }
        if (protocol.equals(AWS_JSON_1_1)) {
            return AwsJson.encodeError(Protocol.AWS_JSON_1_1, e, "req", false);
        }
        if (protocol.equals(AWS_QUERY)) {
            return AwsQuery.encodeError("https://example.com/", e, "req");
        }
        if (protocol.equals(REST_XML)) {
            return RestXml.encodeError(e, "req", "host", false);
        }
        return RestJson.encodeError(e, "req");
    }

    /** Reads the error code from a response the way the AWS SDKs do for each protocol. */
    private static String errorCode(ShapeId protocol, EncodedResponse r) throws Exception {
        return errorCode(protocol, lower(r.headers()), new String(r.body(), StandardCharsets.UTF_8));
    }

    private static String errorCode(ShapeId protocol, HttpResponseTestCase c) throws Exception {
        return errorCode(protocol, lower(c.getHeaders()), c.getBody().orElse(""));
    }

    private static Map<String, String> lower(Map<String, String> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> out.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return out;
    }

    private static String errorCode(ShapeId protocol, Map<String, String> headers, String body) throws Exception {
        String raw;
        if (protocol.equals(AWS_QUERY) || protocol.equals(REST_XML)) {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
            NodeList codes = doc.getElementsByTagName("Code");
            raw = codes.getLength() == 0 ? "" : codes.item(0).getTextContent();
        } else if (headers.containsKey("x-amzn-errortype")) {
            raw = headers.get("x-amzn-errortype");
        } else {
            JsonNode n = body.isBlank() ? JsonNodeFactory.instance.objectNode() : JSON.readTree(body);
            raw = n.has("__type") ? n.get("__type").asText() : n.path("code").asText();
        }
        int colon = raw.indexOf(':');
        if (colon >= 0) {
            raw = raw.substring(0, colon);
        }
        int hash = raw.lastIndexOf('#');
        return hash >= 0 ? raw.substring(hash + 1) : raw;
    }
}
