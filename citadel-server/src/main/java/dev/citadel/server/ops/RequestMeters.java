package dev.citadel.server.ops;

import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.OperationRegistry;
import dev.citadel.pipeline.RequestMetrics;
import dev.citadel.pipeline.spec.ServiceDefinition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The request metrics of the pipeline, in Micrometer: per service and operation a counter
 * {@code citadel.requests} by HTTP status and AWS error code, and a latency histogram
 * {@code citadel.request.duration} by outcome; and the histogram {@code citadel.audit.durable}.
 *
 * <p>Cardinality is bounded by construction: the services and operations are those registered
 * (the table is built once, after the registry is frozen); a request that named no registered
 * operation counts as operation {@code unknown}; error codes are Citadel's own, and each
 * operation keeps at most {@value #MAX_CODES} (status, code) series, the rest counted as
 * {@code other}. The hot path looks the operation up in two maps keyed by the strings the
 * pipeline already holds, then walks a short list of the (status, code) counters seen so far: no
 * allocation once a series exists.
 */
final class RequestMeters implements RequestMetrics {
    static final String REQUESTS = "citadel.requests";
    static final String DURATION = "citadel.request.duration";
    static final String AUDIT_DURABLE = "citadel.audit.durable";
    static final String UNKNOWN = "unknown";
    static final int MAX_CODES = 32;
    private static final Pattern CODE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    /** Request latency buckets: from half a millisecond (a cached GetCallerIdentity) to a minute (an invocation's limit). */
    static final Duration[] REQUEST_BUCKETS = millis(0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000);
    /** Audit durability buckets: one group-committed fdatasync is typically a fraction of a millisecond to a few. */
    static final Duration[] AUDIT_BUCKETS = millis(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1_000);

    private final MeterRegistry registry;
    private final Map<String, Map<String, OperationMeters>> byService;
    private final OperationMeters unknownService;
    private final Timer auditDurable;

    RequestMeters(MeterRegistry registry, OperationRegistry operations) {
        this.registry = registry;
        Map<String, Map<String, OperationMeters>> services = new HashMap<>();
        for (ServiceDefinition s : operations.services()) {
            Map<String, OperationMeters> ops = new HashMap<>();
            ops.put("", new OperationMeters(s.id(), UNKNOWN));
            services.put(s.id(), ops);
        }
        for (Operation op : operations.operations()) {
            services.get(op.spec().service()).put(op.spec().name(), new OperationMeters(op.spec().service(), op.spec().name()));
        }
        services.replaceAll((k, v) -> Map.copyOf(v));
        this.byService = Map.copyOf(services);
        this.unknownService = new OperationMeters(UNKNOWN, UNKNOWN);
        this.auditDurable = Timer.builder(AUDIT_DURABLE)
                .description("Time from a request's end until its audit event was durable (group commit and fdatasync)")
                .serviceLevelObjectives(AUDIT_BUCKETS)
                .register(registry);
    }

    @Override
    public void requestCompleted(String serviceId, String operation, int status, String errorCode, long nanos) {
        Map<String, OperationMeters> ops = byService.get(serviceId);
        OperationMeters m = ops == null ? unknownService : ops.get(operation);
        if (m == null) {
            m = ops.get("");
        }
        m.record(status, errorCode, nanos);
    }

    @Override
    public void auditRecorded(long nanos) {
        auditDurable.record(nanos, TimeUnit.NANOSECONDS);
    }

    private static Duration[] millis(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofNanos((long) (values[i] * 1_000_000));
        }
        return out;
    }

    /** The meters of one operation, made on first use. */
    private final class OperationMeters {
        private final String service;
        private final String operation;
        private final java.util.concurrent.atomic.AtomicReferenceArray<Timer> timers = new java.util.concurrent.atomic.AtomicReferenceArray<>(3);
        private volatile Series head;
        private int series;
        private Counter overflow;

        OperationMeters(String service, String operation) {
            this.service = service;
            this.operation = operation;
        }

        void record(int status, String code, long nanos) {
            counter(status, code).increment();
            int outcome = status >= 500 ? 2 : status >= 400 ? 1 : 0;
            Timer timer = timers.get(outcome);
            if (timer == null) {
                timer = timer(outcome);
            }
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }

        private Counter counter(int status, String code) {
            for (Series s = head; s != null; s = s.next) {
                if (s.status == status && s.code.equals(code)) {
                    return s.counter;
                }
            }
            return newCounter(status, code);
        }

        private synchronized Counter newCounter(int status, String code) {
            for (Series s = head; s != null; s = s.next) {
                if (s.status == status && s.code.equals(code)) {
                    return s.counter;
                }
            }
            if (series >= MAX_CODES) {
                if (overflow == null) {
                    overflow = counter("other", "other");
                }
                return overflow;
            }
            String label = code.isEmpty() ? "none" : CODE.matcher(code).matches() ? code : "other";
            Counter c = counter(Integer.toString(status), label);
            head = new Series(status, code, c, head);
            series++;
            return c;
        }

        private Counter counter(String status, String code) {
            return Counter.builder(REQUESTS)
                    .description("API requests answered, by service, operation, HTTP status and AWS error code (none when it succeeded)")
                    .tag("service", service).tag("operation", operation).tag("status", status).tag("code", code)
                    .register(registry);
        }

        private synchronized Timer timer(int outcome) {
            if (timers.get(outcome) == null) {
                timers.set(outcome, Timer.builder(DURATION)
                        .description("Time from a request's arrival until its answer was ready (audit included), by service, operation "
                                + "and outcome")
                        .tag("service", service).tag("operation", operation)
                        .tag("outcome", switch (outcome) {
                            case 0 -> "success";
                            case 1 -> "client_error";
                            default -> "server_error";
                        })
                        .serviceLevelObjectives(REQUEST_BUCKETS)
                        .register(registry));
            }
            return timers.get(outcome);
        }
    }

    /** One (status, code) series of an operation; a list, newest first, since an operation sees few. */
    private record Series(int status, String code, Counter counter, Series next) {
    }
}
