package dev.citadel.bench.jmh;

import dev.citadel.policy.Decision;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.policy.RequestFacts;
import java.util.ArrayList;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * IAM decisions per second on one thread (DESIGN.md §11: ≥ 500 k/s) for a 20-statement policy set
 * with conditions: three identity policies, a permission boundary, wildcards, a policy variable,
 * and String/Ip/Date/Bool/ForAnyValue conditions. The decided request is allowed only after every
 * statement was considered (no early explicit deny).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class PolicyDecisionBenchmark {
    private PolicyEvaluator.Input allowed;
    private PolicyEvaluator.Input denied;

    private static Policy identity(List<String> statements) {
        return PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[" + String.join(",", statements) + "]}",
                PolicyParser.Kind.IDENTITY);
    }

    @Setup
    public void setUp() {
        List<String> s = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            s.add("{\"Sid\":\"S" + i + "\",\"Effect\":\"" + (i % 5 == 4 ? "Deny" : "Allow") + "\",\"Action\":[\"sagemaker:Describe" + i + "*\",\"s3:Get"
                    + i + "*\"],\"Resource\":\"arn:aws:s3:::bucket-" + i + "/${aws:username}/*\",\"Condition\":{\"StringEquals\":"
                    + "{\"aws:RequestedRegion\":[\"us-east-1\",\"eu-west-1\"]},\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}");
        }
        s.add("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/${aws:username}/*\",\"Condition\":{"
                + "\"Bool\":{\"aws:SecureTransport\":\"true\"},\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"},"
                + "\"ForAnyValue:StringLike\":{\"aws:PrincipalTag/team\":[\"ml-*\"]}}}");
        s.add("{\"Effect\":\"Deny\",\"NotAction\":[\"s3:*\",\"sagemaker:*\"],\"Resource\":\"*\"}");
        s.add("{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteBucket\",\"Resource\":\"*\"}");
        s.add("{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::data\"}");
        List<PolicyEvaluator.Source> policies = List.of(
                new PolicyEvaluator.Source("p1", identity(s.subList(0, 7))),
                new PolicyEvaluator.Source("p2", identity(s.subList(7, 14))),
                new PolicyEvaluator.Source("p3", identity(s.subList(14, 20))));
        PolicyEvaluator.Source boundary = new PolicyEvaluator.Source("boundary", identity(List.of(
                "{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"sagemaker:*\"],\"Resource\":\"*\"}")));
        Map<String, List<String>> ctx = Map.of("aws:username", List.of("alice"), "aws:SourceIp", List.of("10.1.2.3"),
                "aws:RequestedRegion", List.of("us-east-1"), "aws:SecureTransport", List.of("true"),
                "aws:CurrentTime", List.of("2026-11-22T10:00:00Z"), "aws:PrincipalTag/team", List.of("ml-research"));
        RequestFacts yes = new RequestFacts("s3:GetObject", "arn:aws:s3:::data/alice/train.csv", "arn:aws:iam::111111111111:user/alice",
                "111111111111", "", ctx);
        RequestFacts no = new RequestFacts("s3:PutObject", "arn:aws:s3:::data/alice/train.csv", "arn:aws:iam::111111111111:user/alice",
                "111111111111", "", ctx);
        allowed = new PolicyEvaluator.Input(yes, policies, Optional.empty(), "", Optional.of(boundary), List.of(), List.of());
        denied = new PolicyEvaluator.Input(no, policies, Optional.empty(), "", Optional.of(boundary), List.of(), List.of());
        if (!PolicyEvaluator.evaluate(allowed).allowed() || PolicyEvaluator.evaluate(denied).allowed()) {
            throw new IllegalStateException("benchmark policies do not decide as intended");
        }
    }

    @Benchmark
    public Decision allowedRequest() {
        return PolicyEvaluator.evaluate(allowed);
    }

    @Benchmark
    public Decision implicitlyDeniedRequest() {
        return PolicyEvaluator.evaluate(denied);
    }
}
