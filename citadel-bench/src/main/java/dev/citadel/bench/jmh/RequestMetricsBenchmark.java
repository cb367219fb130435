package dev.citadel.bench.jmh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.OperationRegistry;
import dev.citadel.pipeline.RequestLogContext;
import dev.citadel.pipeline.RequestMetrics;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.server.ops.OperatorMetrics;
import dev.citadel.wire.Protocol;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the operator's instrumentation adds to each request: recording it in the request meters
 * (a counter and a latency histogram, series existing) and the request's log context (the MDC
 * set at the start, filled as the request is routed and authenticated, restored at the end).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RequestMetricsBenchmark {
    private OperatorMetrics metrics;
    private RequestMetrics requests;
    private long nanos;

    @Setup
    public void setUp() {
        OperationRegistry registry = new OperationRegistry().service(new ServiceDefinition("sts", "sts", "sts", Protocol.AWS_QUERY, "",
                "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/", "sts.amazonaws.com", true));
        registry.register(Operation.of(OperationSpec.builder("sts", "GetCallerIdentity").noPermissionRequired()
                .resources(ResourceResolver.ALL).build(), (ctx, input) -> JsonNodeFactory.instance.objectNode()));
        registry.freeze();
        metrics = new OperatorMetrics(Path.of(System.getProperty("java.io.tmpdir")));
        requests = metrics.requests(registry);
        requests.requestCompleted("sts", "GetCallerIdentity", 200, "", 800_000);
    }

    @TearDown
    public void tearDown() {
        metrics.close();
    }

    /** One answered request recorded: look-up, counter, histogram. */
    @Benchmark
    public void recordRequest() {
        requests.requestCompleted("sts", "GetCallerIdentity", 200, "", nanos++ & 0xfffff);
    }

    /** One request's log context: opened with its id, service, account and operation set, closed. */
    @Benchmark
    public void requestLogContext() {
        try (RequestLogContext log = RequestLogContext.open("1B2M2Y8AsgTpgAmY7PhCfg")) {
            // The pipeline's own setters are package-private; these are the same three puts.
            org.slf4j.MDC.put(RequestLogContext.SERVICE, "sts");
            org.slf4j.MDC.put(RequestLogContext.ACCOUNT_ID, "123456789012");
            org.slf4j.MDC.put(RequestLogContext.OPERATION, "GetCallerIdentity");
        }
    }
}
