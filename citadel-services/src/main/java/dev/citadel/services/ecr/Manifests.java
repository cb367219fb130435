package dev.citadel.services.ecr;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Image manifests and indexes as pushed (OCI image manifest and index, Docker schema 2 manifest
 * and manifest list): which media type a body is, and the blobs or manifests it references, each
 * with a verified digest form and a size. A manifest is untrusted input: bounded in size, depth
 * and references, refused with the registry's MANIFEST_INVALID when it is anything else.
 */
public final class Manifests {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final Set<String> MEDIA_TYPES = Set.of(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST);
    /** The largest manifest accepted (ECR: 4 MiB). */
    public static final int MAX_BYTES = 4 << 20;
    private static final int MAX_REFERENCES = 1000;
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).maxStringLength(1 << 20).build());
        JSON.getFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    private Manifests() {
    }

    /** A referenced blob (config or layer) or manifest (of an index). */
    public record Reference(String mediaType, String digest, long size) {
    }

    /**
     * A parsed manifest: its media type, artifact type (the config's media type for an image, or
     * the declared artifactType), its config (null for an index) and its layers or manifests.
     */
    public record Parsed(String mediaType, String artifactType, Reference config, List<Reference> references) {
        public boolean isIndex() {
            return mediaType.equals(OCI_INDEX) || mediaType.equals(DOCKER_LIST);
        }
    }

    /**
     * Parses a pushed manifest whose Content-Type is {@code contentType} (may be empty, when the
     * body's mediaType decides). Refuses anything that is not one of the four manifest kinds.
     */
    public static Parsed parse(String contentType, byte[] body) {
        if (body.length == 0 || body.length > MAX_BYTES) {
            throw invalid("The manifest is empty or larger than " + MAX_BYTES + " bytes.");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException | RuntimeException e) {
            throw invalid("The manifest is not valid JSON.");
        }
        if (n == null || !n.isObject()) {
            throw invalid("The manifest is not a JSON object.");
        }
        if (n.path("schemaVersion").asInt(0) != 2 || !n.path("schemaVersion").isIntegralNumber()) {
            throw invalid("Only schemaVersion 2 manifests are accepted.");
        }
        String declared = n.path("mediaType").isTextual() ? n.path("mediaType").asText() : "";
        String type = contentType == null ? "" : contentType.split(";", 2)[0].trim();
        if (type.isEmpty() || type.equals("application/json") || type.equals("application/octet-stream")) {
            type = declared;
        }
        if (type.isEmpty()) {
            type = n.has("manifests") ? OCI_INDEX : OCI_MANIFEST;
        }
        if (!MEDIA_TYPES.contains(type)) {
            throw invalid("Unsupported manifest media type: " + printable(type));
        }
        if (!declared.isEmpty() && !declared.equals(type)) {
            throw invalid("The manifest's mediaType does not match its Content-Type.");
        }
        boolean index = type.equals(OCI_INDEX) || type.equals(DOCKER_LIST);
        List<Reference> refs = new ArrayList<>();
        Reference config = null;
        if (index) {
            JsonNode manifests = n.path("manifests");
            if (!manifests.isArray()) {
                throw invalid("An index must list its manifests.");
            }
            for (JsonNode m : manifests) {
                refs.add(reference(m));
            }
        } else {
            config = reference(n.path("config"));
            JsonNode layers = n.path("layers");
            if (!layers.isArray()) {
                throw invalid("A manifest must list its layers.");
            }
            for (JsonNode l : layers) {
                refs.add(reference(l));
            }
        }
        if (refs.size() > MAX_REFERENCES) {
            throw invalid("A manifest may reference at most " + MAX_REFERENCES + " blobs.");
        }
        String artifactType = n.path("artifactType").isTextual() ? n.path("artifactType").asText()
                : config != null ? config.mediaType() : "";
        if (artifactType.length() > 255) {
            throw invalid("The artifact type is too long.");
        }
        return new Parsed(type, artifactType, config, List.copyOf(refs));
    }

    private static Reference reference(JsonNode d) {
        if (!d.isObject()) {
            throw invalid("A descriptor must be an object.");
        }
        String digest = d.path("digest").asText("");
        if (!DIGEST.matcher(digest).matches()) {
            throw invalid("A descriptor's digest must be sha256:<64 hex digits>.");
        }
        JsonNode size = d.path("size");
        if (!size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 0 || size.asLong() > (1L << 40)) {
            throw invalid("A descriptor's size must be a non-negative integer.");
        }
        String mediaType = d.path("mediaType").asText("");
        if (mediaType.length() > 255) {
            throw invalid("A descriptor's media type is too long.");
        }
        return new Reference(mediaType, digest, size.asLong());
    }

    static AwsException invalid(String message) {
        return new AwsException("MANIFEST_INVALID", 400, message);
    }

    private static String printable(String s) {
        String cut = s.length() > 100 ? s.substring(0, 100) : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /**
     * A chunk's {@code Content-Range} ({@code <start>-<end>}, inclusive, as the distribution spec
     * writes it; a {@code bytes } prefix is tolerated): its start and end, or null when absent.
     * Anything else is refused (416 for a range that does not continue the upload is the caller's
     * check).
     */
    public static long[] contentRange(String header) {
        if (header == null || header.isEmpty()) {
            return null;
        }
        String h = header.startsWith("bytes ") ? header.substring(6) : header;
        int slash = h.indexOf('/');
        if (slash >= 0) {
            h = h.substring(0, slash);
        }
        int dash = h.indexOf('-');
        if (dash <= 0 || dash == h.length() - 1 || h.length() > 41) {
            throw new AwsException("BLOB_UPLOAD_INVALID", 416, "The Content-Range header is malformed.");
        }
        try {
            long start = Long.parseLong(h.substring(0, dash));
            long end = Long.parseLong(h.substring(dash + 1));
            if (start < 0 || end < start) {
                throw new AwsException("BLOB_UPLOAD_INVALID", 416, "The Content-Range header is malformed.");
            }
            return new long[] {start, end};
        } catch (NumberFormatException e) {
            throw new AwsException("BLOB_UPLOAD_INVALID", 416, "The Content-Range header is malformed.");
        }
    }
}
