package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code aws iam simulate-custom-policy} (CLI v2) answers from the same evaluator that enforces requests. */
class PolicySimulatorTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ClientEnvironment.Result aws(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(AwsCliAcceptanceTest.AWS_CLI_V2.toString()));
        cmd.addAll(List.of(args));
        return ClientEnvironment.run(server.clientFiles(), cmd);
    }

    @Test
    void simulatorGivesAllowedExplicitAndImplicitDeny() {
        ClientEnvironment.Result r = aws("iam", "simulate-custom-policy", "--policy-input-list",
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":\"arn:aws:s3:::data/*\"},"
                + "{\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/secret/*\"}]}",
                "--action-names", "s3:GetObject", "s3:PutObject", "--resource-arns", "arn:aws:s3:::data/x", "arn:aws:s3:::data/secret/y",
                "--query", "EvaluationResults[].[EvalActionName,EvalResourceName,EvalDecision]", "--output", "text");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().lines().toList()).containsExactly(
                "s3:GetObject\tarn:aws:s3:::data/x\tallowed",
                "s3:GetObject\tarn:aws:s3:::data/secret/y\texplicitDeny",
                "s3:PutObject\tarn:aws:s3:::data/x\timplicitDeny",
                "s3:PutObject\tarn:aws:s3:::data/secret/y\timplicitDeny");
    }

    @Test
    void contextEntriesFeedConditions() {
        ClientEnvironment.Result r = aws("iam", "simulate-custom-policy", "--policy-input-list",
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
                + "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}",
                "--action-names", "kms:Decrypt", "--context-entries",
                "ContextKeyName=aws:SourceIp,ContextKeyValues=10.1.2.3,ContextKeyType=ip",
                "--query", "EvaluationResults[0].EvalDecision", "--output", "text");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("allowed");
    }

    @Test
    void malformedPolicyGetsIamsMessage() {
        ClientEnvironment.Result r = aws("iam", "simulate-custom-policy", "--policy-input-list",
                "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"GetObject\",\"Resource\":\"*\"}}",
                "--action-names", "s3:GetObject");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("MalformedPolicyDocument").contains("Actions/Conditions must be prefaced by a vendor");
    }
}
