package dev.citadel.server.ops;

import dev.citadel.pipeline.OperationRegistry;
import dev.citadel.pipeline.RequestMetrics;
import dev.citadel.pipeline.audit.SensitiveData;
import dev.citadel.services.cloudtrail.TrailDelivery;
import dev.citadel.services.sagemaker.SageMakerJobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.DiskSpaceMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every metric Citadel exports, in one Prometheus registry that the operator listener scrapes
 * (docs/OPERATIONS.md lists them): the pipeline's request and audit meters ({@link
 * RequestMeters}), CloudTrail delivery's lag and backlog, what the sandbox runs, the sensitive-data
 * findings, and the JVM and process. Values that live elsewhere are read by callbacks when the
 * registry is scraped, never pushed on a hot path. No metric carries an account id, a resource
 * name or anything a request contained: labels are service and operation names, error codes,
 * kinds and statuses.
 */
public final class OperatorMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OperatorMetrics.class);
    /** CloudTrail delivery lag buckets: delivery runs every audit.delivery-interval (5 minutes by default). */
    static final Duration[] DELIVERY_BUCKETS = {Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15),
            Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10),
            Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    /** Binds the JVM and process metrics, and the free space of the file system holding {@code dataDir}. */
    public OperatorMetrics(Path dataDir) {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new DiskSpaceMetrics(dataDir.toFile()).bindTo(registry);
    }

    /** The registry, for tests and for binding more meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition (format 0.0.4) of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    /** The pipeline's request meters over the operations of {@code operations}, which must be frozen. */
    public RequestMetrics requests(OperationRegistry operations) {
        return new RequestMeters(registry, operations);
    }

    /** What CloudTrail delivery reports: the lag of each delivered log file and failed deliveries. */
    public TrailDelivery.Observer delivery() {
        Timer lag = Timer.builder("citadel.audit.delivery.lag")
                .description("Age of the oldest event of each CloudTrail log file when it was delivered to its trail's bucket")
                .serviceLevelObjectives(DELIVERY_BUCKETS)
                .register(registry);
        Counter failures = Counter.builder("citadel.audit.delivery.failures")
                .description("CloudTrail deliveries that failed and wait for the next interval")
                .register(registry);
        return new TrailDelivery.Observer() {
            @Override
            public void delivered(Duration age) {
                lag.record(age.isNegative() ? Duration.ZERO : age);
            }

            @Override
            public void failed() {
                failures.increment();
            }
        };
    }

    /** How far the trail furthest behind is from the end of the audit log, in bytes, read at each scrape. */
    public void auditBacklog(LongSupplier undeliveredBytes) {
        Gauge.builder("citadel.audit.undelivered", () -> read(undeliveredBytes::getAsLong))
                .description("Bytes of the audit log the CloudTrail trail furthest behind has not delivered yet")
                .baseUnit("bytes")
                .register(registry);
    }

    /** The sensitive-data detectors' findings since start, by kind. */
    public void sensitiveData(Supplier<Map<SensitiveData.Kind, Long>> findings) {
        for (SensitiveData.Kind kind : SensitiveData.Kind.values()) {
            FunctionCounter.builder("citadel.audit.sensitive.data.findings", findings,
                            f -> f.get().getOrDefault(kind, 0L).doubleValue())
                    .description("Free-form request fields that looked like sensitive data (audit.sensitive-data), by kind")
                    .tag("kind", kind.name().toLowerCase(Locale.ROOT))
                    .register(registry);
        }
    }

    /**
     * What the sandbox runs: jobs running and queued by kind, endpoints in service and their
     * containers, and whether containers can run at all. One snapshot of the counts serves a whole
     * scrape (it reads the active jobs once).
     */
    public void sandbox(Supplier<SageMakerJobs.Usage> usage, Supplier<Optional<String>> unavailable) {
        Snapshot<SageMakerJobs.Usage> snapshot = new Snapshot<>(usage);
        for (dev.citadel.metadata.sagemaker.JobRepository.Kind kind : dev.citadel.metadata.sagemaker.JobRepository.Kind.values()) {
            String tag = kind.name().toLowerCase(Locale.ROOT);
            Gauge.builder("citadel.jobs.running", () -> read(() -> snapshot.get().runningJobs().getOrDefault(kind, 0)))
                    .description("Jobs running now (moving data or in their container), by kind")
                    .tag("kind", tag)
                    .register(registry);
            Gauge.builder("citadel.jobs.queued", () -> read(() -> snapshot.get().queuedJobs().getOrDefault(kind, 0)))
                    .description("Jobs waiting for capacity (jobs.capacity), by kind")
                    .tag("kind", tag)
                    .register(registry);
        }
        Gauge.builder("citadel.endpoints.in.service", () -> read(() -> snapshot.get().endpointsInService()))
                .description("Endpoints serving now")
                .register(registry);
        Gauge.builder("citadel.endpoints.containers", () -> read(() -> snapshot.get().servingContainers()))
                .description("Serving containers of the endpoints serving now")
                .register(registry);
        Gauge.builder("citadel.sandbox.available", () -> unavailable.get().isPresent() ? 0 : 1)
                .description("1 when job and serving containers can run here, 0 when the sandbox is unavailable (the log says why)")
                .register(registry);
    }

    /** A value read at scrape time; NaN when it cannot be read (the store down, say): the readiness check reports why. */
    private static double read(Supplier<Number> value) {
        try {
            return value.get().doubleValue();
        } catch (RuntimeException e) {
            LOG.debug("a metric could not be read", e);
            return Double.NaN;
        }
    }

    /** A value computed at most once a second, so that the gauges of one scrape share one read. */
    private static final class Snapshot<T> {
        private static final long MAX_AGE_NANOS = 1_000_000_000L;
        private final Supplier<T> source;
        private T value;
        private long takenAt;

        Snapshot(Supplier<T> source) {
            this.source = source;
        }

        synchronized T get() {
            long now = System.nanoTime();
            if (value == null || now - takenAt > MAX_AGE_NANOS) {
                value = source.get();
                takenAt = now;
            }
            return value;
        }
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
