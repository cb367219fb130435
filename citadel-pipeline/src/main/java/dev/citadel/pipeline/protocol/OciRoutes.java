package dev.citadel.pipeline.protocol;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.IncomingRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The OCI Distribution API's routes ({@code /v2/…}): which operation a method and path address,
 * and the input they carry (repository name, reference, digest, upload id, query parameters and
 * the headers the operations read). Each route is named after the ECR action that governs it, as
 * CloudTrail names registry calls. A path that is none of them is refused before authentication.
 */
public final class OciRoutes {
    /** The registry prefix every OCI path starts with. */
    public static final String PREFIX = "/v2";
    /** Repository names as ECR allows them (lower case, segments separated by '/'), at most 256 characters. */
    public static final Pattern NAME = Pattern.compile("(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*");
    public static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    public static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final Pattern UPLOAD_ID = Pattern.compile("[A-Za-z0-9_-]{16,64}");
    private static final int MAX_PATH = 2048;

    private OciRoutes() {
    }

    /** Whether a raw path addresses the registry. */
    public static boolean isRegistryPath(String rawPath) {
        return rawPath.equals(PREFIX) || rawPath.startsWith(PREFIX + "/");
    }

    /** A routed request: the operation and its path parameters. */
    public record Route(String operation, String name, String reference, String uploadId) {
    }

    public static Route route(IncomingRequest request) {
        String method = request.method();
        String path = request.rawPath();
        if (path.length() > MAX_PATH) {
            throw new AwsException("NAME_INVALID", 400, "The request path is too long.");
        }
        if (path.equals(PREFIX) || path.equals(PREFIX + "/")) {
            return method.equals("GET") || method.equals("HEAD") ? new Route("CheckRegistry", "", "", "") : unsupported();
        }
        String rest = path.substring(PREFIX.length() + 1);
        if (rest.contains("%") || rest.contains("//") || rest.contains("/./") || rest.contains("/../")) {
            throw new AwsException("NAME_INVALID", 400, "Invalid repository name or reference in the path.");
        }
        int at;
        if (rest.endsWith("/tags/list")) {
            String name = name(rest.substring(0, rest.length() - "/tags/list".length()));
            return method.equals("GET") ? new Route("ListImages", name, "", "") : unsupported();
        }
        if ((at = rest.lastIndexOf("/manifests/")) > 0) {
            String name = name(rest.substring(0, at));
            String reference = rest.substring(at + "/manifests/".length());
            if (!TAG.matcher(reference).matches() && !DIGEST.matcher(reference).matches()) {
                throw new AwsException("MANIFEST_INVALID", 400, "Invalid tag or digest: " + printable(reference));
            }
            return switch (method) {
                case "GET", "HEAD" -> new Route("BatchGetImage", name, reference, "");
                case "PUT" -> new Route("PutImage", name, reference, "");
                case "DELETE" -> new Route("BatchDeleteImage", name, reference, "");
                default -> unsupported();
            };
        }
        if ((at = rest.lastIndexOf("/blobs/uploads")) > 0) {
            String name = name(rest.substring(0, at));
            String tail = rest.substring(at + "/blobs/uploads".length());
            if (tail.isEmpty() || tail.equals("/")) {
                return method.equals("POST") ? new Route("InitiateLayerUpload", name, "", "") : unsupported();
            }
            String id = tail.substring(1);
            if (!UPLOAD_ID.matcher(id).matches()) {
                throw new AwsException("BLOB_UPLOAD_UNKNOWN", 404, "The upload is unknown to the registry.");
            }
            return switch (method) {
                case "PATCH" -> new Route("UploadLayerPart", name, "", id);
                case "PUT" -> new Route("CompleteLayerUpload", name, "", id);
                case "GET" -> new Route("GetLayerUploadStatus", name, "", id);
                case "DELETE" -> new Route("AbortLayerUpload", name, "", id);
                default -> unsupported();
            };
        }
        if ((at = rest.lastIndexOf("/blobs/")) > 0) {
            String name = name(rest.substring(0, at));
            String digest = rest.substring(at + "/blobs/".length());
            if (!DIGEST.matcher(digest).matches()) {
                throw new AwsException("DIGEST_INVALID", 400, "The digest is not a sha256 digest: " + printable(digest));
            }
            return switch (method) {
                case "HEAD" -> new Route("BatchCheckLayerAvailability", name, digest, "");
                case "GET" -> new Route("GetDownloadUrlForLayer", name, digest, "");
                default -> unsupported();
            };
        }
        throw new AwsException("NAME_UNKNOWN", 404, "The requested path is not part of the registry API.");
    }

    private static String name(String name) {
        if (name.length() < 2 || name.length() > 256 || !NAME.matcher(name).matches()) {
            throw new AwsException("NAME_INVALID", 400, "Invalid repository name: " + printable(name));
        }
        return name;
    }

    private static Route unsupported() {
        throw new AwsException("UNSUPPORTED", 405, "The operation is unsupported.");
    }

    /** What a path segment is shown as in a message: printable ASCII, at most 128 characters. */
    private static String printable(String s) {
        String cut = s.length() > 128 ? s.substring(0, 128) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e…]", "?");
    }

    /** The operation's input: the route's parameters, the query parameters and the headers registry operations read. */
    public static ObjectNode input(Route route, IncomingRequest request) {
        ObjectNode in = JsonNodeFactory.instance.objectNode();
        in.put("repositoryName", route.name());
        if (!route.reference().isEmpty()) {
            in.put("reference", route.reference());
        }
        if (!route.uploadId().isEmpty()) {
            in.put("uploadId", route.uploadId());
        }
        ObjectNode query = in.putObject("query");
        for (String pair : request.rawQuery().split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (k.length() <= 64 && v.length() <= 1024) {
                query.put(k, v);
            }
        }
        ObjectNode headers = in.putObject("headers");
        for (String h : new String[] {"content-type", "content-range", "content-length", "accept", "host", "range"}) {
            String v = request.header(h);
            if (v != null) {
                headers.put(h, v);
            }
        }
        in.put("method", request.method().toUpperCase(Locale.ROOT));
        return in;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AwsException("UNSUPPORTED", 400, "A query parameter is not correctly encoded.");
        }
    }
}
