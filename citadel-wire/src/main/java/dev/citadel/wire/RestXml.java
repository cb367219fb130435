package dev.citadel.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The restXml protocol (S3). Request bodies such as DeleteObjects or CompleteMultipartUpload are
 * read into a tree by a StAX reader with DTDs, external entities and entity expansion turned off,
 * and bounded in size (1 MiB by default), depth (32) and element count (100,000): element names
 * become keys, repeated elements arrays, text leaves strings kept exactly as sent (an S3 key may
 * begin or end with spaces); attributes are not read; the root element is the tree.
 * Anything else is {@code MalformedXML}. Errors are
 * {@code <Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId><HostId>…</HostId></Error>}
 * with {@code x-amz-request-id} and {@code x-amz-id-2}; a HEAD response carries no body.
 */
public final class RestXml {
    private static final int MAX_DEPTH = 32;
    private static final int MAX_ELEMENTS = 100_000;
    private static final XMLInputFactory FACTORY = factory();
    private static final String MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema";

    private RestXml() {
    }

    private static XMLInputFactory factory() {
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        f.setXMLResolver((publicId, systemId, base, ns) -> {
            throw new XMLStreamException("external entities are not allowed");
        });
        return f;
    }

    /** Reads a request body into {@code {"RootName": {...}}}; throws MalformedXML on anything unexpected. */
    public static ObjectNode read(byte[] body, int maxBytes) {
        if (body.length == 0 || body.length > maxBytes) {
            throw new AwsException("MalformedXML", 400, MALFORMED);
        }
        XMLStreamReader r = null;
        try {
            r = FACTORY.createXMLStreamReader(new ByteArrayInputStream(body));
            Deque<ObjectNode> stack = new ArrayDeque<>();
            Deque<String> names = new ArrayDeque<>();
            StringBuilder text = new StringBuilder();
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            int elements = 0;
            while (r.hasNext()) {
                int event = r.next();
                switch (event) {
                    case XMLStreamConstants.DTD, XMLStreamConstants.ENTITY_REFERENCE, XMLStreamConstants.ENTITY_DECLARATION ->
                            throw new AwsException("MalformedXML", 400, MALFORMED);
                    case XMLStreamConstants.START_ELEMENT -> {
                        if (++elements > MAX_ELEMENTS || stack.size() >= MAX_DEPTH) {
                            throw new AwsException("MalformedXML", 400, MALFORMED);
                        }
                        stack.push(JsonNodeFactory.instance.objectNode());
                        names.push(r.getLocalName());
                        text.setLength(0);
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> text.append(r.getText());
                    case XMLStreamConstants.END_ELEMENT -> {
                        ObjectNode node = stack.pop();
                        String name = names.pop();
                        JsonNode value = node.isEmpty() ? JsonNodeFactory.instance.textNode(text.toString()) : node;
                        text.setLength(0);
                        ObjectNode parent = stack.isEmpty() ? root : stack.peek();
                        JsonNode existing = parent.get(name);
                        if (existing == null) {
                            parent.set(name, value);
                        } else if (existing.isArray()) {
                            ((ArrayNode) existing).add(value);
                        } else {
                            ArrayNode list = JsonNodeFactory.instance.arrayNode();
                            list.add(existing).add(value);
                            parent.set(name, list);
                        }
                    }
                    default -> {
                    }
                }
            }
            if (root.size() != 1) {
                throw new AwsException("MalformedXML", 400, MALFORMED);
            }
            return root;
        } catch (XMLStreamException | RuntimeException e) {
            if (e instanceof AwsException a) {
                throw a;
            }
            throw new AwsException("MalformedXML", 400, MALFORMED);
        } finally {
            if (r != null) {
                try {
                    r.close();
                } catch (XMLStreamException ignored) {
                    // nothing more can go wrong with a reader that is being discarded
                }
            }
        }
    }

    public static EncodedResponse encodeError(AwsException error, String requestId, String hostId, boolean headRequest) {
        Map<String, String> headers = Map.of("x-amz-request-id", requestId, "x-amz-id-2", hostId);
        if (headRequest) {
            return new EncodedResponse(error.httpStatus(), "", headers, new byte[0]);
        }
        StringBuilder sb = new StringBuilder(Xml.DECLARATION).append("<Error>");
        Xml.element(sb, "Code", error.code());
        Xml.element(sb, "Message", error.getMessage());
        Xml.element(sb, "RequestId", requestId);
        Xml.element(sb, "HostId", hostId);
        sb.append("</Error>");
        return new EncodedResponse(error.httpStatus(), Protocol.REST_XML.contentType(), headers, sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
