package dev.citadel.wire;

import com.ctc.wstx.api.WstxInputProperties;
import com.ctc.wstx.stax.WstxInputFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import javax.xml.stream.util.StreamReaderDelegate;

/**
 * The restXml protocol (S3).
 *
 * <p>Request bodies such as DeleteObjects or CompleteMultipartUpload are read by {@link #read} into
 * {@code {"RootName": …}}: a Woodstox StAX reader with DTD support, external entities and entity
 * replacement turned off and a resolver that refuses every fetch; any DOCTYPE or entity
 * declaration is refused outright ({@link #reader} gives the same reader for streaming use). The body is bounded in size (1 MiB by default), depth (32),
 * element count (100,000) and attributes per element (64). Element names (local part, prefixes
 * dropped) become keys, repeated sibling elements an array in document order, elements without
 * children their text kept exactly as sent (an S3 key may begin or end with spaces; the
 * predefined entities, character references and CDATA are text); attributes are not read. Anything
 * else is {@code MalformedXML} (400) with S3's message.
 *
 * <p>A response body is written with {@link XmlWriter}, or from a tree by {@link #encode(int, String, String, JsonNode, String, String)}:
 * objects become child elements, an array under name {@code K} repeated {@code <K>} elements (the
 * inverse of the reader: S3's wrapped lists are an object holding the array, e.g.
 * {@code {"Buckets":{"Bucket":[…]}}}), scalars their text, nulls nothing. Every response carries
 * {@code x-amz-request-id} and {@code x-amz-id-2}.
 *
 * <p>An error is
 * {@code <?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>…</Code><Message>…</Message>[extra elements such as <BucketName>]<RequestId>…</RequestId><HostId>…</HostId></Error>}
 * as {@code application/xml}; the error of a HEAD request has the status and headers and no body.
 */
public final class RestXml {
    public static final int DEFAULT_MAX_BYTES = 1 << 20;
    private static final int MAX_DEPTH = 32;
    private static final int MAX_ELEMENTS = 100_000;
    private static final int MAX_ATTRIBUTES = 64;
    private static final String MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema";
    private static final XMLInputFactory FACTORY = factory();

    private RestXml() {
    }

    private static XMLInputFactory factory() {
        WstxInputFactory f = new WstxInputFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        f.setProperty(WstxInputProperties.P_MAX_ELEMENT_DEPTH, MAX_DEPTH + 1);
        f.setProperty(WstxInputProperties.P_MAX_ELEMENT_COUNT, (long) MAX_ELEMENTS + 1);
        f.setProperty(WstxInputProperties.P_MAX_ATTRIBUTES_PER_ELEMENT, MAX_ATTRIBUTES);
        f.setProperty(WstxInputProperties.P_MAX_ATTRIBUTE_SIZE, 64 * 1024);
        f.setProperty(WstxInputProperties.P_MAX_ENTITY_COUNT, 1L);
        f.setProperty(WstxInputProperties.P_MAX_ENTITY_DEPTH, 1);
        f.setXMLResolver((publicId, systemId, base, ns) -> {
            throw new XMLStreamException("external entities are not allowed");
        });
        return f;
    }

    /**
     * A streaming reader over the hardened factory, for a body too large or too long-lived for
     * {@link #read}: it refuses a DOCTYPE, an entity reference or declaration with an
     * {@link XMLStreamException} as soon as it meets one, and never fetches anything. The caller
     * closes it and turns any {@link XMLStreamException} into {@link #malformedXml()}.
     */
    public static XMLStreamReader reader(InputStream in) throws XMLStreamException {
        return new StreamReaderDelegate(FACTORY.createXMLStreamReader(in)) {
            @Override
            public int next() throws XMLStreamException {
                int event = super.next();
                if (event == XMLStreamConstants.DTD || event == XMLStreamConstants.ENTITY_REFERENCE
                        || event == XMLStreamConstants.ENTITY_DECLARATION || event == XMLStreamConstants.NOTATION_DECLARATION) {
                    throw new XMLStreamException("DTDs and entities are not allowed");
                }
                return event;
            }

            @Override
            public int nextTag() throws XMLStreamException {
                int event = next();
                while (event == XMLStreamConstants.SPACE || event == XMLStreamConstants.COMMENT
                        || event == XMLStreamConstants.PROCESSING_INSTRUCTION
                        || (event == XMLStreamConstants.CHARACTERS && isWhiteSpace())) {
                    event = next();
                }
                if (event != XMLStreamConstants.START_ELEMENT && event != XMLStreamConstants.END_ELEMENT) {
                    throw new XMLStreamException("expected an element");
                }
                return event;
            }
        };
    }

    /** The error of a body that is not the XML S3 expects: {@code MalformedXML}, 400, S3's message. */
    public static AwsException malformedXml() {
        return new AwsException("MalformedXML", 400, MALFORMED);
    }

    /** {@link #read(byte[], int)} with {@link #DEFAULT_MAX_BYTES}. */
    public static ObjectNode read(byte[] body) {
        return read(body, DEFAULT_MAX_BYTES);
    }

    /** Reads a request body into {@code {"RootName": {...}}}; throws MalformedXML on anything unexpected. */
    public static ObjectNode read(byte[] body, int maxBytes) {
        if (body.length == 0 || body.length > maxBytes) {
            throw malformed();
        }
        XMLStreamReader r = null;
        try {
            r = reader(new ByteArrayInputStream(body));
            return tree(r);
        } catch (XMLStreamException | RuntimeException e) {
            if (e instanceof AwsException a) {
                throw a;
            }
            throw malformed();
        } finally {
            if (r != null) {
                try {
                    r.close();
                } catch (XMLStreamException ignored) {
                    // a reader being discarded has nothing left to report
                }
            }
        }
    }

    private static ObjectNode tree(XMLStreamReader r) throws XMLStreamException {
        Deque<ObjectNode> stack = new ArrayDeque<>();
        Deque<String> names = new ArrayDeque<>();
        StringBuilder text = new StringBuilder();
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        int elements = 0;
        while (r.hasNext()) {
            switch (r.next()) {
                case XMLStreamConstants.START_ELEMENT -> {
                    if (++elements > MAX_ELEMENTS || stack.size() >= MAX_DEPTH) {
                        throw malformed();
                    }
                    stack.push(JsonNodeFactory.instance.objectNode());
                    names.push(r.getLocalName());
                    text.setLength(0);
                }
                case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> text.append(r.getText());
                case XMLStreamConstants.END_ELEMENT -> {
                    ObjectNode node = stack.pop();
                    String name = names.pop();
                    JsonNode value = node.isEmpty() ? JsonNodeFactory.instance.textNode(text.toString()) : node;
                    text.setLength(0);
                    add(stack.isEmpty() ? root : stack.peek(), name, value);
                }
                default -> {
                }
            }
        }
        if (root.size() != 1) {
            throw malformed();
        }
        return root;
    }

    private static void add(ObjectNode parent, String name, JsonNode value) {
        JsonNode existing = parent.get(name);
        if (existing == null) {
            parent.set(name, value);
        } else if (existing.isArray()) {
            ((ArrayNode) existing).add(value);
        } else {
            parent.set(name, JsonNodeFactory.instance.arrayNode().add(existing).add(value));
        }
    }

    private static AwsException malformed() {
        return malformedXml();
    }

    /** A response with an XML body (from {@link XmlWriter#toBytes()}), or an empty body when {@code body} is empty. */
    public static EncodedResponse encode(int status, byte[] body, String requestId, String hostId, Map<String, String> extraHeaders) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-amz-request-id", requestId);
        headers.put("x-amz-id-2", hostId);
        headers.putAll(extraHeaders);
        return new EncodedResponse(status, body.length == 0 ? "" : Protocol.REST_XML.contentType(), headers, body);
    }

    /** A response whose body is {@code tree} under {@code <root xmlns="xmlns">}, mapped as the class comment says. */
    public static EncodedResponse encode(int status, String root, String xmlns, JsonNode tree, String requestId, String hostId) {
        XmlWriter w = XmlWriter.document(root, xmlns);
        if (tree != null && tree.isObject()) {
            writeFields(w, tree);
        } else if (tree != null && !tree.isNull()) {
            if (tree.isContainerNode()) {
                throw new IllegalArgumentException("the body of " + root + " must be an object");
            }
            w.text(tree.asText());
        }
        return encode(status, w.toBytes(), requestId, hostId, Map.of());
    }

    private static void writeFields(XmlWriter w, JsonNode object) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (v.isArray()) {
                for (JsonNode item : v) {
                    if (item.isArray()) {
                        throw new IllegalArgumentException("an array in an array has no element name: " + f.getKey());
                    }
                    writeElement(w, f.getKey(), item);
                }
            } else {
                writeElement(w, f.getKey(), v);
            }
        }
    }

    private static void writeElement(XmlWriter w, String name, JsonNode v) {
        if (v.isNull()) {
            return;
        }
        if (v.isObject()) {
            w.start(name);
            writeFields(w, v);
            w.end();
        } else {
            w.element(name, v.asText());
        }
    }

    public static EncodedResponse encodeError(AwsException error, String requestId, String hostId, boolean headRequest) {
        return encodeError(error, requestId, hostId, headRequest, Map.of());
    }

    /**
     * The S3 error; {@code extra} elements (e.g. {@code BucketName}, {@code Key}, {@code Resource})
     * follow {@code Message} in their iteration order.
     */
    public static EncodedResponse encodeError(AwsException error, String requestId, String hostId, boolean headRequest,
            Map<String, String> extra) {
        if (headRequest) {
            return encode(error.httpStatus(), new byte[0], requestId, hostId, Map.of());
        }
        StringBuilder sb = new StringBuilder(256).append(Xml.DECLARATION).append("<Error>");
        Xml.element(sb, "Code", error.code());
        Xml.element(sb, "Message", error.getMessage());
        extra.forEach((name, value) -> Xml.element(sb, name, value));
        Xml.element(sb, "RequestId", requestId);
        Xml.element(sb, "HostId", hostId);
        sb.append("</Error>");
        return encode(error.httpStatus(), sb.toString().getBytes(StandardCharsets.UTF_8), requestId, hostId, Map.of());
    }
}
