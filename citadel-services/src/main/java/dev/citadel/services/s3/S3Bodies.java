package dev.citadel.services.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.wire.RestXml;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The XML bodies S3 accepts besides policies (DeleteObjects, CompleteMultipartUpload, tagging,
 * versioning and default encryption), parsed and validated into plain values before anything is
 * changed; anything else gets S3's MalformedXML or the specific error. Untrusted input: each
 * parser has a fuzz target.
 */
final class S3Bodies {
    static final int MAX_OBJECT_TAGS = 10;
    static final int MAX_BUCKET_TAGS = 50;

    private S3Bodies() {
    }

    static AwsException malformed() {
        return new AwsException("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema");
    }

    private static List<JsonNode> many(JsonNode node) {
        List<JsonNode> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(out::add);
        } else if (node.isObject() || node.isTextual()) {
            out.add(node);
        }
        return out;
    }

    /** One entry of a DeleteObjects body. */
    record ToDelete(String key, Optional<String> versionId) {
    }

    record DeleteRequest(List<ToDelete> objects, boolean quiet) {
    }

    static DeleteRequest delete(byte[] body) {
        JsonNode xml = RestXml.read(body).path("Delete");
        List<ToDelete> out = new ArrayList<>();
        for (JsonNode o : many(xml.path("Object"))) {
            if (!o.isObject()) {
                throw malformed();
            }
            JsonNode v = o.get("VersionId");
            out.add(new ToDelete(o.path("Key").asText(""), v == null ? Optional.empty() : Optional.of(v.asText(""))));
        }
        if (out.isEmpty() || out.size() > 1000) {
            throw malformed();
        }
        String quiet = xml.path("Quiet").asText("false");
        if (!quiet.equals("true") && !quiet.equals("false")) {
            throw malformed();
        }
        return new DeleteRequest(out, quiet.equals("true"));
    }

    /** One part named by a CompleteMultipartUpload body, with the checksums it states. */
    record CompletedPart(int number, String etag, Map<String, String> checksums) {
    }

    static List<CompletedPart> completedParts(byte[] body) {
        List<CompletedPart> out = new ArrayList<>();
        for (JsonNode p : many(RestXml.read(body).path("CompleteMultipartUpload").path("Part"))) {
            if (!p.isObject()) {
                throw malformed();
            }
            int number;
            try {
                number = Integer.parseInt(p.path("PartNumber").asText(""));
            } catch (NumberFormatException e) {
                throw malformed();
            }
            Map<String, String> checksums = new LinkedHashMap<>();
            for (Checksums.Algorithm a : Checksums.Algorithm.values()) {
                if (p.has(a.member())) {
                    checksums.put(a.name(), p.path(a.member()).asText(""));
                }
            }
            out.add(new CompletedPart(number, p.path("ETag").asText("").replace("\"", ""), checksums));
        }
        if (out.isEmpty() || out.size() > 10_000) {
            throw malformed();
        }
        return out;
    }

    /** A tag set from a Tagging body, validated as S3 does ({@code limit} tags at most). */
    static Map<String, String> tagging(byte[] body, int limit) {
        JsonNode xml = RestXml.read(body).path("Tagging");
        if (!xml.has("TagSet")) {
            throw malformed();
        }
        Map<String, String> tags = new LinkedHashMap<>();
        for (JsonNode t : many(xml.path("TagSet").path("Tag"))) {
            if (!t.isObject() || !t.has("Key")) {
                throw malformed();
            }
            add(tags, t.path("Key").asText(""), t.path("Value").asText(""));
        }
        return checkCount(tags, limit);
    }

    /** A tag set from an {@code x-amz-tagging} header (URL-encoded query form). */
    static Map<String, String> taggingHeader(String header) {
        Map<String, String> tags = new LinkedHashMap<>();
        if (header.isEmpty()) {
            return tags;
        }
        for (String pair : header.split("&", -1)) {
            int eq = pair.indexOf('=');
            try {
                add(tags, URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new AwsException("InvalidArgument", 400, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                        + "parameters without tag name duplicates.");
            }
        }
        return checkCount(tags, MAX_OBJECT_TAGS);
    }

    private static void add(Map<String, String> tags, String key, String value) {
        if (key.isEmpty() || key.codePointCount(0, key.length()) > 128) {
            throw new AwsException("InvalidTag", 400, "The TagKey you have provided is invalid");
        }
        if (value.codePointCount(0, value.length()) > 256) {
            throw new AwsException("InvalidTag", 400, "The TagValue you have provided is invalid");
        }
        if (key.startsWith("aws:")) {
            throw new AwsException("InvalidTag", 400, "Your TagKey cannot be prefixed with aws:");
        }
        if (tags.putIfAbsent(key, value) != null) {
            throw new AwsException("InvalidTag", 400, "Cannot provide multiple Tags with the same key");
        }
    }

    private static Map<String, String> checkCount(Map<String, String> tags, int limit) {
        if (tags.size() > limit) {
            throw new AwsException(limit == MAX_OBJECT_TAGS ? "BadRequest" : "InvalidTag", 400,
                    limit == MAX_OBJECT_TAGS ? "Object tags cannot be greater than 10" : "Bucket tag count cannot be greater than 50");
        }
        return tags;
    }

    static ObjectNode tagsJson(Map<String, String> tags) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        tags.forEach(o::put);
        return o;
    }

    /** The Status of a VersioningConfiguration body: Enabled or Suspended. */
    static String versioning(byte[] body) {
        JsonNode xml = RestXml.read(body).path("VersioningConfiguration");
        String status = xml.path("Status").asText("");
        if (!status.equals("Enabled") && !status.equals("Suspended")) {
            throw malformed();
        }
        String mfaDelete = xml.path("MfaDelete").asText("Disabled");
        if (mfaDelete.equals("Enabled")) {
            throw new AwsException("NotImplemented", 501, "MFA Delete is not available in Citadel; versioned deletes are governed by IAM policies.");
        }
        if (!mfaDelete.equals("Disabled")) {
            throw malformed();
        }
        return status;
    }

    /** A bucket's default encryption: SSE-S3 (AES256) or SSE-KMS with an optional key, and whether bucket keys are on. */
    record DefaultEncryption(String algorithm, Optional<String> kmsKeyId, boolean bucketKeyEnabled) {
        static final DefaultEncryption SSE_S3 = new DefaultEncryption("AES256", Optional.empty(), false);

        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("SSEAlgorithm", algorithm);
            kmsKeyId.ifPresent(k -> o.put("KMSMasterKeyID", k));
            o.put("BucketKeyEnabled", bucketKeyEnabled);
            return o;
        }

        static DefaultEncryption fromJson(JsonNode o) {
            return new DefaultEncryption(o.path("SSEAlgorithm").asText("AES256"),
                    o.hasNonNull("KMSMasterKeyID") ? Optional.of(o.path("KMSMasterKeyID").asText()) : Optional.empty(),
                    o.path("BucketKeyEnabled").asBoolean(false));
        }
    }

    static DefaultEncryption encryption(byte[] body) {
        List<JsonNode> rules = many(RestXml.read(body).path("ServerSideEncryptionConfiguration").path("Rule"));
        if (rules.size() != 1 || !rules.getFirst().isObject()) {
            throw malformed();
        }
        JsonNode rule = rules.getFirst();
        JsonNode apply = rule.path("ApplyServerSideEncryptionByDefault");
        String algorithm = apply.path("SSEAlgorithm").asText("");
        String bucketKey = rule.path("BucketKeyEnabled").asText("false");
        if (!bucketKey.equals("true") && !bucketKey.equals("false")) {
            throw malformed();
        }
        Optional<String> key = apply.hasNonNull("KMSMasterKeyID") ? Optional.of(apply.path("KMSMasterKeyID").asText()) : Optional.empty();
        switch (algorithm) {
            case "AES256" -> {
                if (key.isPresent()) {
                    throw new AwsException("InvalidArgument", 400, "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms "
                            + "or aws:kms:dsse");
                }
            }
            case "aws:kms" -> {
                if (key.isPresent() && (key.get().isEmpty() || key.get().length() > 2048)) {
                    throw new AwsException("InvalidArgument", 400, "KMSMasterKeyID is not valid");
                }
            }
            case "aws:kms:dsse" -> throw new AwsException("NotImplemented", 501, "Dual-layer SSE-KMS (aws:kms:dsse) is not available in Citadel; "
                    + "use aws:kms.");
            default -> throw malformed();
        }
        return new DefaultEncryption(algorithm, key, bucketKey.equals("true"));
    }
}
