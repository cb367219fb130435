package dev.citadel.pipeline.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Removes secrets from a request or response tree before it becomes part of an audit event:
 * the operation's declared sensitive members, and any member whose name is one AWS uses for
 * secrets ({@code SecretAccessKey}, {@code SessionToken}, {@code Plaintext}, {@code Password}, …)
 * wherever it appears. Values are replaced by {@code "HIDDEN_DUE_TO_SECURITY_REASONS"}, as
 * CloudTrail does.
 */
public final class Redactor {
    public static final String HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";
    private static final Set<String> ALWAYS = Set.of("secretaccesskey", "sessiontoken", "plaintext", "password",
            "oldpassword", "newpassword", "privatekey", "privatekeyplaintext", "authenticationcode1", "authenticationcode2",
            "base32stringseed", "qrcodepng", "signature", "x-amz-security-token", "authorizationtoken");

    private Redactor() {
    }

    public static JsonNode redact(JsonNode tree, Set<String> sensitive) {
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
            return null;
        }
        return copy(tree, sensitive);
    }

    private static JsonNode copy(JsonNode node, Set<String> sensitive) {
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (sensitive.contains(e.getKey()) || ALWAYS.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                    out.put(e.getKey(), HIDDEN);
                } else {
                    out.set(e.getKey(), copy(e.getValue(), sensitive));
                }
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            node.forEach(child -> out.add(copy(child, sensitive)));
            return out;
        }
        if (node.isPojo() && ((com.fasterxml.jackson.databind.node.POJONode) node).getPojo() instanceof dev.citadel.wire.AwsQuery.QueryMap map) {
            return copy(map.entries(), sensitive);
        }
        if (node.isPojo() || node.isBinary()) {
            // Bodies, streams and encoded responses never enter an event (object contents are data, not a record).
            return JsonNodeFactory.instance.textNode("(omitted)");
        }
        return node;
    }
}
