package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.wire.EncodedResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Moves a job's data between S3 and its volume as SageMaker does: with the job's execution role.
 * Every read and write is an S3 operation run through the request pipeline for the role's
 * session ({@link Invoker}), so bucket policies, KMS key policies and the role's own policies
 * decide, and each call is audited as the role's, invoked by {@code sagemaker.amazonaws.com}.
 */
public final class JobData {
    static final String INVOKED_BY = "sagemaker.amazonaws.com";

    /** Runs an operation of a service for a principal (the request pipeline's {@code invokeAs}). */
    @FunctionalInterface
    public interface Invoker {
        JsonNode invoke(Principal principal, String service, String operation, ObjectNode input);
    }

    private final Invoker invoker;

    JobData(Invoker invoker) {
        this.invoker = invoker;
    }

    /** The keys under {@code prefix} in {@code bucket}, in S3's order (ListObjectsV2, page by page). */
    List<String> list(Principal role, String bucket, String prefix, int max) {
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            ObjectNode in = request(bucket, null);
            ObjectNode q = (ObjectNode) in.get("query");
            q.put("list-type", "2");
            q.put("prefix", prefix);
            if (token != null) {
                q.put("continuation-token", token);
            }
            EncodedResponse r = encoded(invoker.invoke(role, "s3", "ListObjectsV2", in));
            token = null;
            boolean truncated = false;
            try {
                XMLStreamReader x = dev.citadel.wire.RestXml.reader(new ByteArrayInputStream(r.body()));
                String element = "";
                while (x.hasNext()) {
                    int e = x.next();
                    if (e == XMLStreamConstants.START_ELEMENT) {
                        element = x.getLocalName();
                        switch (element) {
                            case "Key" -> keys.add(x.getElementText());
                            case "IsTruncated" -> truncated = x.getElementText().equals("true");
                            case "NextContinuationToken" -> token = x.getElementText();
                            default -> {
                            }
                        }
                    }
                }
            } catch (XMLStreamException ex) {
                throw new IllegalStateException("cannot read a listing", ex);
            }
            if (!truncated) {
                token = null;
            }
            if (keys.size() > max) {
                throw new AwsException("ValidationException", 400, "More than " + max + " objects under s3://" + bucket + "/" + prefix + ".");
            }
        } while (token != null);
        return keys;
    }

    /** Writes one object's content to {@code target}, gunzipped when {@code gunzip}; returns the bytes written. */
    long download(Principal role, String bucket, String key, Path target, boolean gunzip) throws IOException {
        ObjectNode in = request(bucket, key);
        EncodedResponse r = encoded(invoker.invoke(role, "s3", "GetObject", in));
        Files.createDirectories(target.getParent());
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        try (OutputStream file = Files.newOutputStream(partial)) {
            if (gunzip) {
                java.io.PipedInputStream pipe = new java.io.PipedInputStream(1 << 16);
                // decompressing as the body streams, without holding it: written on this thread, read on another
                try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                    java.io.PipedOutputStream sink = new java.io.PipedOutputStream(pipe);
                    var copy = executor.submit(() -> {
                        try (InputStream gz = new java.util.zip.GZIPInputStream(pipe, 1 << 16)) {
                            return gz.transferTo(file);
                        }
                    });
                    try (sink) {
                        write(r, sink);
                    }
                    try {
                        copy.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new IOException("s3://" + bucket + "/" + key + " is not gzip data: " + e.getCause().getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
            } else {
                write(r, file);
            }
        }
        Files.move(partial, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return Files.size(target);
    }

    /** Streams one object's content into {@code out} (which it does not close); returns nothing to keep the body off the heap. */
    void copy(Principal role, String bucket, String key, OutputStream out) throws IOException {
        write(encoded(invoker.invoke(role, "s3", "GetObject", request(bucket, key))), out);
    }

    /** The whole of a small object (a manifest file). */
    byte[] read(Principal role, String bucket, String key, int max) throws IOException {
        EncodedResponse r = encoded(invoker.invoke(role, "s3", "GetObject", request(bucket, key)));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        write(r, out);
        if (out.size() > max) {
            throw new AwsException("ValidationException", 400, "s3://" + bucket + "/" + key + " is larger than " + max + " bytes.");
        }
        return out.toByteArray();
    }

    /** Stores {@code file} as an object, sealed under {@code kmsKeyId} when one is given (else the bucket's default). */
    void upload(Principal role, String bucket, String key, Path file, Optional<String> kmsKeyId, String contentType) throws IOException {
        ObjectNode in = putRequest(bucket, key, Files.size(file), kmsKeyId, contentType);
        try (InputStream body = Files.newInputStream(file)) {
            in.set(S3Routes.BODY, new POJONode(body));
            invoker.invoke(role, "s3", "PutObject", in);
        }
    }

    /** Stores {@code body} as an object, sealed under {@code kmsKeyId} when one is given (else the bucket's default). */
    void put(Principal role, String bucket, String key, byte[] body, Optional<String> kmsKeyId, String contentType) {
        ObjectNode in = putRequest(bucket, key, body.length, kmsKeyId, contentType);
        in.set(S3Routes.BODY, new POJONode(body));
        invoker.invoke(role, "s3", "PutObject", in);
    }

    private static ObjectNode putRequest(String bucket, String key, long length, Optional<String> kmsKeyId, String contentType) {
        ObjectNode in = request(bucket, key);
        ObjectNode h = (ObjectNode) in.get("headers");
        h.put("content-length", Long.toString(length));
        h.put("content-type", contentType);
        kmsKeyId.ifPresent(k -> {
            h.put("x-amz-server-side-encryption", "aws:kms");
            h.put("x-amz-server-side-encryption-aws-kms-key-id", k);
        });
        return in;
    }

    /**
     * Pulls an image as SageMaker does, with the role: ECR's BatchGetImage through the pipeline, so
     * that the role's policies and the repository policy must allow it; a ClientError otherwise.
     */
    void pull(Principal role, String account, String repository, String digest) {
        ObjectNode in = JsonNodeFactory.instance.objectNode().put("registryId", account).put("repositoryName", repository);
        in.putArray("imageIds").addObject().put("imageDigest", digest);
        JsonNode out;
        try {
            out = invoker.invoke(role, "ecr", "BatchGetImage", in);
        } catch (AwsException e) {
            throw new AwsException("ClientError", 400, "ClientError: cannot pull the image with the role: " + e.getMessage());
        }
        if (out.path("images").isEmpty()) {
            throw new AwsException("ClientError", 400, "ClientError: the image " + digest + " is no longer in the repository " + repository
                    + ".");
        }
    }

    /**
     * The key a run's volume is encrypted under ({@link dev.citadel.services.sandbox.Sandbox#VOLUME_KEY_BYTES}
     * bytes). With a VolumeKmsKeyId it is a data key the role generates under that key (KMS's
     * GenerateDataKey through the pipeline, so the key policy and the role's policies must allow
     * it, and the trail records it with the resource it is for in its encryption context);
     * without one it is random. Nobody keeps it: the volume lives only as long as its run.
     */
    byte[] volumeKey(Principal role, Optional<String> kmsKey, String resourceArn) {
        byte[] key = new byte[dev.citadel.services.sandbox.Sandbox.VOLUME_KEY_BYTES];
        if (kmsKey.isEmpty()) {
            dev.citadel.services.sandbox.Sandbox.RANDOM.nextBytes(key);
            return key;
        }
        ObjectNode in = JsonNodeFactory.instance.objectNode().put("KeyId", kmsKey.get()).put("NumberOfBytes", key.length);
        in.putObject("EncryptionContext").put(VOLUME_CONTEXT, resourceArn);
        JsonNode out;
        try {
            out = invoker.invoke(role, "kms", "GenerateDataKey", in);
        } catch (AwsException e) {
            throw new AwsException("ClientError", 400, "ClientError: cannot generate the volume's data key under " + kmsKey.get()
                    + " with the role: " + e.getMessage());
        }
        byte[] plaintext = java.util.Base64.getDecoder().decode(out.path("Plaintext").asText());
        if (plaintext.length != key.length) {
            java.util.Arrays.fill(plaintext, (byte) 0);
            throw new IllegalStateException("KMS returned a data key of " + plaintext.length + " bytes");
        }
        return plaintext;
    }

    /** The encryption context of a volume's data key names the job or endpoint it is for. */
    static final String VOLUME_CONTEXT = "citadel:sagemaker:volume-of";

    private static ObjectNode request(String bucket, String key) {
        ObjectNode in = JsonNodeFactory.instance.objectNode();
        in.put("Bucket", bucket);
        if (key != null) {
            in.put("Key", key);
        }
        in.putObject("query");
        in.putObject("headers");
        in.set(S3Routes.BODY, new POJONode(new byte[0]));
        return in;
    }

    private static EncodedResponse encoded(JsonNode out) {
        JsonNode e = out.get(S3Routes.ENCODED);
        if (e instanceof POJONode p && p.getPojo() instanceof EncodedResponse r) {
            if (r.status() >= 300) {
                throw new AwsException("InternalFailure", 500, "S3 answered " + r.status());
            }
            return r;
        }
        throw new IllegalStateException("S3 gave no encoded response");
    }

    private static void write(EncodedResponse r, OutputStream out) throws IOException {
        if (r.stream().isPresent()) {
            r.stream().get().writeTo(out);
        } else {
            out.write(r.body());
        }
    }
}
