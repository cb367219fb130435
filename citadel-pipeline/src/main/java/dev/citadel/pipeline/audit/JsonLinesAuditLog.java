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
import java.io.ByteArrayOutputStream;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedded audit sink: one CloudTrail-shaped JSON record per line, appended to a file that
 * only Citadel can read. Group commit without a dedicated thread: a caller appends its line to the
 * pending batch; if no flush is running it becomes the leader, writes the whole batch and calls
 * {@code fdatasync} once, then wakes the followers whose lines that flush covered; otherwise it
 * waits for a flush that covers its line. Each event is durable before {@link #record} returns,
 * and throughput grows with concurrency. An I/O failure is sticky: every later record fails, so no
 * request is acknowledged that is not on the record. The audit issue replaces this file with
 * sealed, signed, CloudTrail-delivered logs.
 *
 * <p>At open, a last line without its newline (a write cut short by a crash: no request waited
 * for it successfully, since its batch's {@code fdatasync} never returned) is cut off, so that the
 * first event of this start begins a line of its own. Readers (the event indexer, trail delivery)
 * never read past the last newline, so none of them has read the bytes cut off.
 */
public final class JsonLinesAuditLog implements AuditSink {
    private final ObjectMapper json = new ObjectMapper();
    private final FileChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition flushed = lock.newCondition();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(64 * 1024);
    private long appended;
    private long durable;
    private boolean flushing;
    private boolean closed;
    private IOException failure;

    public JsonLinesAuditLog(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwx------"));
            this.channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            cutTornRecord(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open audit log " + file, e);
        }
    }

    /** Truncates {@code file} after its last newline when its last line lacks one, durably. */
    private static void cutTornRecord(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = in.size();
            long end = size;
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (end > 0) {
                int n = (int) Math.min(buffer.capacity(), end);
                buffer.clear().limit(n);
                long from = end - n;
                while (buffer.hasRemaining()) {
                    if (in.read(buffer, from + buffer.position()) < 0) {
                        throw new IOException("the audit log shrank while it was opened");
                    }
                }
                int last = n - 1;
                while (last >= 0 && buffer.get(last) != '\n') {
                    last--;
                }
                if (last >= 0) {
                    end = from + last + 1;
                    break;
                }
                end = from;
            }
            if (end < size) {
                in.truncate(end);
                in.force(true);
            }
        }
    }

    @Override
    public void record(AuditEvent event) {
        byte[] line = toLine(event);
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("audit log is closed");
            }
            pending.write(line, 0, line.length);
            long mine = ++appended;
            while (durable < mine) {
                if (failure != null) {
                    throw new IllegalStateException("audit log failed; no event can be made durable", failure);
                }
                if (flushing) {
                    flushed.awaitUninterruptibly();
                } else {
                    flush();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public java.util.Optional<String> failure() {
        lock.lock();
        try {
            if (failure != null) {
                return java.util.Optional.of("the audit log cannot be written (" + failure.getClass().getSimpleName() + ")");
            }
            return closed ? java.util.Optional.of("the audit log is closed") : java.util.Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held; releases it while writing. */
    private void flush() {
        flushing = true;
        byte[] batch = pending.toByteArray();
        pending.reset();
        long upTo = appended;
        lock.unlock();
        IOException error = null;
        try {
            ByteBuffer buf = ByteBuffer.wrap(batch);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
        } catch (IOException e) {
            error = e;
        } finally {
            lock.lock();
        }
        flushing = false;
        if (error == null) {
            durable = upTo;
        } else if (failure == null) {
            failure = error;
        }
        flushed.signalAll();
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
        if (!e.sensitiveData().isEmpty()) {
            var findings = n.putObject("additionalEventData").putArray("sensitiveDataFindings");
            for (SensitiveData.Finding f : e.sensitiveData()) {
                findings.addObject().put("field", f.field()).put("type", f.kind().name());
            }
        }
        n.put("requestID", e.requestId());
        n.put("eventID", e.eventId());
        n.put("readOnly", e.readOnly());
        if (!e.resources().isEmpty()) {
            var resources = n.putArray("resources");
            for (AuditEvent.Resource r : e.resources()) {
                ObjectNode o = resources.addObject();
                r.accountId().ifPresent(a -> o.put("accountId", a));
                o.put("type", r.type());
                o.put("ARN", r.arn());
            }
        }
        n.put("eventType", "AwsApiCall");
        n.put("managementEvent", e.managementEvent());
        n.put("recipientAccountId", e.recipientAccountId());
        n.put("eventCategory", e.managementEvent() ? "Management" : "Data");
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
        lock.lock();
        try {
            while (flushing) {
                flushed.awaitUninterruptibly();
            }
            if (pending.size() > 0 && failure == null) {
                flush();
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
