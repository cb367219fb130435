package dev.citadel.pipeline.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The embedded audit sink: one CloudTrail-shaped JSON record per line, appended to a file that
 * only Citadel can read. Group commit: callers enqueue and wait; one writer thread drains the
 * queue, writes the batch, calls {@code fsync} once and releases every waiter of that batch.
 * Throughput therefore grows with concurrency while each event stays durable before its response.
 * The audit issue replaces this file with sealed, signed, CloudTrail-delivered logs.
 */
public final class JsonLinesAuditLog implements AuditSink {
    private static final int MAX_BATCH = 4096;

    private record Pending(byte[] line, CompletableFuture<Void> done) {
    }

    private final ObjectMapper json = new ObjectMapper();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final FileChannel channel;
    private final Thread writer;
    private volatile boolean closed;

    public JsonLinesAuditLog(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwx------"));
            this.channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open audit log " + file, e);
        }
        this.writer = Thread.ofPlatform().name("audit-writer").daemon(true).start(this::drain);
    }

    @Override
    public void record(AuditEvent event) {
        if (closed) {
            throw new IllegalStateException("audit log is closed");
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new Pending(toLine(event), done));
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making an audit event durable", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("audit event could not be made durable", e);
        }
    }

    private void drain() {
        List<Pending> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                write(batch);
                for (Pending p : batch) {
                    p.done.complete(null);
                }
            } catch (IOException | RuntimeException e) {
                for (Pending p : batch) {
                    p.done.completeExceptionally(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Pending> batch) throws IOException {
        int size = 0;
        for (Pending p : batch) {
            size += p.line.length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        for (Pending p : batch) {
            buf.put(p.line);
        }
        buf.flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        channel.force(false);
    }

    private byte[] toLine(AuditEvent e) {
        ObjectNode n = json.createObjectNode();
        n.put("eventVersion", AuditEvent.EVENT_VERSION);
        e.userIdentity().ifPresent(u -> n.set("userIdentity", u));
        n.put("eventTime", e.eventTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        n.put("eventSource", e.eventSource());
        n.put("eventName", e.eventName());
        n.put("awsRegion", e.awsRegion());
        n.put("sourceIPAddress", e.sourceIpAddress());
        n.put("userAgent", e.userAgent());
        e.errorCode().ifPresent(c -> n.put("errorCode", c));
        e.errorMessage().ifPresent(m -> n.put("errorMessage", m));
        n.set("requestParameters", e.requestParameters().orElse(null));
        n.set("responseElements", e.responseElements().orElse(null));
        n.put("requestID", e.requestId());
        n.put("eventID", e.eventId());
        n.put("readOnly", e.readOnly());
        n.put("eventType", "AwsApiCall");
        n.put("managementEvent", true);
        n.put("recipientAccountId", e.recipientAccountId());
        n.put("eventCategory", "Management");
        if (!e.vpcEndpointId().isEmpty()) {
            n.put("vpcEndpointId", e.vpcEndpointId());
        }
        ObjectNode tls = n.putObject("tlsDetails");
        tls.put("tlsVersion", e.tlsVersion());
        tls.put("cipherSuite", e.cipherSuite());
        tls.put("clientProvidedHostHeader", e.clientProvidedHostHeader());
        try {
            byte[] body = json.writeValueAsBytes(n);
            byte[] line = java.util.Arrays.copyOf(body, body.length + 1);
            line[body.length] = '\n';
            return line;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(5000);
            channel.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
