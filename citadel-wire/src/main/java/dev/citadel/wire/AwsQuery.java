package dev.citadel.wire;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The awsQuery protocol (STS, IAM). A request is a form ({@code application/x-www-form-urlencoded}
 * body, or the query string of a GET) with {@code Action}, {@code Version} and the input members.
 * Members decode into one tree without a schema:
 * <ul>
 *   <li>{@code A.B=v} nests: {@code {"A":{"B":"v"}}};</li>
 *   <li>{@code L.member.N=v} (and flattened {@code L.N=v}) is a list ordered by N, which must run 1..n without gaps;</li>
 *   <li>{@code M.entry.N.key=k&M.entry.N.value=v} is a map {@code {"M":{"k":"v"}}}; an entry has
 *       nothing but {@code key} and {@code value}, and a key appears once;</li>
 *   <li>every leaf is a string; handlers convert numbers and booleans;</li>
 *   <li>a parameter, {@code Action} and {@code Version} included, appears once: a repeated or
 *       conflicting name is {@code MalformedQueryString}, as is any ambiguity that would let two
 *       readers of the same form see different input.</li>
 * </ul>
 * A response is {@code <ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>
 * <RequestId>…</RequestId></ResponseMetadata></ActionResponse>}: objects become elements, arrays
 * repeated {@code <member>} elements, and an object wrapped by {@link #map(ObjectNode)} becomes
 * {@code <entry><key>…</key><value>…</value></entry>} elements; JSON nulls are left out. Element
 * names (the action and the output's field names) must be XML names; anything else is a bug of the
 * caller and fails with {@link IllegalArgumentException} rather than produce a broken document. An error is
 * {@code <ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message>
 * </Error><RequestId>…</RequestId></ErrorResponse>}.
 */
public final class AwsQuery {
    /** The decoded form: the action, the API version and the input members. */
    public record Request(String action, String version, ObjectNode input) {
        public Request {
            requireNonNull(action, "action is null");
            requireNonNull(version, "version is null");
            requireNonNull(input, "input is null");
        }
    }

    private static final int MAX_PARAMETERS = 1000;
    private static final int MAX_KEY_LENGTH = 512;
    private static final int MAX_DEPTH = 16;
    private static final String MAP_MARKER = "__citadel_query_map__";

    private AwsQuery() {
    }

    public static Request decode(String form) {
        Map<String, Object> root = new LinkedHashMap<>();
        String action = null;
        String version = null;
        int count = 0;
        for (String pair : form.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            if (++count > MAX_PARAMETERS) {
                throw malformed("The request has more than " + MAX_PARAMETERS + " parameters.");
            }
            int eq = pair.indexOf('=');
            String key = formDecode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : formDecode(pair.substring(eq + 1));
            if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
                throw malformed("A parameter name is empty or too long.");
            }
            if (key.equals("Action")) {
                if (action != null) {
                    throw malformed("Parameter Action is repeated.");
                }
                action = value;
                continue;
            }
            if (key.equals("Version")) {
                if (version != null) {
                    throw malformed("Parameter Version is repeated.");
                }
                version = value;
                continue;
            }
            put(root, key, value);
        }
        if (action == null || action.isEmpty()) {
            throw new AwsException("MissingAction", 400, "Could not find an action in the request.");
        }
        JsonNode tree = convert(root, 0);
        return new Request(action, version == null ? "" : version, (ObjectNode) tree);
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> root, String key, String value) {
        String[] path = key.split("\\.", -1);
        if (path.length > MAX_DEPTH) {
            throw malformed("Parameter " + key + " is nested too deeply.");
        }
        Map<String, Object> node = root;
        for (int i = 0; i < path.length - 1; i++) {
            if (path[i].isEmpty()) {
                throw malformed("Parameter " + key + " is malformed.");
            }
            Object next = node.computeIfAbsent(path[i], k -> new LinkedHashMap<String, Object>());
            if (!(next instanceof Map)) {
                throw malformed("Parameter " + key + " conflicts with another parameter.");
            }
            node = (Map<String, Object>) next;
        }
        String last = path[path.length - 1];
        if (last.isEmpty() || node.containsKey(last)) {
            throw malformed("Parameter " + key + " is malformed or repeated.");
        }
        node.put(last, value);
    }

    @SuppressWarnings("unchecked")
    private static JsonNode convert(Object value, int depth) {
        if (value instanceof String s) {
            return JsonNodeFactory.instance.textNode(s);
        }
        Map<String, Object> map = (Map<String, Object>) value;
        if (depth > 0 && map.size() == 1 && map.containsKey("member") && map.get("member") instanceof Map) {
            return list((Map<String, Object>) map.get("member"), depth);
        }
        if (depth > 0 && map.size() == 1 && map.containsKey("entry") && map.get("entry") instanceof Map) {
            ArrayNode entries = list((Map<String, Object>) map.get("entry"), depth);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (JsonNode e : entries) {
                if (!e.isObject() || !e.path("key").isTextual() || e.size() != (e.has("value") ? 2 : 1)) {
                    throw malformed("A map entry must have a key and a value.");
                }
                String k = e.get("key").textValue();
                if (out.has(k)) {
                    throw malformed("Map key " + k + " is repeated.");
                }
                out.set(k, e.has("value") ? e.get("value") : JsonNodeFactory.instance.textNode(""));
            }
            return out;
        }
        if (depth > 0 && !map.isEmpty() && map.keySet().stream().allMatch(AwsQuery::isIndex)) {
            return list(map, depth);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        map.forEach((k, v) -> out.set(k, convert(v, depth + 1)));
        return out;
    }

    private static ArrayNode list(Map<String, Object> indexed, int depth) {
        TreeMap<Integer, Object> sorted = new TreeMap<>();
        for (Map.Entry<String, Object> e : indexed.entrySet()) {
            if (!isIndex(e.getKey())) {
                throw malformed("A list index must be a positive number.");
            }
            sorted.put(Integer.parseInt(e.getKey()), e.getValue());
        }
        if (sorted.firstKey() != 1 || sorted.lastKey() != sorted.size()) {
            throw malformed("List indexes must run from 1 without gaps.");
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        sorted.values().forEach(v -> out.add(convert(v, depth + 1)));
        return out;
    }

    private static boolean isIndex(String s) {
        if (s.isEmpty() || s.length() > 4 || s.charAt(0) == '0') {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** Decodes {@code application/x-www-form-urlencoded}: {@code +} is a space, {@code %XX} a byte of UTF-8. */
    static String formDecode(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                out.write(' ');
            } else if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw malformed("The request contains a malformed percent-encoding.");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw malformed("The request contains a malformed percent-encoding.");
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Marks an object to be written as a query-protocol map ({@code entry}/{@code key}/{@code value}). */
    public static ObjectNode map(ObjectNode entries) {
        ObjectNode wrapper = JsonNodeFactory.instance.objectNode();
        wrapper.set(MAP_MARKER, entries);
        return wrapper;
    }

    public static EncodedResponse encode(String action, String namespace, JsonNode output, String requestId) {
        requireName(action);
        StringBuilder sb = new StringBuilder(512);
        sb.append('<').append(action).append("Response xmlns=\"");
        Xml.escape(sb, namespace).append("\">");
        sb.append('<').append(action).append("Result>");
        if (output != null && output.isObject()) {
            writeFields(sb, output);
        }
        sb.append("</").append(action).append("Result>");
        sb.append("<ResponseMetadata>");
        Xml.element(sb, "RequestId", requestId);
        sb.append("</ResponseMetadata></").append(action).append("Response>\n");
        return new EncodedResponse(200, Protocol.AWS_QUERY.contentType(), Map.of("x-amzn-RequestId", requestId),
                sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void writeFields(StringBuilder sb, JsonNode object) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isNull()) {
                continue;
            }
            requireName(f.getKey());
            sb.append('<').append(f.getKey()).append('>');
            writeValue(sb, f.getValue());
            sb.append("</").append(f.getKey()).append('>');
        }
    }

    private static void writeValue(StringBuilder sb, JsonNode v) {
        if (v.isObject() && v.has(MAP_MARKER)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = v.get(MAP_MARKER).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isNull()) {
                    continue;
                }
                sb.append("<entry>");
                Xml.element(sb, "key", e.getKey());
                sb.append("<value>");
                writeValue(sb, e.getValue());
                sb.append("</value></entry>");
            }
        } else if (v.isObject()) {
            writeFields(sb, v);
        } else if (v.isArray()) {
            for (JsonNode item : v) {
                if (item.isNull()) {
                    continue;
                }
                sb.append("<member>");
                writeValue(sb, item);
                sb.append("</member>");
            }
        } else {
            Xml.escape(sb, v.asText());
        }
    }

    public static EncodedResponse encodeError(String namespace, AwsException error, String requestId) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("<ErrorResponse xmlns=\"");
        Xml.escape(sb, namespace).append("\"><Error>");
        Xml.element(sb, "Type", error.fault() == AwsException.Fault.SENDER ? "Sender" : "Receiver");
        Xml.element(sb, "Code", error.code());
        Xml.element(sb, "Message", error.getMessage());
        sb.append("</Error>");
        Xml.element(sb, "RequestId", requestId);
        sb.append("</ErrorResponse>\n");
        return new EncodedResponse(error.httpStatus(), Protocol.AWS_QUERY.contentType(), Map.of("x-amzn-RequestId", requestId),
                sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** An element name of the response: an ASCII XML name, so that no output can change the document's structure. */
    private static void requireName(String name) {
        boolean ok = !name.isEmpty();
        for (int i = 0; ok && i < name.length(); i++) {
            char c = name.charAt(i);
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
                    || (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
        }
        if (!ok) {
            throw new IllegalArgumentException("not an XML element name: " + name);
        }
    }

    private static AwsException malformed(String message) {
        return new AwsException("MalformedQueryString", 400, message);
    }
}
