package dev.citadel.pipeline.protocol;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.IncomingRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * S3's REST routing, path style ({@code /bucket/key}): the operation from the method, whether a
 * key is present and the query's sub-resources. The object key is the raw path after the bucket,
 * percent-decoded once and never normalized (S3 keys may hold {@code //}, {@code ..} and
 * {@code %2F}). An operation S3 has but Citadel does not yet answers NotImplemented.
 */
public final class S3Routes {
    /** The output member an S3 operation puts its own encoded response in. */
    public static final String ENCODED = "__encoded";
    /** The input member holding the request body (never audited). */
    public static final String BODY = "__body";
    public static final int MAX_KEY_BYTES = 1024;

    public record Route(String operation, String bucket, String key, Map<String, String> query) {
    }

    private S3Routes() {
    }

    public static Route route(IncomingRequest request) {
        String path = request.rawPath();
        if (!path.startsWith("/")) {
            throw new AwsException("InvalidURI", 400, "Couldn't parse the specified URI.");
        }
        int slash = path.indexOf('/', 1);
        String bucket = decode(slash < 0 ? path.substring(1) : path.substring(1, slash));
        String key = slash < 0 ? "" : decode(path.substring(slash + 1));
        Map<String, String> query = query(request.rawQuery());
        String method = request.method();
        String op;
        if (bucket.isEmpty()) {
            op = method.equals("GET") ? "ListBuckets" : "Unsupported";
        } else if (key.isEmpty()) {
            String sub = subresource(query, BUCKET_SUBRESOURCES);
            op = switch (method) {
                case "PUT" -> query.isEmpty() ? "CreateBucket" : sub == null ? "Unsupported" : "PutBucket" + sub;
                case "HEAD" -> "HeadBucket";
                case "POST" -> query.size() == 1 && query.containsKey("delete") ? "DeleteObjects" : "Unsupported";
                case "DELETE" -> query.isEmpty() ? "DeleteBucket"
                        : sub != null && !sub.equals("Versioning") ? "DeleteBucket" + sub : "Unsupported";
                case "GET" -> sub != null ? "GetBucket" + sub
                        : query.containsKey("location") ? "GetBucketLocation"
                        : query.containsKey("uploads") ? "ListMultipartUploads"
                        : query.containsKey("versions") ? "ListObjectVersions"
                        : query.containsKey("list-type") ? "ListObjectsV2"
                        : onlyListing(query) ? "ListObjects" : "Unsupported";
                default -> "Unsupported";
            };
        } else {
            boolean upload = query.containsKey("uploadId");
            boolean tagging = query.containsKey("tagging") && query.keySet().stream().allMatch(k -> k.equals("tagging") || k.equals("versionId"));
            op = switch (method) {
                case "PUT" -> request.header("x-amz-copy-source") != null
                        ? (query.isEmpty() ? "CopyObject" : upload && query.containsKey("partNumber") ? "UploadPartCopy" : "Unsupported")
                        : upload && query.containsKey("partNumber") ? "UploadPart"
                        : tagging ? "PutObjectTagging"
                        : query.isEmpty() ? "PutObject" : "Unsupported";
                case "POST" -> query.containsKey("uploads") ? "CreateMultipartUpload" : upload ? "CompleteMultipartUpload" : "Unsupported";
                case "GET" -> upload ? "ListParts" : tagging ? "GetObjectTagging"
                        : onlyObjectRead(query) ? "GetObject" : "Unsupported";
                case "HEAD" -> onlyObjectRead(query) ? "HeadObject" : "Unsupported";
                case "DELETE" -> upload ? "AbortMultipartUpload" : tagging ? "DeleteObjectTagging"
                        : query.isEmpty() || query.keySet().equals(java.util.Set.of("versionId")) ? "DeleteObject" : "Unsupported";
                default -> "Unsupported";
            };
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new AwsException("KeyTooLongError", 400, "Your key is too long");
        }
        return new Route(op, bucket, key, query);
    }

    private static final List<String> LISTING = List.of("prefix", "delimiter", "marker", "max-keys", "encoding-type");

    private static boolean onlyListing(Map<String, String> query) {
        return LISTING.containsAll(query.keySet());
    }

    /** A GET or HEAD of an object: only a version id and response header overrides. */
    private static boolean onlyObjectRead(Map<String, String> query) {
        return query.keySet().stream().allMatch(k -> k.startsWith("response-") || k.equals("versionId"));
    }

    /** The bucket configurations addressed as {@code ?name} alone, and the name of their operations. */
    private static final Map<String, String> BUCKET_SUBRESOURCES = Map.of("policy", "Policy", "versioning", "Versioning",
            "encryption", "Encryption", "tagging", "Tagging");

    private static String subresource(Map<String, String> query, Map<String, String> known) {
        return query.size() == 1 ? known.get(query.keySet().iterator().next()) : null;
    }

    /** The operation's input: bucket, key, query parameters, the headers it may read, and the body. */
    public static ObjectNode input(Route route, IncomingRequest request, byte[] body) {
        ObjectNode in = JsonNodeFactory.instance.objectNode();
        in.put("Bucket", route.bucket());
        if (!route.key().isEmpty()) {
            in.put("Key", route.key());
        }
        ObjectNode q = in.putObject("query");
        route.query().forEach(q::put);
        ObjectNode h = in.putObject("headers");
        request.headers().forEach((name, values) -> {
            if (!values.isEmpty() && !name.equals("authorization") && !name.equals("x-amz-security-token")) {
                h.put(name, values.getFirst());
            }
        });
        in.set(BODY, new POJONode(body));
        return in;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty() || pair.startsWith("X-Amz-") || pair.startsWith("x-id=")) {
                continue;
            }
            int eq = pair.indexOf('=');
            out.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AwsException("InvalidURI", 400, "Couldn't parse the specified URI.");
        }
    }
}
