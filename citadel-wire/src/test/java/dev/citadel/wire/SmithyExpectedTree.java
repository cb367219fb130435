package dev.citadel.wire;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.smithy.model.Model;
import software.amazon.smithy.model.node.Node;
import software.amazon.smithy.model.node.ObjectNode.Builder;
import software.amazon.smithy.model.shapes.CollectionShape;
import software.amazon.smithy.model.shapes.MapShape;
import software.amazon.smithy.model.shapes.MemberShape;
import software.amazon.smithy.model.shapes.Shape;
import software.amazon.smithy.model.shapes.ShapeType;
import software.amazon.smithy.model.traits.HttpHeaderTrait;
import software.amazon.smithy.model.traits.HttpLabelTrait;
import software.amazon.smithy.model.traits.HttpPayloadTrait;
import software.amazon.smithy.model.traits.HttpPrefixHeadersTrait;
import software.amazon.smithy.model.traits.HttpQueryParamsTrait;
import software.amazon.smithy.model.traits.HttpQueryTrait;
import software.amazon.smithy.model.traits.HttpResponseCodeTrait;
import software.amazon.smithy.model.traits.JsonNameTrait;
import software.amazon.smithy.model.traits.TimestampFormatTrait;
import software.amazon.smithy.model.traits.XmlAttributeTrait;
import software.amazon.smithy.model.traits.XmlFlattenedTrait;
import software.amazon.smithy.model.traits.XmlNameTrait;

/**
 * Turns a Smithy test case's {@code params} (typed values keyed by member name) into the tree that
 * Citadel's schema-less decoder yields for the same request, using the operation's shapes the way
 * each protocol's serializer does. This is the test-side normalization; the decoders never see a
 * schema.
 * <ul>
 *   <li>awsJson: member names; timestamps as the format the schema names (epoch seconds by
 *       default); blobs as base64.</li>
 *   <li>restJson1: as awsJson, with {@code @jsonName} and only the members bound to the body (an
 *       {@code @httpPayload} structure is the body itself).</li>
 *   <li>awsQuery: every leaf as text; {@code @xmlName} renames; a list is an array when its members
 *       are called {@code member} or it is flattened, else {@code {"<name>":[…]}}; an empty list is the
 *       empty string ({@code L=}); a map is an object when its entries use {@code key}/{@code value},
 *       a flattened map an array of entries, an empty map nothing at all; timestamps ISO 8601 by default.</li>
 *   <li>restXml: the reader's tree: {@code {"<root>":{…}}}, text leaves, an element repeated once a
 *       single value and more than once an array, an empty element (empty list or structure) the
 *       empty string, attributes not read.</li>
 * </ul>
 * {@link #equivalent} compares trees the way the wire allows: numbers by value, text that holds
 * numbers or timestamps by what it denotes.
 */
final class SmithyExpectedTree {
    /** The wire family of a protocol, which decides every naming and typing rule above. */
    enum Wire { AWS_JSON, REST_JSON, AWS_QUERY, REST_XML }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Model model;
    private final Wire wire;

    SmithyExpectedTree(Model model, Wire wire) {
        this.model = requireNonNull(model, "model is null");
        this.wire = requireNonNull(wire, "wire is null");
    }

    /** The body members of an input structure for the REST protocols; all members otherwise. */
    List<MemberShape> bodyMembers(Shape input) {
        List<MemberShape> out = new ArrayList<>();
        for (MemberShape m : input.members()) {
            boolean bound = m.hasTrait(HttpHeaderTrait.class) || m.hasTrait(HttpQueryTrait.class) || m.hasTrait(HttpLabelTrait.class)
                    || m.hasTrait(HttpPrefixHeadersTrait.class) || m.hasTrait(HttpQueryParamsTrait.class)
                    || m.hasTrait(HttpResponseCodeTrait.class);
            if (!bound || wire == Wire.AWS_JSON || wire == Wire.AWS_QUERY) {
                out.add(m);
            }
        }
        return out;
    }

    /** The member carrying {@code @httpPayload}, if any. */
    static Optional<MemberShape> payload(Shape input) {
        return input.members().stream().filter(m -> m.hasTrait(HttpPayloadTrait.class)).findFirst();
    }

    /** The expected tree of a request's input. */
    JsonNode request(Shape input, software.amazon.smithy.model.node.ObjectNode params) {
        Optional<MemberShape> payload = wire == Wire.REST_JSON || wire == Wire.REST_XML ? payload(input) : Optional.empty();
        if (payload.isPresent()) {
            MemberShape m = payload.get();
            Shape target = model.expectShape(m.getTarget());
            Node value = params.getMember(m.getMemberName()).orElse(Node.objectNode());
            JsonNode content = value(target, m, value);
            if (wire == Wire.REST_JSON) {
                return content;
            }
            String root = m.getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue)
                    .orElse(target.getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse(target.getId().getName()));
            return F.objectNode().set(root, content);
        }
        Builder onlyBody = Node.objectNodeBuilder();
        for (MemberShape m : bodyMembers(input)) {
            params.getMember(m.getMemberName()).ifPresent(v -> onlyBody.withMember(m.getMemberName(), v));
        }
        JsonNode content = structure(input, onlyBody.build());
        if (wire == Wire.REST_XML) {
            String root = input.getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse(input.getId().getName());
            return F.objectNode().set(root, content);
        }
        return content;
    }

    private JsonNode structure(Shape shape, software.amazon.smithy.model.node.ObjectNode params) {
        ObjectNode out = F.objectNode();
        for (MemberShape m : shape.members()) {
            Optional<Node> v = params.getMember(m.getMemberName());
            boolean emptyQueryMap = wire == Wire.AWS_QUERY && v.isPresent() && v.get().isObjectNode() && v.get().expectObjectNode().isEmpty()
                    && model.expectShape(m.getTarget()).isMapShape();
            if (v.isEmpty() || emptyQueryMap || (wire == Wire.REST_XML && m.hasTrait(XmlAttributeTrait.class))) {
                continue;
            }
            if (v.get().isNullNode() && wire != Wire.AWS_JSON && wire != Wire.REST_JSON) {
                continue;
            }
            Shape target = model.expectShape(m.getTarget());
            String name = name(m);
            JsonNode value = value(target, m, v.get());
            boolean flattened = m.hasTrait(XmlFlattenedTrait.class) && (wire == Wire.AWS_QUERY || wire == Wire.REST_XML);
            if (wire == Wire.REST_XML && flattened && value.isArray() && value.isEmpty()) {
                continue;
            }
            if (wire == Wire.REST_XML && flattened) {
                out.set(name, value.isArray() ? repeated((ArrayNode) value) : value);
            } else {
                out.set(name, value);
            }
        }
        if (wire == Wire.REST_XML && out.isEmpty()) {
            return F.textNode("");
        }
        return out;
    }

    private String name(MemberShape m) {
        return switch (wire) {
            case AWS_JSON -> m.getMemberName();
            case REST_JSON -> m.getTrait(JsonNameTrait.class).map(JsonNameTrait::getValue).orElse(m.getMemberName());
            case AWS_QUERY, REST_XML -> m.getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse(m.getMemberName());
        };
    }

    /** Our XML reader: one element is its value, several an array. */
    private static JsonNode repeated(ArrayNode items) {
        return items.size() == 1 ? items.get(0) : items;
    }

    private JsonNode value(Shape shape, MemberShape member, Node v) {
        if (v.isNullNode()) {
            return F.nullNode();
        }
        ShapeType t = shape.getType();
        boolean xmlish = wire == Wire.AWS_QUERY || wire == Wire.REST_XML;
        boolean flattened = member != null && member.hasTrait(XmlFlattenedTrait.class);
        switch (t) {
            case STRUCTURE, UNION -> {
                return structure(shape, v.expectObjectNode());
            }
            case LIST, SET -> {
                MemberShape item = ((CollectionShape) shape).getMember();
                Shape itemTarget = model.expectShape(item.getTarget());
                ArrayNode items = F.arrayNode();
                for (Node n : v.expectArrayNode().getElements()) {
                    items.add(value(itemTarget, item, n));
                }
                if (!xmlish) {
                    return items;
                }
                if (items.isEmpty()) {
                    return F.textNode("");
                }
                if (flattened) {
                    return items;
                }
                String itemName = item.getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse("member");
                if (wire == Wire.AWS_QUERY && itemName.equals("member")) {
                    return items;
                }
                return F.objectNode().set(itemName, wire == Wire.REST_XML ? repeated(items) : items);
            }
            case MAP -> {
                MapShape map = (MapShape) shape;
                Shape valueTarget = model.expectShape(map.getValue().getTarget());
                if (!xmlish) {
                    ObjectNode out = F.objectNode();
                    v.expectObjectNode().getStringMap().forEach((k, n) -> out.set(k, value(valueTarget, map.getValue(), n)));
                    return out;
                }
                String keyName = map.getKey().getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse("key");
                String valueName = map.getValue().getTrait(XmlNameTrait.class).map(XmlNameTrait::getValue).orElse("value");
                ArrayNode entries = F.arrayNode();
                ObjectNode asObject = F.objectNode();
                for (Map.Entry<String, Node> e : v.expectObjectNode().getStringMap().entrySet()) {
                    JsonNode val = value(valueTarget, map.getValue(), e.getValue());
                    ObjectNode entry = F.objectNode().put(keyName, e.getKey());
                    if (!val.isNull()) {
                        entry.set(valueName, val);
                    }
                    entries.add(entry);
                    asObject.set(e.getKey(), val);
                }
                if (entries.isEmpty()) {
                    return F.textNode("");
                }
                if (wire == Wire.AWS_QUERY) {
                    return !flattened && keyName.equals("key") && valueName.equals("value") ? asObject : wrapEntries(entries, flattened);
                }
                return wrapEntries(repeated(entries), flattened);
            }
            case TIMESTAMP -> {
                return timestamp(shape, member, v);
            }
            case BLOB -> {
                String text = Base64.getEncoder().encodeToString(v.expectStringNode().getValue().getBytes(StandardCharsets.UTF_8));
                return F.textNode(text);
            }
            case DOCUMENT -> {
                return toJackson(v);
            }
            default -> {
                if (xmlish) {
                    return F.textNode(v.isStringNode() ? v.expectStringNode().getValue()
                            : v.isBooleanNode() ? String.valueOf(v.expectBooleanNode().getValue())
                            : v.expectNumberNode().getValue().toString());
                }
                return toJackson(v);
            }
        }
    }

    private static JsonNode wrapEntries(JsonNode entries, boolean flattened) {
        return flattened ? entries : F.objectNode().set("entry", entries);
    }

    private JsonNode timestamp(Shape shape, MemberShape member, Node v) {
        String format = Optional.ofNullable(member).flatMap(m -> m.getTrait(TimestampFormatTrait.class))
                .or(() -> shape.getTrait(TimestampFormatTrait.class)).map(TimestampFormatTrait::getValue)
                .orElse(wire == Wire.AWS_JSON || wire == Wire.REST_JSON ? "epoch-seconds" : "date-time");
        BigDecimal seconds = new BigDecimal(v.expectNumberNode().getValue().toString());
        Instant instant = Instant.ofEpochSecond(seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
        return switch (format) {
            case "epoch-seconds" -> wire == Wire.AWS_QUERY || wire == Wire.REST_XML ? F.textNode(seconds.toPlainString()) : F.numberNode(seconds);
            case "http-date" -> F.textNode(DateTimeFormatter.RFC_1123_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC)));
            default -> F.textNode(DateTimeFormatter.ISO_INSTANT.format(instant));
        };
    }

    static JsonNode toJackson(Node n) {
        try {
            return JSON.readTree(Node.printJson(n));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where two trees differ, or empty when they are equivalent. */
    static Optional<String> difference(JsonNode ours, JsonNode expected, String path) {
        if (ours == null || expected == null) {
            return ours == expected ? Optional.empty() : Optional.of(path + ": " + ours + " vs expected " + expected);
        }
        if (expected.isObject() && ours.isObject()) {
            for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                Optional<String> d = difference(ours.get(k), expected.get(k), path + "." + k);
                if (d.isPresent()) {
                    return d;
                }
            }
            for (Iterator<String> it = ours.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!expected.has(k)) {
                    return Optional.of(path + "." + k + ": unexpected " + ours.get(k));
                }
            }
            return Optional.empty();
        }
        if (expected.isArray() && ours.isArray()) {
            if (expected.size() != ours.size()) {
                return Optional.of(path + ": " + ours + " vs expected " + expected);
            }
            for (int i = 0; i < expected.size(); i++) {
                Optional<String> d = difference(ours.get(i), expected.get(i), path + "[" + i + "]");
                if (d.isPresent()) {
                    return d;
                }
            }
            return Optional.empty();
        }
        return sameLeaf(ours, expected) ? Optional.empty() : Optional.of(path + ": " + ours + " vs expected " + expected);
    }

    private static boolean sameLeaf(JsonNode a, JsonNode b) {
        if (a.equals(b)) {
            return true;
        }
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isValueNode() && b.isValueNode() && !a.isContainerNode() && a.isNumber() == b.isNumber()) {
            Optional<BigDecimal> x = decimal(a.asText());
            Optional<BigDecimal> y = decimal(b.asText());
            if (x.isPresent() && y.isPresent()) {
                return x.get().compareTo(y.get()) == 0;
            }
            Optional<Instant> p = instant(a.asText());
            Optional<Instant> q = instant(b.asText());
            return p.isPresent() && p.equals(q);
        }
        return false;
    }

    private static Optional<BigDecimal> decimal(String s) {
        try {
            return Optional.of(new BigDecimal(s));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Instant> instant(String s) {
        for (DateTimeFormatter f : List.of(DateTimeFormatter.ISO_OFFSET_DATE_TIME, DateTimeFormatter.RFC_1123_DATE_TIME)) {
            try {
                return Optional.of(Instant.from(f.parse(s)));
            } catch (DateTimeParseException e) {
                // the other format may apply
            }
        }
        return Optional.empty();
    }
}
