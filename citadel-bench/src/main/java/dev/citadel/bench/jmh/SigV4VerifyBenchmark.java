package dev.citadel.bench.jmh;

import dev.citadel.auth.HttpRequestView;
import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Authorization;
import dev.citadel.auth.SigV4Parser;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.auth.SigV4Verifier;
import dev.citadel.core.SecretBytes;
import dev.citadel.wire.AwsQuery;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
import org.openjdk.jmh.annotations.Warmup;

/** The authentication hot path of one STS call: parse the signature, verify it, decode the awsQuery body. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SigV4VerifyBenchmark {
    private static final String BODY = "Action=GetCallerIdentity&Version=2011-06-15";
    private final SecretBytes secret = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private HttpRequestView request;
    private SigV4Verifier verifier;
    private byte[] body;

    @Setup
    public void setUp() {
        Instant now = Instant.parse("2026-11-22T10:00:00Z");
        body = BODY.getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "localhost:8443");
        headers.put("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        Map<String, String> signed = new SigV4Signer("AKIAIOSFODNN7EXAMPLE", secret, "us-east-1", "sts")
                .signHeaders("POST", "/", "", headers, SigV4.sha256Hex(body), now);
        Map<String, List<String>> lower = new LinkedHashMap<>();
        signed.forEach((k, v) -> lower.put(k.toLowerCase(java.util.Locale.ROOT), List.of(v)));
        request = new HttpRequestView("POST", "/", "", lower);
        verifier = new SigV4Verifier(Clock.fixed(now, ZoneOffset.UTC), Duration.ofMinutes(15));
    }

    @Benchmark
    public Object parseAndVerify() {
        SigV4Authorization auth = SigV4Parser.parse(request);
        return verifier.verify(request, auth, secret, Optional.empty(), SigV4.sha256Hex(body), false);
    }

    @Benchmark
    public Object decodeQueryBody() {
        return AwsQuery.decode(BODY);
    }
}
