package dev.citadel.wire;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The awsQuery protocol (STS, IAM).
 *
 * <p>A request is a form: an {@code application/x-www-form-urlencoded} body, the query string of
 * a GET, or both ({@link #decode(String, byte[])}), holding {@code Action}, {@code Version} and the
 * input members. Decoding is strict: the body must be UTF-8, {@code +} is a space, {@code %XX}
 * must be two hex digits and the bytes it gives must be UTF-8; at most 1000 parameters; a name is
 * 1..512 characters of at most 16 dotted segments. Members decode into one tree without a schema:
 * <ul>
 *   <li>{@code A.B=v} nests: {@code {"A":{"B":"v"}}};</li>
 *   <li>{@code L.member.N=v} is a list ordered by N, which must run 1..n without gaps (N is
 *       {@code [1-9][0-9]{0,3}});</li>
 *   <li>flattened {@code L.N=v} (every segment under {@code L} an index) is such a list too;</li>
 *   <li>{@code M.entry.N.key=k&M.entry.N.value=v} is a map {@code {"M":{"k":"v"}}}; an entry has
 *       nothing but {@code key} and {@code value} (a missing value is the empty string), and a key
 *       appears once;</li>
 *   <li>every leaf is a string ({@code L=} with nothing under it, AWS's empty list, is {@code ""});
 *       handlers convert numbers, booleans and empty lists by the member's type;</li>
 *   <li>a parameter, {@code Action} and {@code Version} included, appears once: a repeated or
 *       conflicting name (a leaf and a structure under one name) is refused, as is any ambiguity
 *       that would let two readers of the same form see different input.</li>
 * </ul>
 * A malformed form is {@code MalformedQueryString} (400), the code AWS's query services give for a
 * query string with a syntax error; a form without {@code Action} is {@code MissingAction} (400).
 *
 * <p>A response is {@code <ActionResponse xmlns="ns"><ActionResult>…</ActionResult><ResponseMetadata>
 * <RequestId>…</RequestId></ResponseMetadata></ActionResponse>} as {@code text/xml} with
 * {@code x-amzn-RequestId}: objects become elements, arrays repeated {@code <member>} elements,
 * scalars their text (booleans {@code true}/{@code false}, numbers as written), JSON nulls nothing,
 * and a value made by {@link #map(ObjectNode)} {@code <entry><key>…</key><value>…</value></entry>}
 * elements. Element names (the action and the output's field names) must be XML names; anything
 * else is a bug of the caller and fails with {@link IllegalArgumentException} rather than produce a
 * broken document. An error is {@code <ErrorResponse xmlns="ns"><Error><Type>Sender|Receiver</Type>
 * <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>}, which
 * botocore's QueryParser reads as {@code Error.Code}, {@code Error.Message} and the request id.
 */
public final class AwsQuery {
    /** The decoded form: the action, the API version ({@code ""} when absent) and the input members. */
    public record Request(String action, String version, ObjectNode input) {
        public Request {
            requireNonNull(action, "action is null");
            requireNonNull(version, "version is null");
            requireNonNull(input, "input is null");
        }
    }

    /**
     * An output value to be written as a query map: each field of {@code entries} becomes
     * {@code <entry><key>name</key><value>…</value></entry>}. Made by {@link #map(ObjectNode)}.
     */
    public record QueryMap(ObjectNode entries) {
        public QueryMap {
            requireNonNull(entries, "entries is null");
        }
    }

    public static final int MAX_PARAMETERS = 1000;
    public static final int MAX_NAME_LENGTH = 512;
    private static final int MAX_DEPTH = 16;

    private AwsQuery() {
    }

    /** Decodes one form (a body or a query string already turned into text). */
    public static Request decode(String form) {
        Form f = new Form();
        f.add(form);
        return f.request();
    }

    /** Decodes the parameters of the query string and the form body together; a name in both is repeated. */
    public static Request decode(String rawQuery, byte[] formBody) {
        Form f = new Form();
        f.add(rawQuery);
        f.add(utf8(formBody, 0, formBody.length, "The request body is not UTF-8."));
        return f.request();
    }

    /** The parameters of one request, gathered before they become a tree. */
    private static final class Form {
        private final Map<String, Object> root = new LinkedHashMap<>();
        private String action;
        private String version;
        private int count;

        void add(String form) {
            int start = 0;
            while (start <= form.length()) {
                int end = form.indexOf('&', start);
                if (end < 0) {
                    end = form.length();
                }
                if (end > start) {
                    pair(form, start, end);
                }
                start = end + 1;
            }
        }

        private void pair(String form, int start, int end) {
            if (++count > MAX_PARAMETERS) {
                throw malformed("The request has more than " + MAX_PARAMETERS + " parameters.");
            }
            int eq = form.indexOf('=', start);
            if (eq < 0 || eq > end) {
                eq = end;
            }
            if (eq - start > 3 * MAX_NAME_LENGTH) {
                throw malformed("A parameter name is too long.");
            }
            String key = formDecode(form, start, eq);
            String value = eq == end ? "" : formDecode(form, eq + 1, end);
            if (key.isEmpty() || key.length() > MAX_NAME_LENGTH) {
                throw malformed("A parameter name is empty or too long.");
            }
            switch (key) {
                case "Action" -> {
                    if (action != null) {
                        throw malformed("Parameter Action is repeated.");
                    }
                    action = value;
                }
                case "Version" -> {
                    if (version != null) {
                        throw malformed("Parameter Version is repeated.");
                    }
                    version = value;
                }
                default -> put(key, value);
            }
        }

        @SuppressWarnings("unchecked")
        private void put(String key, String value) {
            Map<String, Object> node = root;
            int depth = 1;
            int start = 0;
            for (int dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', start)) {
                if (++depth > MAX_DEPTH) {
                    throw malformed("Parameter " + key + " is nested too deeply.");
                }
                if (dot == start) {
                    throw malformed("Parameter " + key + " is malformed.");
                }
                Object next = node.computeIfAbsent(key.substring(start, dot), k -> new LinkedHashMap<String, Object>());
                if (!(next instanceof Map)) {
                    throw malformed("Parameter " + key + " conflicts with another parameter.");
                }
                node = (Map<String, Object>) next;
                start = dot + 1;
            }
            String last = key.substring(start);
            if (last.isEmpty() || node.containsKey(last)) {
                throw malformed("Parameter " + key + " is malformed or repeated.");
            }
            node.put(last, value);
        }

        Request request() {
            if (action == null || action.isEmpty()) {
                throw new AwsException("MissingAction", 400, "Could not find an action in the request.");
            }
            return new Request(action, version == null ? "" : version, (ObjectNode) convert(root, 0));
        }
    }

    @SuppressWarnings("unchecked")
    private static JsonNode convert(Object value, int depth) {
        if (value instanceof String s) {
            return JsonNodeFactory.instance.textNode(s);
        }
        Map<String, Object> map = (Map<String, Object>) value;
        if (depth > 0 && map.size() == 1 && map.get("member") instanceof Map) {
            return list((Map<String, Object>) map.get("member"), depth);
        }
        if (depth > 0 && map.size() == 1 && map.get("entry") instanceof Map) {
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
        if (depth > 0 && allIndexes(map)) {
            return list(map, depth);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        map.forEach((k, v) -> out.set(k, convert(v, depth + 1)));
        return out;
    }

    private static boolean allIndexes(Map<String, Object> map) {
        if (map.isEmpty()) {
            return false;
        }
        for (String k : map.keySet()) {
            if (!isIndex(k)) {
                return false;
            }
        }
        return true;
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
        ArrayNode out = JsonNodeFactory.instance.arrayNode(sorted.size());
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

    /** Decodes {@code application/x-www-form-urlencoded} text: {@code +} is a space, {@code %XX} a byte of UTF-8. */
    static String formDecode(String s) {
        return formDecode(s, 0, s.length());
    }

    private static String formDecode(String s, int from, int to) {
        int firstEscape = -1;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%' || c == '+') {
                firstEscape = i;
                break;
            }
        }
        if (firstEscape < 0) {
            return s.substring(from, to);
        }
        StringBuilder out = new StringBuilder(to - from).append(s, from, firstEscape);
        byte[] bytes = null;
        int i = firstEscape;
        while (i < to) {
            char c = s.charAt(i);
            if (c == '+') {
                out.append(' ');
                i++;
            } else if (c == '%') {
                if (bytes == null) {
                    bytes = new byte[(to - i) / 3 + 1];
                }
                int n = 0;
                while (i < to && s.charAt(i) == '%') {
                    if (i + 2 >= to) {
                        throw malformed("The request contains a malformed percent-encoding.");
                    }
                    int hi = hex(s.charAt(i + 1));
                    int lo = hex(s.charAt(i + 2));
                    if (hi < 0 || lo < 0) {
                        throw malformed("The request contains a malformed percent-encoding.");
                    }
                    bytes[n++] = (byte) ((hi << 4) | lo);
                    i += 3;
                }
                out.append(utf8(bytes, 0, n, "The request contains a percent-encoding that is not UTF-8."));
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static String utf8(byte[] bytes, int offset, int length, String message) {
        for (int i = offset; i < offset + length; i++) {
            if (bytes[i] < 0) {
                try {
                    return StandardCharsets.UTF_8.newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes, offset, length))
                            .toString();
                } catch (CharacterCodingException e) {
                    throw malformed(message);
                }
            }
        }
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }

    /** Marks an object to be written as a query map ({@code entry}/{@code key}/{@code value}); see {@link QueryMap}. */
    public static JsonNode map(ObjectNode entries) {
        return new POJONode(new QueryMap(entries));
    }

    public static EncodedResponse encode(String action, String namespace, JsonNode output, String requestId) {
        Xml.requireName(action);
        StringBuilder sb = new StringBuilder(512);
        sb.append('<').append(action).append("Response xmlns=\"");
        Xml.escape(sb, namespace).append("\">");
        sb.append('<').append(action).append("Result>");
        if (output != null && output.isObject()) {
            writeFields(sb, output);
        } else if (output != null && !output.isNull()) {
            throw new IllegalArgumentException("the output of " + action + " must be an object");
        }
        sb.append("</").append(action).append("Result>");
        sb.append("<ResponseMetadata>");
        Xml.element(sb, "RequestId", requestId);
        sb.append("</ResponseMetadata></").append(action).append("Response>\n");
        return EncodedResponse.of(200, Protocol.AWS_QUERY.contentType(), sb.toString().getBytes(StandardCharsets.UTF_8),
                "x-amzn-RequestId", requestId);
    }

    private static void writeFields(StringBuilder sb, JsonNode object) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isNull()) {
                continue;
            }
            String name = Xml.requireName(f.getKey());
            sb.append('<').append(name).append('>');
            writeValue(sb, f.getValue());
            sb.append("</").append(name).append('>');
        }
    }

    private static void writeValue(StringBuilder sb, JsonNode v) {
        if (v instanceof POJONode pojo && pojo.getPojo() instanceof QueryMap map) {
            for (Iterator<Map.Entry<String, JsonNode>> it = map.entries().fields(); it.hasNext(); ) {
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
        } else if (v.isPojo()) {
            throw new IllegalArgumentException("an output value must be JSON or a QueryMap: " + v);
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
        return EncodedResponse.of(error.httpStatus(), Protocol.AWS_QUERY.contentType(), sb.toString().getBytes(StandardCharsets.UTF_8),
                "x-amzn-RequestId", requestId);
    }

    private static AwsException malformed(String message) {
        return new AwsException("MalformedQueryString", 400, message);
    }
}
