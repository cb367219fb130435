package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.iam.IamRole;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Data capture of endpoints, as SageMaker does it for Model Monitor: a sampled share
 * ({@code InitialSamplingPercentage}) of an endpoint's successful invocations is recorded, in
 * SageMaker's capture format, to the S3 location of its configuration's DataCaptureConfig.
 *
 * <h2>Records</h2>
 * One JSON object per line (JSON Lines), one line per captured invocation, members in this order:
 * <pre>{@code
 * {"captureData":{
 *    "endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"0.5,0.7\n","encoding":"CSV"},
 *    "endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT","data":"1.0\n","encoding":"CSV"}},
 *  "eventMetadata":{"eventId":"<random UUID>","inferenceId":"<the call's InferenceId>","inferenceTime":"2026-12-01T10:15:30Z"},
 *  "eventVersion":"0"}
 * }</pre>
 * {@code endpointInput} is there when CaptureOptions has Input (or InputAndOutput),
 * {@code endpointOutput} when it has Output; {@code inferenceId} only when the caller gave one;
 * {@code inferenceTime} is UTC to the second. {@code observedContentType} is the request's
 * Content-Type, or the answer's. {@code encoding} is CSV or JSON when the media type (without
 * parameters) is one of CaptureContentTypeHeader's CsvContentTypes or JsonContentTypes and the
 * bytes are UTF-8, {@code data} then being that text; otherwise BASE64 and the bytes in base64.
 *
 * <h2>Objects</h2>
 * Records are buffered per endpoint variant and written, every {@link Limits#flushInterval} and
 * whenever a buffer reaches {@link #OBJECT_BYTES}, as
 * {@code <DestinationS3Uri>/<EndpointName>/<VariantName>/yyyy/MM/dd/HH/mm-ss-SSS-<UUID>.jsonl}
 * (UTC, the time of the object's first record; an object never spans two hours). Each is written
 * by a {@link Writer}: in Citadel, PutObject through the request pipeline as a session of the
 * model's execution role, sealed under the DataCaptureConfig's KmsKeyId when one is given
 * ({@link #asExecutionRoles}); the bucket policy, the role's policies and the key policy decide.
 *
 * <h2>Bounds and failures</h2>
 * Buffered records and writes under way hold at most {@link Limits#maxBufferedBytes}; a record
 * that would pass it is dropped and counted, never waited for. A write that fails is counted and
 * logged with the endpoint, variant and object key and the error, never with captured data; the
 * invocation it came from has long been answered. Deleting an endpoint writes its buffers at once;
 * {@link #close} writes every buffer left.
 */
final class DataCapture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DataCapture.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A buffer that reaches this many bytes is written at once instead of at the next flush. */
    static final int OBJECT_BYTES = 4 << 20;
    static final String CONTENT_TYPE = "application/jsonl";
    private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("yyyy/MM/dd/HH").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("mm-ss-SSS").withZone(ZoneOffset.UTC);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    /** How often buffers are written, and how many bytes of captures may wait in memory. */
    record Limits(Duration flushInterval, long maxBufferedBytes) {
        Limits {
            requireNonNull(flushInterval, "flushInterval is null");
            if (flushInterval.isNegative() || flushInterval.isZero() || maxBufferedBytes <= 0) {
                throw new IllegalArgumentException("flushInterval and maxBufferedBytes must be positive");
            }
        }
    }

    /** Where one variant's captures go: its endpoint, the role they are written as, the configuration. */
    record Target(String account, String endpoint, String variant, String roleArn, CaptureConfig config) {
        Target {
            requireNonNull(account, "account is null");
            requireNonNull(endpoint, "endpoint is null");
            requireNonNull(variant, "variant is null");
            requireNonNull(roleArn, "roleArn is null");
            requireNonNull(config, "config is null");
        }
    }

    /** One answered invocation: what came in, what went out, the caller's InferenceId, when. */
    record Exchange(String inputType, byte[] input, String outputType, byte[] output, Optional<String> inferenceId, Instant at) {
        Exchange {
            requireNonNull(inputType, "inputType is null");
            requireNonNull(input, "input is null");
            requireNonNull(outputType, "outputType is null");
            requireNonNull(output, "output is null");
            requireNonNull(inferenceId, "inferenceId is null");
            requireNonNull(at, "at is null");
        }
    }

    /** Stores one object of captures. */
    @FunctionalInterface
    interface Writer {
        void write(Target target, String key, byte[] body) throws Exception;
    }

    /** Records captured (buffered), records dropped (over the bound or after close), objects written, objects whose write failed. */
    record Counts(long captured, long dropped, long objects, long failed) {
    }

    /** Records of one variant waiting to be written together. */
    private static final class Buffer {
        final Target target;
        final Instant first;
        final List<byte[]> lines = new ArrayList<>();
        long bytes;

        Buffer(Target target, Instant first) {
            this.target = target;
            this.first = first;
        }
    }

    private final Writer writer;
    private final Limits limits;
    private final RandomGenerator random;
    private final Object lock = new Object();
    private final Map<Target, Buffer> open = new LinkedHashMap<>();
    private final ArrayDeque<Buffer> full = new ArrayDeque<>();
    // guarded by lock: bytes in open and full buffers and in writes under way
    private long buffered;
    private long captured;
    private long dropped;
    private long objects;
    private long failed;
    private boolean closed;
    private Thread flusher;

    DataCapture(Writer writer, Limits limits, RandomGenerator random) {
        this.writer = requireNonNull(writer, "writer is null");
        this.limits = requireNonNull(limits, "limits is null");
        this.random = requireNonNull(random, "random is null");
    }

    /**
     * Captures written as SageMaker writes them: PutObject as a session of the variant's model's
     * execution role (assumed again for every object, so that a role deleted or no longer trusting
     * SageMaker stops the captures), sealed under the DataCaptureConfig's KmsKeyId when given.
     */
    static DataCapture asExecutionRoles(ExecutionRoles roles, JobData data, Limits limits) {
        return new DataCapture((target, key, body) -> {
            IamRole role = roles.assumable(target.roleArn()).orElseThrow(() -> new AwsException("AccessDenied", 403, "SageMaker can no "
                    + "longer assume the role " + target.roleArn() + "."));
            data.put(roles.session(role), target.config().bucket(), key, body, target.config().kmsKeyId(), CONTENT_TYPE);
        }, limits, new java.util.Random());
    }

    /** Starts writing buffers every flush interval. */
    void start() {
        flusher = Thread.ofPlatform().name("data-capture").daemon().start(this::flushPeriodically);
    }

    /** Whether this invocation is to be captured: capture enabled, and drawn within the sampling percentage. */
    boolean sampled(CaptureConfig config) {
        int pct = config.samplingPercentage();
        return config.enabled() && pct > 0 && (pct >= 100 || random.nextInt(100) < pct);
    }

    /** Captures an answered invocation of {@code target}'s variant when it is sampled; never fails the invocation. */
    void offer(Target target, Exchange exchange) {
        if (!sampled(target.config())) {
            return;
        }
        add(target, line(target.config(), exchange, UUID.randomUUID()), exchange.at());
    }

    private void add(Target target, byte[] line, Instant at) {
        long drops = 0;
        synchronized (lock) {
            if (closed || buffered + line.length > limits.maxBufferedBytes()) {
                drops = ++dropped;
            } else {
                Buffer b = open.get(target);
                if (b != null && !HOUR.format(b.first).equals(HOUR.format(at))) {
                    full.add(open.remove(target));
                    b = null;
                }
                if (b == null) {
                    b = new Buffer(target, at);
                    open.put(target, b);
                }
                b.lines.add(line);
                b.bytes += line.length;
                buffered += line.length;
                captured++;
                if (b.bytes >= OBJECT_BYTES) {
                    full.add(open.remove(target));
                }
                if (!full.isEmpty()) {
                    lock.notifyAll();
                }
            }
        }
        if (drops == 1 || drops % 1000 == 0 && drops > 0) {
            LOG.warn("data capture: {} captures dropped so far (endpoint {} of account {} the latest): more than {} bytes of captures "
                    + "wait to be written", drops, target.endpoint(), target.account(), limits.maxBufferedBytes());
        }
    }

    /** Writes now whatever is buffered for an endpoint (it is being deleted). */
    void flush(String account, String endpoint) {
        List<Buffer> due;
        synchronized (lock) {
            due = take(t -> t.account().equals(account) && t.endpoint().equals(endpoint), true);
        }
        write(due);
    }

    /** What has been captured, dropped and written so far. */
    Counts counts() {
        synchronized (lock) {
            return new Counts(captured, dropped, objects, failed);
        }
    }

    private void flushPeriodically() {
        long next = System.nanoTime() + limits.flushInterval().toNanos();
        while (true) {
            List<Buffer> due;
            synchronized (lock) {
                long left;
                while (!closed && full.isEmpty() && (left = next - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(lock, left);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                boolean periodic = System.nanoTime() - next >= 0;
                due = take(t -> true, periodic);
                if (periodic) {
                    next = System.nanoTime() + limits.flushInterval().toNanos();
                }
            }
            write(due);
        }
    }

    /** Removes and returns the full buffers of matching targets and, when {@code alsoOpen}, their open ones. Holds the lock. */
    private List<Buffer> take(Predicate<Target> which, boolean alsoOpen) {
        List<Buffer> out = new ArrayList<>();
        for (Iterator<Buffer> it = full.iterator(); it.hasNext(); ) {
            Buffer b = it.next();
            if (which.test(b.target)) {
                out.add(b);
                it.remove();
            }
        }
        if (alsoOpen) {
            for (Iterator<Buffer> it = open.values().iterator(); it.hasNext(); ) {
                Buffer b = it.next();
                if (which.test(b.target)) {
                    out.add(b);
                    it.remove();
                }
            }
        }
        return out;
    }

    private void write(List<Buffer> due) {
        for (Buffer b : due) {
            String key = key(b.target, b.first, UUID.randomUUID());
            boolean written = false;
            try {
                byte[] body = new byte[Math.toIntExact(b.bytes)];
                int at = 0;
                for (byte[] line : b.lines) {
                    System.arraycopy(line, 0, body, at, line.length);
                    at += line.length;
                }
                writer.write(b.target, key, body);
                written = true;
            } catch (AwsException e) {
                LOG.warn("data capture of endpoint {} (variant {}) of account {}: {} records not written to s3://{}/{}: {}: {}",
                        b.target.endpoint(), b.target.variant(), b.target.account(), b.lines.size(), b.target.config().bucket(), key,
                        e.code(), e.getMessage());
            } catch (Exception e) {
                LOG.error("data capture of endpoint {} (variant {}) of account {}: {} records not written to s3://{}/{}",
                        b.target.endpoint(), b.target.variant(), b.target.account(), b.lines.size(), b.target.config().bucket(), key, e);
            } finally {
                synchronized (lock) {
                    buffered -= b.bytes;
                    if (written) {
                        objects++;
                    } else {
                        failed++;
                    }
                }
            }
        }
    }

    /** One capture record, a line of JSON ending in a line feed (the format is in the class comment). */
    static byte[] line(CaptureConfig config, Exchange exchange, UUID eventId) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode data = root.putObject("captureData");
        if (config.input()) {
            side(data.putObject("endpointInput"), config, exchange.inputType(), exchange.input(), "INPUT");
        }
        if (config.output()) {
            side(data.putObject("endpointOutput"), config, exchange.outputType(), exchange.output(), "OUTPUT");
        }
        ObjectNode meta = root.putObject("eventMetadata");
        meta.put("eventId", eventId.toString());
        exchange.inferenceId().ifPresent(id -> meta.put("inferenceId", id));
        meta.put("inferenceTime", DateTimeFormatter.ISO_INSTANT.format(exchange.at().truncatedTo(ChronoUnit.SECONDS)));
        root.put("eventVersion", "0");
        try {
            byte[] json = JSON.writeValueAsBytes(root);
            byte[] out = java.util.Arrays.copyOf(json, json.length + 1);
            out[json.length] = '\n';
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a capture record cannot be written as JSON", e);
        }
    }

    private static void side(ObjectNode out, CaptureConfig config, String contentType, byte[] bytes, String mode) {
        String media = CaptureConfig.mediaType(contentType);
        String encoding = config.csvTypes().contains(media) ? "CSV" : config.jsonTypes().contains(media) ? "JSON" : "BASE64";
        String text = null;
        if (!encoding.equals("BASE64")) {
            text = utf8(bytes).orElse(null);
            if (text == null) {
                encoding = "BASE64";
            }
        }
        out.put("observedContentType", contentType);
        out.put("mode", mode);
        out.put("data", text != null ? text : Base64.getEncoder().encodeToString(bytes));
        out.put("encoding", encoding);
    }

    private static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** The key of an object of captures whose first record is from {@code first} (the layout is in the class comment). */
    static String key(Target target, Instant first, UUID id) {
        String prefix = target.config().prefix();
        return (prefix.isEmpty() ? "" : prefix + "/") + target.endpoint() + "/" + target.variant() + "/" + HOUR.format(first) + "/"
                + NAME.format(first) + "-" + id + ".jsonl";
    }

    /** Stops the periodic writes and writes every buffer left; later captures are dropped. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
        }
        if (flusher != null) {
            try {
                // a write under way is let finish, so that its buffer is not lost
                if (!flusher.join(CLOSE_WAIT)) {
                    LOG.warn("data capture: a write still runs after {} s; writing the rest beside it", CLOSE_WAIT.toSeconds());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Buffer> due;
        synchronized (lock) {
            due = take(t -> true, true);
        }
        write(due);
        Counts c = counts();
        if (c.dropped() > 0 || c.failed() > 0) {
            LOG.warn("data capture: {} records captured, {} dropped, {} objects written, {} writes failed", c.captured(), c.dropped(),
                    c.objects(), c.failed());
        }
    }
}
