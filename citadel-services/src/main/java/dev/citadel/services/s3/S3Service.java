package dev.citadel.services.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.metadata.s3.S3Repository;
import dev.citadel.metadata.s3.S3Repository.Bucket;
import dev.citadel.metadata.s3.S3Repository.S3Object;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import dev.citadel.wire.XmlWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Amazon S3 (restXml, path style), the first part: buckets (create, head, delete, list,
 * location) and objects (put, get with ranges, head, delete, list v1 and v2 with prefix, delimiter
 * and pagination). Every object is a sealed blob under its account's S3-managed KMS key
 * ({@value #S3_KEY_ALIAS}, SSE-S3), bound to the object's ARN as encryption context; its metadata
 * is in the metadata store. Buckets are their owner's: until bucket policies exist, a request
 * from another account is denied. Bodies are read whole (up to {@link #MAX_PUT_BYTES}); streaming
 * and multipart upload come next.
 */
public final class S3Service {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("s3", "s3", "s3", Protocol.REST_XML, "", "2006-03-01",
            "http://s3.amazonaws.com/doc/2006-03-01/", "s3.amazonaws.com", false);
    public static final String S3_KEY_ALIAS = "alias/aws/s3";
    public static final long MAX_PUT_BYTES = 64L << 20;
    private static final String XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern IP_LIKE = Pattern.compile("\\d+\\.\\d+\\.\\d+\\.\\d+");
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetadataStore store;
    private final KmsKeys keys;
    private final LocalBlobStore blobs;

    public S3Service(MetadataStore store, KmsKeys keys, LocalBlobStore blobs) {
        this.store = store;
        this.keys = keys;
        this.blobs = blobs;
    }

    public List<Operation> operations() {
        return List.of(
                op("ListBuckets", "s3:ListAllMyBuckets", ResourceResolver.ALL, true, this::listBuckets),
                op("CreateBucket", "s3:CreateBucket", bucket(), false, this::createBucket),
                op("HeadBucket", "s3:ListBucket", bucket(), true, this::headBucket),
                op("DeleteBucket", "s3:DeleteBucket", bucket(), false, this::deleteBucket),
                op("GetBucketLocation", "s3:GetBucketLocation", bucket(), true, this::getBucketLocation),
                op("ListObjects", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, false)),
                op("ListObjectsV2", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, true)),
                Operation.of(OperationSpec.builder("s3", "PutObject").resources(object()).maxBodyBytes(MAX_PUT_BYTES).build(), this::putObject),
                op("GetObject", "s3:GetObject", object(), true, this::getObject),
                op("HeadObject", "s3:GetObject", object(), true, this::getObject),
                op("DeleteObject", "s3:DeleteObject", object(), false, this::deleteObject));
    }

    private static Operation op(String name, String action, ResourceResolver resources, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("s3", name).action(action).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    private static ResourceResolver bucket() {
        return (ctx, input) -> List.of("arn:aws:s3:::" + input.path("Bucket").asText(""));
    }

    private static ResourceResolver object() {
        return (ctx, input) -> List.of("arn:aws:s3:::" + input.path("Bucket").asText("") + "/" + input.path("Key").asText(""));
    }

    // ---- helpers ----

    private static JsonNode respond(EncodedResponse response) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set(S3Routes.ENCODED, new POJONode(response));
        return out;
    }

    private static JsonNode xml(int status, XmlWriter w) {
        return respond(new EncodedResponse(status, Protocol.REST_XML.contentType(), Map.of(), w.toBytes()));
    }

    private static JsonNode empty(int status, Map<String, String> headers) {
        return respond(new EncodedResponse(status, "", headers, new byte[0]));
    }

    private static String header(ObjectNode input, String name) {
        return input.path("headers").path(name).asText(null);
    }

    private static String query(ObjectNode input, String name) {
        return input.path("query").path(name).asText(null);
    }

    private static byte[] body(ObjectNode input) {
        JsonNode b = input.get(S3Routes.BODY);
        return b != null && b.isPojo() && ((POJONode) b).getPojo() instanceof byte[] bytes ? bytes : new byte[0];
    }

    private static String bucketName(ObjectNode input) {
        String name = input.path("Bucket").asText("");
        if (!BUCKET.matcher(name).matches() || name.contains("..") || name.contains(".-") || name.contains("-.") || IP_LIKE.matcher(name).matches()) {
            throw new AwsException("InvalidBucketName", 400, "The specified bucket is not valid.");
        }
        return name;
    }

    /** The bucket, when it exists and the caller's account owns it (cross-account access waits for bucket policies). */
    private Bucket requireBucket(RequestContext ctx, ObjectNode input) {
        String name = bucketName(input);
        Bucket b = store.read(h -> new S3Repository(h).bucket(name))
                .orElseThrow(() -> new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"));
        if (!b.accountId().equals(ctx.principal().account().value())) {
            throw new AwsException("AccessDenied", 403, "Access Denied");
        }
        return b;
    }

    private static Map<String, String> context(String bucket, String key) {
        return Map.of("aws:s3:arn", "arn:aws:s3:::" + bucket + "/" + key);
    }

    private static String isoMillis(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.MILLIS));
    }

    // ---- buckets ----

    JsonNode listBuckets(RequestContext ctx, ObjectNode input) {
        String account = ctx.principal().account().value();
        XmlWriter w = XmlWriter.document("ListAllMyBucketsResult", XMLNS);
        w.start("Owner").element("ID", account).element("DisplayName", account).end();
        w.start("Buckets");
        for (Bucket b : store.read(h -> new S3Repository(h).buckets(account))) {
            w.start("Bucket").element("Name", b.name()).element("CreationDate", isoMillis(b.createdAt())).end();
        }
        w.end();
        return xml(200, w);
    }

    JsonNode createBucket(RequestContext ctx, ObjectNode input) {
        String name = bucketName(input);
        byte[] body = body(input);
        if (body.length > 0) {
            ObjectNode config = dev.citadel.wire.RestXml.read(body);
            String location = config.path("LocationConstraint").asText("");
            if (!location.isEmpty() && !location.equals(ctx.region())) {
                throw new AwsException("IllegalLocationConstraintException", 400, "The " + location
                        + " location constraint is incompatible for the region specific endpoint this request was sent to.");
            }
        }
        String account = ctx.principal().account().value();
        try {
            store.useTransaction(h -> new S3Repository(h).insertBucket(new Bucket(name, account, ctx.region(), keys.now())));
        } catch (DuplicateKeyException e) {
            boolean mine = store.read(h -> new S3Repository(h).bucket(name)).map(b -> b.accountId().equals(account)).orElse(false);
            throw mine ? new AwsException("BucketAlreadyOwnedByYou", 409,
                    "Your previous request to create the named bucket succeeded and you already own it.")
                    : new AwsException("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared "
                    + "by all users of the system. Please select a different name and try again.");
        }
        return empty(200, Map.of("Location", "/" + name));
    }

    JsonNode headBucket(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        return empty(200, Map.of("x-amz-bucket-region", b.region()));
    }

    JsonNode deleteBucket(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        store.useTransaction(h -> {
            S3Repository repo = new S3Repository(h);
            if (repo.hasObjects(b.name())) {
                throw new AwsException("BucketNotEmpty", 409, "The bucket you tried to delete is not empty");
            }
            repo.deleteBucket(b.name());
        });
        return empty(204, Map.of());
    }

    JsonNode getBucketLocation(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        XmlWriter w = XmlWriter.document("LocationConstraint", XMLNS);
        if (!b.region().equals("us-east-1")) {
            w.text(b.region());
        }
        return xml(200, w);
    }

    // ---- objects ----

    JsonNode putObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        byte[] body = body(input);
        String md5 = header(input, "content-md5");
        if (md5 != null) {
            byte[] expected;
            try {
                expected = Base64.getDecoder().decode(md5);
            } catch (IllegalArgumentException e) {
                throw new AwsException("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            }
            if (expected.length != 16) {
                throw new AwsException("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            }
            if (!MessageDigest.isEqual(expected, md5(body))) {
                throw new AwsException("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
            }
        }
        String sse = header(input, "x-amz-server-side-encryption");
        if (sse != null && !sse.equals("AES256")) {
            throw new AwsException("NotImplemented", 501, "Only SSE-S3 (AES256) is available yet; SSE-KMS with a customer key comes next.");
        }
        if (header(input, "x-amz-server-side-encryption-customer-algorithm") != null) {
            throw new AwsException("InvalidRequest", 400, "Citadel does not accept customer-provided keys (SSE-C): objects are encrypted "
                    + "under KMS keys it holds.");
        }
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        input.path("headers").properties().forEach(e -> {
            if (e.getKey().startsWith("x-amz-meta-")) {
                metadata.put(e.getKey().substring(11), e.getValue().asText());
            }
        });
        if (metadata.toString().length() > 2048) {
            throw new AwsException("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.");
        }
        Key s3Key = keys.managedKey(b.accountId(), b.region(), S3_KEY_ALIAS, "Default key that protects S3 objects when no other key is defined");
        LocalBlobStore.Written written;
        try {
            written = blobs.write(new ByteArrayInputStream(body), s3Key, context(b.name(), key));
        } catch (IOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        String contentType = Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream");
        S3Object o = new S3Object(b.name(), key, written.blobId(), written.length(), written.md5Hex(), written.sha256Hex(), contentType,
                metadata.toString(), s3Key.arn(), keys.now());
        Optional<String> replaced = store.inTransaction(h -> new S3Repository(h).putObject(o));
        replaced.ifPresent(this::deleteBlobQuietly);
        return empty(200, Map.of("ETag", "\"" + written.md5Hex() + "\"", "x-amz-server-side-encryption", "AES256"));
    }

    private void deleteBlobQuietly(String blobId) {
        try {
            blobs.delete(blobId);
        } catch (IOException e) {
            // An orphaned blob is unreachable (no metadata names it) and still sealed; a later sweep may remove it.
        }
    }

    /** GetObject and HeadObject: the object, or the range asked for, with its headers. */
    JsonNode getObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        S3Object o = store.read(h -> new S3Repository(h).object(b.name(), key))
                .orElseThrow(() -> new AwsException("NoSuchKey", 404, "The specified key does not exist."));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("ETag", "\"" + o.etag() + "\"");
        headers.put("Last-Modified", HTTP_DATE.format(o.lastModified()));
        headers.put("Accept-Ranges", "bytes");
        headers.put("x-amz-server-side-encryption", "AES256");
        try {
            JSON.readTree(o.metadata()).properties().forEach(e -> headers.put("x-amz-meta-" + e.getKey(), e.getValue().asText()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (!preconditionsHold(input, o, headers)) {
            return empty(304, headers);
        }
        long start = 0;
        long end = o.size() - 1;
        int status = 200;
        String range = header(input, "range");
        if (range != null && o.size() > 0) {
            long[] r = parseRange(range, o.size());
            if (r != null) {
                start = r[0];
                end = r[1];
                status = 206;
                headers.put("Content-Range", "bytes " + start + "-" + end + "/" + o.size());
            }
        } else if (range != null) {
            throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
        }
        for (var e : input.path("query").properties()) {
            String override = switch (e.getKey()) {
                case "response-content-disposition" -> "Content-Disposition";
                case "response-content-encoding" -> "Content-Encoding";
                case "response-content-language" -> "Content-Language";
                case "response-cache-control" -> "Cache-Control";
                case "response-expires" -> "Expires";
                default -> null;
            };
            if (override != null) {
                headers.put(override, e.getValue().asText());
            }
        }
        String contentType = input.path("query").path("response-content-type").asText(o.contentType());
        boolean head = ctx.operation().name().equals("HeadObject");
        byte[] content = new byte[head ? 0 : (int) (end - start + 1)];
        if (!head && content.length > 0) {
            try (SeekableByteChannel c = blobs.read(o.blobId(), context(b.name(), key))) {
                c.position(start);
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining() && c.read(buffer) > 0) {
                    // read on
                }
            } catch (IOException e) {
                throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
            }
        }
        if (head) {
            headers.put("Content-Length", Long.toString(status == 206 ? end - start + 1 : o.size()));
        }
        return respond(new EncodedResponse(status, contentType, headers, content));
    }

    /** If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, as S3 applies them. */
    private static boolean preconditionsHold(ObjectNode input, S3Object o, Map<String, String> headers) {
        String etag = "\"" + o.etag() + "\"";
        String ifMatch = header(input, "if-match");
        if (ifMatch != null && !ifMatch.equals("*") && !ifMatch.replace(" ", "").contains(etag)) {
            throw new AwsException("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
        }
        String ifNoneMatch = header(input, "if-none-match");
        if (ifNoneMatch != null && (ifNoneMatch.equals("*") || ifNoneMatch.replace(" ", "").contains(etag))) {
            return false;
        }
        Instant modified = o.lastModified().truncatedTo(ChronoUnit.SECONDS);
        String unmodifiedSince = header(input, "if-unmodified-since");
        if (ifMatch == null && unmodifiedSince != null) {
            Instant t = httpDate(unmodifiedSince);
            if (t != null && modified.isAfter(t)) {
                throw new AwsException("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
            }
        }
        String modifiedSince = header(input, "if-modified-since");
        if (ifNoneMatch == null && modifiedSince != null) {
            Instant t = httpDate(modifiedSince);
            return t == null || modified.isAfter(t);
        }
        return true;
    }

    private static Instant httpDate(String s) {
        try {
            return Instant.from(HTTP_DATE.parse(s));
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** {start, end} of a single {@code bytes=} range; null for a header S3 ignores; InvalidRange when it cannot be satisfied. */
    static long[] parseRange(String header, long size) {
        if (!header.startsWith("bytes=") || header.contains(",")) {
            return null;
        }
        String spec = header.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash);
            String z = spec.substring(dash + 1);
            long start;
            long end;
            if (a.isEmpty()) {
                long suffix = Long.parseLong(z);
                if (suffix <= 0) {
                    throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
                }
                start = Math.max(0, size - suffix);
                end = size - 1;
            } else {
                start = Long.parseLong(a);
                end = z.isEmpty() ? size - 1 : Math.min(Long.parseLong(z), size - 1);
                if (start >= size) {
                    throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
                }
                if (end < start) {
                    return null;
                }
            }
            return new long[] {start, end};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    JsonNode deleteObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        store.inTransaction(h -> new S3Repository(h).deleteObject(b.name(), key)).ifPresent(this::deleteBlobQuietly);
        return empty(204, Map.of());
    }

    JsonNode listObjects(RequestContext ctx, ObjectNode input, boolean v2) {
        Bucket b = requireBucket(ctx, input);
        String prefix = Optional.ofNullable(query(input, "prefix")).orElse("");
        String delimiter = Optional.ofNullable(query(input, "delimiter")).orElse("");
        int maxKeys;
        try {
            maxKeys = Math.min(1000, Integer.parseInt(Optional.ofNullable(query(input, "max-keys")).orElse("1000")));
        } catch (NumberFormatException e) {
            throw new AwsException("InvalidArgument", 400, "Provided max-keys not an integer or within integer range");
        }
        if (maxKeys < 0) {
            throw new AwsException("InvalidArgument", 400, "Argument maxKeys must be an integer between 0 and 2147483647");
        }
        String token = query(input, "continuation-token");
        String after;
        if (v2 && token != null) {
            try {
                after = new String(Base64.getUrlDecoder().decode(token), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new AwsException("InvalidArgument", 400, "The continuation token provided is incorrect");
            }
        } else if (v2) {
            after = Optional.ofNullable(query(input, "start-after")).orElse("");
        } else {
            after = Optional.ofNullable(query(input, "marker")).orElse("");
        }
        boolean urlEncode = "url".equals(query(input, "encoding-type"));
        List<S3Object> contents = new java.util.ArrayList<>();
        TreeSet<String> prefixes = new TreeSet<>();
        String cursor = after;
        boolean truncated = false;
        String last = "";
        boolean more = maxKeys > 0;
        // A marker that is a common prefix stands for all its keys: they were listed as that prefix.
        String skipPrefix = !delimiter.isEmpty() && after.endsWith(delimiter) ? after : null;
        while (more && !truncated) {
            String from = cursor;
            List<S3Object> page = store.read(h -> new S3Repository(h).list(b.name(), prefix, from, 1000));
            more = page.size() == 1000;
            for (S3Object o : page) {
                cursor = o.key();
                if (skipPrefix != null && o.key().startsWith(skipPrefix)) {
                    continue;
                }
                String entry = o.key();
                boolean common = false;
                if (!delimiter.isEmpty()) {
                    int at = o.key().indexOf(delimiter, prefix.length());
                    if (at >= 0) {
                        entry = o.key().substring(0, at + delimiter.length());
                        common = true;
                        if (prefixes.contains(entry)) {
                            continue;
                        }
                    }
                }
                if (contents.size() + prefixes.size() >= maxKeys) {
                    truncated = true;
                    break;
                }
                if (common) {
                    prefixes.add(entry);
                } else {
                    contents.add(o);
                }
                last = entry;
            }
        }
        XmlWriter w = XmlWriter.document("ListBucketResult", XMLNS);
        w.element("Name", b.name());
        w.element("Prefix", enc(prefix, urlEncode));
        if (v2) {
            w.element("KeyCount", Integer.toString(contents.size() + prefixes.size()));
            if (token != null) {
                w.element("ContinuationToken", token);
            }
            if (query(input, "start-after") != null) {
                w.element("StartAfter", enc(query(input, "start-after"), urlEncode));
            }
        } else {
            w.element("Marker", enc(after, urlEncode));
        }
        w.element("MaxKeys", Integer.toString(maxKeys));
        if (!delimiter.isEmpty()) {
            w.element("Delimiter", enc(delimiter, urlEncode));
        }
        if (urlEncode) {
            w.element("EncodingType", "url");
        }
        w.element("IsTruncated", Boolean.toString(truncated));
        if (truncated) {
            if (v2) {
                w.element("NextContinuationToken", Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            } else if (!delimiter.isEmpty()) {
                w.element("NextMarker", enc(last, urlEncode));
            }
        }
        for (S3Object o : contents) {
            w.start("Contents").element("Key", enc(o.key(), urlEncode)).element("LastModified", isoMillis(o.lastModified()))
                    .element("ETag", "\"" + o.etag() + "\"").element("Size", Long.toString(o.size())).element("StorageClass", "STANDARD").end();
        }
        for (String p : prefixes) {
            w.start("CommonPrefixes").element("Prefix", enc(p, urlEncode)).end();
        }
        return xml(200, w);
    }

    private static String enc(String s, boolean url) {
        return url ? java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20") : s;
    }

    private static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
