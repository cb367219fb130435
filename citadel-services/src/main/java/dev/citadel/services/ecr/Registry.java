package dev.citadel.services.ecr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.ecr.EcrRepository;
import dev.citadel.metadata.ecr.EcrRepository.Blob;
import dev.citadel.metadata.ecr.EcrRepository.Image;
import dev.citadel.metadata.ecr.EcrRepository.Repo;
import dev.citadel.metadata.ecr.EcrRepository.Upload;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.protocol.OciRoutes;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.wire.EncodedResponse;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * The OCI Distribution API on Citadel's listener, as Docker clients (skopeo, podman, docker) push
 * and pull: each route is an ECR action on the repository it names, authorized like any API call
 * (identity policies, the repository policy, SCPs) and audited as ECR's. Every blob's digest is
 * verified before it exists, sizes are capped, contents are sealed, immutable tags stay put.
 *
 * <p>The repository a path names is the caller's own; {@code <account>.dkr.ecr.<region>.amazonaws.com}
 * as the request's Host or as the first segment of the repository path names another account's
 * registry (what the repository policy must then allow).
 */
public final class Registry {
    /** The largest layer or config accepted, over all of an upload's chunks. */
    static final long MAX_BLOB_BYTES = 16L << 30;

    private final EcrService ecr;

    public Registry(EcrService ecr) {
        this.ecr = ecr;
    }

    public List<Operation> operations() {
        return List.of(
                Operation.of(OperationSpec.builder("ecr-registry", "CheckRegistry").action("ecr:GetAuthorizationToken").noPermissionRequired().resources(ResourceResolver.ALL).readOnly().build(),
                        (ctx, in) -> respond(new EncodedResponse(200, "application/json", Map.of(), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8)))),
                op("BatchCheckLayerAvailability", "ecr:BatchCheckLayerAvailability", true, false, this::headBlob),
                op("GetDownloadUrlForLayer", "ecr:GetDownloadUrlForLayer", true, false, this::getBlob),
                op("InitiateLayerUpload", "ecr:InitiateLayerUpload", false, true, this::initiateUpload),
                op("UploadLayerPart", "ecr:UploadLayerPart", false, true, this::uploadPart),
                op("CompleteLayerUpload", "ecr:CompleteLayerUpload", false, true, this::completeUpload),
                op("GetLayerUploadStatus", "ecr:UploadLayerPart", true, false, this::uploadStatus),
                op("AbortLayerUpload", "ecr:UploadLayerPart", false, false, this::abortUpload),
                op("PutImage", "ecr:PutImage", false, false, this::putImage),
                op("BatchGetImage", "ecr:BatchGetImage", true, false, this::getManifest),
                op("BatchDeleteImage", "ecr:BatchDeleteImage", false, false, this::deleteManifest),
                op("ListImages", "ecr:ListImages", true, false, this::listTags));
    }

    private Operation op(String name, String action, boolean readOnly, boolean streaming, Operation.Handler handler) {
        ResourceResolver resource = (ctx, in) -> {
            Target t = target(ctx, in);
            return List.of(EcrService.arn(ctx.region(), t.account(), t.name()));
        };
        OperationSpec.Builder b = OperationSpec.builder("ecr-registry", name).action(action).resources(resource)
                .maxBodyBytes(streaming ? MAX_BLOB_BYTES : Manifests.MAX_BYTES);
        if (readOnly) {
            b.readOnly();
        }
        if (streaming) {
            b.streamingBody();
        }
        return Operation.of(b.build(), handler);
    }

    /** The registry (account) and repository a request addresses, and the name as the client wrote it (for Location headers). */
    record Target(String account, String name, String pathName) {
    }

    static Target target(RequestContext ctx, ObjectNode in) {
        String given = in.path("repositoryName").asText("");
        int slash = given.indexOf('/');
        if (slash > 0) {
            Matcher m = EcrService.ECR_HOST.matcher(given.substring(0, slash));
            if (m.matches()) {
                requireRegion(ctx, m.group(2));
                return new Target(m.group(1), given.substring(slash + 1), given);
            }
        }
        Matcher host = EcrService.ECR_HOST.matcher(in.path("headers").path("host").asText(""));
        if (host.matches()) {
            requireRegion(ctx, host.group(2));
            return new Target(host.group(1), given, given);
        }
        return new Target(ctx.principal().account().value(), given, given);
    }

    private static void requireRegion(RequestContext ctx, String region) {
        if (!region.equals(ctx.region())) {
            throw new AwsException("NAME_UNKNOWN", 404, "This registry serves " + ctx.region() + ", not " + region + ".");
        }
    }

    private Repo repo(Target t) {
        return ecr.store.read(h -> new EcrRepository(h).repository(t.account(), t.name())).orElseThrow(() -> new AwsException("NAME_UNKNOWN",
                404, "The repository with name '" + t.name() + "' does not exist in the registry with id '" + t.account() + "'"));
    }

    private static JsonNode respond(EncodedResponse r) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set(S3Routes.ENCODED, new POJONode(r));
        return out;
    }

    private static InputStream body(ObjectNode in) {
        JsonNode b = in.get(S3Routes.BODY);
        if (b != null && b.isPojo() && ((POJONode) b).getPojo() instanceof InputStream stream) {
            return stream;
        }
        return InputStream.nullInputStream();
    }

    // ---- blobs ----

    private Blob requireBlob(Target t, String digest) {
        return ecr.store.read(h -> new EcrRepository(h).blob(t.account(), t.name(), digest)).orElseThrow(() -> new AwsException("BLOB_UNKNOWN",
                404, "The blob " + digest + " is not in the repository."));
    }

    JsonNode headBlob(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        Blob b = requireBlob(t, in.path("reference").asText());
        return respond(new EncodedResponse(200, "application/octet-stream", EcrService.headers("Content-Length", Long.toString(b.size()),
                "Docker-Content-Digest", b.digest()), new byte[0]));
    }

    JsonNode getBlob(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        Blob b = requireBlob(t, in.path("reference").asText());
        List<ImageStore.Part> parts = ImageStore.parts(b.parts());
        return respond(EncodedResponse.streaming(200, "application/octet-stream", EcrService.headers("Docker-Content-Digest", b.digest()),
                new EncodedResponse.StreamingBody() {
                    @Override
                    public long length() {
                        return b.size();
                    }

                    @Override
                    public void writeTo(java.io.OutputStream out) throws IOException {
                        try (InputStream content = ecr.images.open(t.account(), parts)) {
                            content.transferTo(out);
                        }
                    }
                }));
    }

    // ---- uploads ----

    private static String newUploadId() {
        byte[] r = new byte[24];
        new java.security.SecureRandom().nextBytes(r);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(r);
    }

    private static String digestParameter(ObjectNode in) {
        String digest = in.path("query").path("digest").asText("");
        if (!OciRoutes.DIGEST.matcher(digest).matches()) {
            throw new AwsException("DIGEST_INVALID", 400, "The digest parameter must be sha256:<64 hex digits>.");
        }
        return digest;
    }

    private static EncodedResponse uploadAccepted(Target t, String id, long size, int status) {
        return new EncodedResponse(status, "", EcrService.headers("Location", "/v2/" + t.pathName() + "/blobs/uploads/" + id,
                "Range", "0-" + Math.max(0, size - 1), "Docker-Upload-UUID", id, "Content-Length", "0"), new byte[0]);
    }

    private static EncodedResponse blobCreated(Target t, String digest) {
        return new EncodedResponse(201, "", EcrService.headers("Location", "/v2/" + t.pathName() + "/blobs/" + digest,
                "Docker-Content-Digest", digest, "Content-Length", "0"), new byte[0]);
    }

    JsonNode initiateUpload(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        Repo r = repo(t);
        JsonNode q = in.path("query");
        if (q.hasNonNull("mount")) {
            Optional<EncodedResponse> mounted = mount(ctx, t, r, q.path("mount").asText(""), q.path("from").asText(""));
            if (mounted.isPresent()) {
                return respond(mounted.get());
            }
        }
        if (q.hasNonNull("digest")) {
            // A monolithic upload: the whole blob in this request.
            String digest = digestParameter(in);
            ImageStore.Part part = ecr.images.write(t.account(), ecr.keyOf(r), body(in), MAX_BLOB_BYTES);
            finish(t, digest, List.of(part));
            return respond(blobCreated(t, digest));
        }
        String id = newUploadId();
        ecr.store.useTransaction(h -> new EcrRepository(h).insertUpload(new Upload(id, t.account(), t.name(), "[]", 0, ecr.clock.instant())));
        return respond(uploadAccepted(t, id, 0, 202));
    }

    /**
     * A cross-repository mount within the registry: the source blob becomes the target's without
     * a copy, when the caller may pull from the source and both repositories seal with the same
     * key. Otherwise the client uploads as usual (the spec's fallback).
     */
    private Optional<EncodedResponse> mount(RequestContext ctx, Target t, Repo target, String digest, String from) {
        if (!OciRoutes.DIGEST.matcher(digest).matches() || from.isEmpty() || !OciRoutes.NAME.matcher(from).matches()) {
            return Optional.empty();
        }
        Optional<Repo> source = ecr.store.read(h -> new EcrRepository(h).repository(t.account(), from));
        Optional<Blob> blob = ecr.store.read(h -> new EcrRepository(h).blob(t.account(), from, digest));
        if (source.isEmpty() || blob.isEmpty() || !ecr.keyOf(source.get()).arn().equals(ecr.keyOf(target).arn())
                || !ecr.mayPull(ctx, EcrService.arn(ctx.region(), t.account(), from))) {
            return Optional.empty();
        }
        ecr.store.useTransaction(h -> new EcrRepository(h).putBlob(new Blob(t.account(), t.name(), digest, blob.get().size(), blob.get().parts(),
                ecr.clock.instant())));
        return Optional.of(blobCreated(t, digest));
    }

    private Upload requireUpload(Target t, ObjectNode in) {
        String id = in.path("uploadId").asText("");
        return ecr.store.read(h -> new EcrRepository(h).upload(id)).filter(u -> u.accountId().equals(t.account()) && u.repository().equals(t.name()))
                .orElseThrow(() -> new AwsException("BLOB_UPLOAD_UNKNOWN", 404, "The upload is unknown to the registry."));
    }

    JsonNode uploadPart(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        Repo r = repo(t);
        Upload u = requireUpload(t, in);
        long[] range = Manifests.contentRange(in.path("headers").path("content-range").asText(""));
        if (range != null && range[0] != u.size()) {
            throw new AwsException("BLOB_UPLOAD_INVALID", 416, "The chunk does not continue the upload at " + u.size() + ".");
        }
        ImageStore.Part part = ecr.images.write(t.account(), ecr.keyOf(r), body(in), MAX_BLOB_BYTES - u.size());
        if (range != null && range[1] - range[0] + 1 != part.size()) {
            ecr.images.delete(List.of(part));
            throw new AwsException("BLOB_UPLOAD_INVALID", 416, "The chunk's length does not match its Content-Range.");
        }
        List<ImageStore.Part> parts = new ArrayList<>(ImageStore.parts(u.parts()));
        parts.add(part);
        long size = u.size() + part.size();
        boolean advanced = ecr.store.inTransaction(h -> new EcrRepository(h).advanceUpload(u.uploadId(), u.size(), ImageStore.json(parts), size));
        if (!advanced) {
            ecr.images.delete(List.of(part));
            throw new AwsException("BLOB_UPLOAD_INVALID", 416, "Another chunk of this upload arrived first.");
        }
        return respond(uploadAccepted(t, u.uploadId(), size, 202));
    }

    JsonNode uploadStatus(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        Upload u = requireUpload(t, in);
        return respond(uploadAccepted(t, u.uploadId(), u.size(), 204));
    }

    JsonNode abortUpload(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        Upload u = requireUpload(t, in);
        if (ecr.store.inTransaction(h -> new EcrRepository(h).deleteUpload(u.uploadId()))) {
            ecr.images.delete(ImageStore.parts(u.parts()));
        }
        return respond(new EncodedResponse(204, "", Map.of(), new byte[0]));
    }

    JsonNode completeUpload(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        Repo r = repo(t);
        Upload u = requireUpload(t, in);
        String digest = digestParameter(in);
        List<ImageStore.Part> parts = new ArrayList<>(ImageStore.parts(u.parts()));
        ImageStore.Part last = ecr.images.write(t.account(), ecr.keyOf(r), body(in), MAX_BLOB_BYTES - u.size());
        if (last.size() > 0) {
            parts.add(last);
        } else {
            ecr.images.delete(List.of(last));
        }
        if (!ecr.store.inTransaction(h -> new EcrRepository(h).deleteUpload(u.uploadId()))) {
            ecr.images.delete(List.of(last));
            throw new AwsException("BLOB_UPLOAD_UNKNOWN", 404, "The upload is unknown to the registry.");
        }
        finish(t, digest, parts);
        return respond(blobCreated(t, digest));
    }

    /** Verifies the parts' content against {@code digest} and records the blob; on a mismatch nothing is kept. */
    private void finish(Target t, String digest, List<ImageStore.Part> parts) {
        String actual;
        if (parts.size() == 1) {
            actual = "sha256:" + parts.getFirst().sha256();
        } else {
            actual = hashParts(t.account(), parts);
        }
        if (!MessageDigest.isEqual(actual.getBytes(java.nio.charset.StandardCharsets.US_ASCII), digest.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            ecr.images.delete(parts);
            throw new AwsException("DIGEST_INVALID", 400, "The content does not match the digest " + digest + ".");
        }
        long size = parts.stream().mapToLong(ImageStore.Part::size).sum();
        boolean added = ecr.store.inTransaction(h -> new EcrRepository(h).putBlob(new Blob(t.account(), t.name(), digest, size,
                ImageStore.json(parts), ecr.clock.instant())));
        if (!added) {
            ecr.images.delete(parts); // the repository has this blob already
        }
    }

    private String hashParts(String account, List<ImageStore.Part> parts) {
        try (InputStream in = ecr.images.open(account, parts)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            ecr.images.delete(parts);
            throw new AwsException("BLOB_UPLOAD_INVALID", 400, "The upload could not be read back.");
        }
    }

    // ---- manifests ----

    JsonNode putImage(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        Repo r = repo(t);
        byte[] body;
        try {
            body = in.path("body").isBinary() ? in.path("body").binaryValue() : new byte[0];
        } catch (IOException e) {
            throw Manifests.invalid("The manifest could not be read.");
        }
        Manifests.Parsed parsed = Manifests.parse(in.path("headers").path("content-type").asText(""), body);
        String digest;
        try {
            digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String reference = in.path("reference").asText();
        boolean byDigest = OciRoutes.DIGEST.matcher(reference).matches();
        if (byDigest && !reference.equals(digest)) {
            throw new AwsException("DIGEST_INVALID", 400, "The manifest's digest is " + digest + ", not " + reference + ".");
        }
        long imageSize = body.length;
        EcrRepository.Blob config = null;
        for (Manifests.Reference ref : parsed.references()) {
            if (parsed.isIndex()) {
                if (ecr.store.read(h -> new EcrRepository(h).image(t.account(), t.name(), ref.digest())).isEmpty()) {
                    throw new AwsException("MANIFEST_BLOB_UNKNOWN", 400, "The index lists " + ref.digest() + ", which is not in the repository.");
                }
            } else {
                Blob b = ecr.store.read(h -> new EcrRepository(h).blob(t.account(), t.name(), ref.digest())).orElseThrow(() ->
                        new AwsException("MANIFEST_BLOB_UNKNOWN", 400, "The layer " + ref.digest() + " is not in the repository."));
                if (b.size() != ref.size()) {
                    throw Manifests.invalid("The layer " + ref.digest() + " has " + b.size() + " bytes, not " + ref.size() + ".");
                }
                imageSize += b.size();
            }
        }
        if (parsed.config() != null) {
            Manifests.Reference c = parsed.config();
            config = ecr.store.read(h -> new EcrRepository(h).blob(t.account(), t.name(), c.digest())).orElseThrow(() ->
                    new AwsException("MANIFEST_BLOB_UNKNOWN", 400, "The config " + c.digest() + " is not in the repository."));
            if (config.size() != c.size()) {
                throw Manifests.invalid("The config " + c.digest() + " has " + config.size() + " bytes, not " + c.size() + ".");
            }
            imageSize += config.size();
        }
        Key key = ecr.keyOf(r);
        ImageStore.Part part = ecr.images.write(t.account(), key, new java.io.ByteArrayInputStream(body), Manifests.MAX_BYTES);
        long size = imageSize;
        Image image = new Image(t.account(), t.name(), digest, parsed.mediaType(), parsed.artifactType(), ImageStore.json(List.of(part)),
                body.length, size, ecr.clock.instant(), Optional.empty(), "", "", "[]", Optional.empty());
        boolean[] added = new boolean[1];
        ecr.store.useTransaction(h -> {
            EcrRepository repo = new EcrRepository(h);
            if (!byDigest) {
                Optional<String> current = repo.tag(t.account(), t.name(), reference);
                if (r.tagMutability().equals("IMMUTABLE") && current.isPresent() && !current.get().equals(digest)) {
                    throw new AwsException("TAG_INVALID", 400, "The image tag '" + reference + "' already exists in the '" + t.name()
                            + "' repository and cannot be overwritten because the repository is immutable.");
                }
            }
            added[0] = repo.putImage(image);
            if (!byDigest) {
                repo.setTag(t.account(), t.name(), reference, digest);
            }
        });
        if (!added[0]) {
            ecr.images.delete(List.of(part)); // the same manifest was pushed before
        } else if (r.scanOnPush() && !parsed.isIndex()) {
            ecr.scans.start(ecr, r, image);
        }
        return respond(new EncodedResponse(201, "", EcrService.headers("Location", "/v2/" + t.pathName() + "/manifests/" + digest,
                "Docker-Content-Digest", digest, "Content-Length", "0"), new byte[0]));
    }

    private Image resolve(Target t, String reference) {
        return ecr.store.read(h -> {
            EcrRepository repo = new EcrRepository(h);
            String digest = OciRoutes.DIGEST.matcher(reference).matches() ? reference : repo.tag(t.account(), t.name(), reference).orElse("");
            return repo.image(t.account(), t.name(), digest);
        }).orElseThrow(() -> new AwsException("MANIFEST_UNKNOWN", 404, "Requested image not found"));
    }

    JsonNode getManifest(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        Image i = resolve(t, in.path("reference").asText());
        byte[] manifest;
        try {
            manifest = ecr.images.readAll(t.account(), ImageStore.parts(i.manifestParts()), Manifests.MAX_BYTES);
        } catch (IOException e) {
            throw new AwsException("UNKNOWN", 500, "The manifest could not be read.");
        }
        Map<String, String> headers = EcrService.headers("Docker-Content-Digest", i.digest(), "Content-Length", Integer.toString(manifest.length));
        if (!in.path("method").asText().equals("HEAD")) {
            ecr.store.useTransaction(h -> new EcrRepository(h).touchPulled(t.account(), t.name(), i.digest(), ecr.clock.instant()));
        }
        return respond(new EncodedResponse(200, i.mediaType(), headers, manifest));
    }

    JsonNode deleteManifest(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        String reference = in.path("reference").asText();
        if (!OciRoutes.DIGEST.matcher(reference).matches()) {
            throw new AwsException("UNSUPPORTED", 405, "Delete an image by its digest (BatchDeleteImage removes tags).");
        }
        Optional<String> parts = ecr.store.inTransaction(h -> new EcrRepository(h).deleteImage(t.account(), t.name(), reference));
        if (parts.isEmpty()) {
            throw new AwsException("MANIFEST_UNKNOWN", 404, "Requested image not found");
        }
        ecr.releaseUnreferenced(List.of(parts.get()));
        return respond(new EncodedResponse(202, "", Map.of("Content-Length", "0"), new byte[0]));
    }

    JsonNode listTags(RequestContext ctx, ObjectNode in) {
        Target t = target(ctx, in);
        repo(t);
        List<String> tags = ecr.store.read(h -> new EcrRepository(h).tags(t.account(), t.name()));
        String last = in.path("query").path("last").asText("");
        int n = 1000;
        if (in.path("query").has("n")) {
            try {
                n = Math.max(0, Math.min(1000, Integer.parseInt(in.path("query").path("n").asText())));
            } catch (NumberFormatException e) {
                throw new AwsException("PAGINATION_NUMBER_INVALID", 400, "The n parameter must be a number.");
            }
        }
        List<String> page = tags.stream().filter(tag -> last.isEmpty() || tag.compareTo(last) > 0).limit(n).toList();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("name", t.pathName());
        ArrayNode list = out.putArray("tags");
        page.forEach(list::add);
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        if (page.size() == n && n > 0 && tags.indexOf(page.getLast()) < tags.size() - 1) {
            headers.put("Link", "</v2/" + t.pathName() + "/tags/list?n=" + n + "&last=" + page.getLast() + ">; rel=\"next\"");
        }
        return respond(new EncodedResponse(200, "application/json", headers, out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
