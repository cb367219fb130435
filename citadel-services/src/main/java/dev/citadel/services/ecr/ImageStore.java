package dev.citadel.services.ecr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.services.s3.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The registry's bytes: every layer, config and manifest is one or more sealed blobs (a chunked
 * upload keeps its chunks), sealed under the repository's key (the account's {@code aws/ecr} key
 * or the repository's KMS key) and bound to the registry's account as encryption context, so a
 * blob can be shared by the account's repositories that use the same key and by no one else.
 */
final class ImageStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One sealed blob of a blob's content: its id, its plaintext size and SHA-256. */
    record Part(String blob, long size, String sha256) {
    }

    private final BlobStore blobs;

    ImageStore(BlobStore blobs) {
        this.blobs = blobs;
    }

    static Map<String, String> context(String account) {
        return Map.of("aws:ecr:registry", account);
    }

    static String json(List<Part> parts) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        parts.forEach(p -> a.addObject().put("blob", p.blob()).put("size", p.size()).put("sha256", p.sha256()));
        return a.toString();
    }

    static List<Part> parts(String json) {
        try {
            List<Part> out = new ArrayList<>();
            for (JsonNode n : JSON.readTree(json)) {
                out.add(new Part(n.path("blob").asText(), n.path("size").asLong(), n.path("sha256").asText("")));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("stored parts are not JSON", e);
        }
    }

    /** Seals what {@code in} holds (at most {@code max} bytes, else SIZE_INVALID and nothing kept) as one part. */
    Part write(String account, Key key, InputStream in, long max) {
        LimitedInput limited = new LimitedInput(in, max);
        BlobStore.Written w;
        try {
            w = blobs.write(limited, key, context(account));
        } catch (IOException | RuntimeException e) {
            if (limited.exceeded) {
                throw new AwsException("SIZE_INVALID", 400, "The blob is larger than the registry accepts (" + max + " bytes).");
            }
            throw new AwsException("BLOB_UPLOAD_INVALID", 400, "The upload could not be read or stored.");
        }
        return new Part(w.blobId(), w.length(), w.sha256Hex());
    }

    /** The plaintext of a blob's parts, in order, opened one part at a time as the stream reaches it. */
    InputStream open(String account, List<Part> parts) {
        Iterator<Part> it = parts.iterator();
        return new SequenceInputStream(new java.util.Enumeration<InputStream>() {
            @Override
            public boolean hasMoreElements() {
                return it.hasNext();
            }

            @Override
            public InputStream nextElement() {
                if (!it.hasNext()) {
                    throw new NoSuchElementException();
                }
                try {
                    return Channels.newInputStream(blobs.read(it.next().blob(), context(account)));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
    }

    byte[] readAll(String account, List<Part> parts, int max) throws IOException {
        try (InputStream in = open(account, parts)) {
            byte[] out = in.readNBytes(max + 1);
            if (out.length > max) {
                throw new IOException("larger than " + max + " bytes");
            }
            return out;
        }
    }

    void delete(List<Part> parts) {
        for (Part p : parts) {
            try {
                blobs.delete(p.blob());
            } catch (IOException e) {
                // Unreferenced and still sealed; the start-up sweep removes it.
            }
        }
    }

    /** Removes sealed blobs no row refers to (interrupted writes first). Run at start. */
    int sweep(java.util.Set<String> referenced) throws IOException {
        blobs.recover();
        int removed = 0;
        for (String id : blobs.ids()) {
            if (!referenced.contains(id) && blobs.delete(id)) {
                removed++;
            }
        }
        return removed;
    }

    static List<Part> none() {
        return Collections.emptyList();
    }

    /** Reads at most {@code max} bytes; one more fails the read and says so. */
    private static final class LimitedInput extends InputStream {
        private final InputStream in;
        private long left;
        boolean exceeded;

        LimitedInput(InputStream in, long max) {
            this.in = in;
            this.left = max;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, (int) Math.min(len, left + 1));
            if (n > 0) {
                left -= n;
                if (left < 0) {
                    exceeded = true;
                    throw new IOException("too large");
                }
            }
            return n;
        }
    }
}
