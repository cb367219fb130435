package dev.citadel.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** IAM's evaluation rules, one per test. */
class EvaluationTest {
    static final String ACCOUNT = "111111111111";
    static final String USER = "arn:aws:iam::111111111111:user/alice";

    static Policy identity(String statements) {
        return PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}", PolicyParser.Kind.IDENTITY);
    }

    static Policy resource(String statements) {
        return PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}", PolicyParser.Kind.RESOURCE);
    }

    static RequestFacts facts(String action, String resource, Map<String, List<String>> context) {
        return new RequestFacts(action, resource, USER, ACCOUNT, "", context);
    }

    static Decision decide(RequestFacts f, List<Policy> identity) {
        return PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, identity.stream().map(p -> new PolicyEvaluator.Source("p", p)).toList(),
                Optional.empty(), "", Optional.empty(), List.of(), List.of()));
    }

    static final String ALLOW_S3 = "{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}";

    /** A service principal (Citadel's own deliveries) matches statements naming that service, and nothing naming an account or user. */
    @Test
    void servicePrincipalsMatchOnlyTheirService() {
        Policy bucket = PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                + "\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::logs/AWSLogs/*\"},{\"Effect\":\"Allow\","
                + "\"Principal\":{\"AWS\":\"arn:aws:iam::" + ACCOUNT + ":root\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}",
                PolicyParser.Kind.RESOURCE);
        PolicyEvaluator.Source source = new PolicyEvaluator.Source("bucket policy", bucket);
        assertThat(PolicyEvaluator.evaluateAlone(source, RequestFacts.ofService("cloudtrail.amazonaws.com", "s3:PutObject",
                "arn:aws:s3:::logs/AWSLogs/1/x", Map.of())).allowed()).isTrue();
        assertThat(PolicyEvaluator.evaluateAlone(source, RequestFacts.ofService("config.amazonaws.com", "s3:PutObject",
                "arn:aws:s3:::logs/AWSLogs/1/x", Map.of())).allowed()).isFalse();
        assertThat(PolicyEvaluator.evaluateAlone(source, RequestFacts.ofService("cloudtrail.amazonaws.com", "s3:GetObject",
                "arn:aws:s3:::logs/k", Map.of())).allowed()).as("the account's statement is not the service's").isFalse();
        assertThat(PolicyEvaluator.evaluateAlone(source, facts("s3:PutObject", "arn:aws:s3:::logs/AWSLogs/1/x", Map.of())).allowed())
                .as("a user is not the service").isFalse();
    }

    @Test
    void nothingAttachedIsImplicitDeny() {
        Decision d = decide(facts("s3:GetObject", "arn:aws:s3:::b/k", Map.of()), List.of());
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.IMPLICIT_DENY);
        assertThat(d.reason()).isEqualTo("because no identity-based policy allows the s3:GetObject action");
    }

    @Test
    void actionsMatchWithoutRegardToCaseAndResourcesWithIt() {
        Policy p = identity("{\"Effect\":\"Allow\",\"Action\":\"S3:getobj*\",\"Resource\":\"arn:aws:s3:::Bucket/*\"}");
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::Bucket/k", Map.of()), List.of(p)).allowed()).isTrue();
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::bucket/k", Map.of()), List.of(p)).allowed()).isFalse();
    }

    @Test
    void explicitDenyWinsOverAnyAllow() {
        Policy allow = identity(ALLOW_S3);
        Policy deny = identity("{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}");
        Decision d = decide(facts("s3:DeleteObject", "arn:aws:s3:::b/k", Map.of()), List.of(allow, deny));
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.EXPLICIT_DENY);
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::b/k", Map.of()), List.of(allow, deny)).allowed()).isTrue();
    }

    @Test
    void notActionAndNotResourceAreComplements() {
        Policy p = identity("{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"NotResource\":\"arn:aws:s3:::secret/*\"}");
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::b/k", Map.of()), List.of(p)).allowed()).isTrue();
        assertThat(decide(facts("iam:CreateUser", "*", Map.of()), List.of(p)).allowed()).isFalse();
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::secret/k", Map.of()), List.of(p)).allowed()).isFalse();
    }

    @Test
    void policyVariablesResolveFromTheContext() {
        Policy p = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::home/${aws:username}/*\"}");
        Map<String, List<String>> ctx = Map.of("aws:username", List.of("alice"));
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::home/alice/x", ctx), List.of(p)).allowed()).isTrue();
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::home/bob/x", ctx), List.of(p)).allowed()).isFalse();
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::home/alice/x", Map.of()), List.of(p)).allowed()).isFalse();
    }

    @Test
    void specialVariablesAreLiterals() {
        Policy p = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/${*}${?}${$}\"}");
        assertThat(decide(facts("s3:GetObject", "arn:aws:s3:::b/*?$", Map.of()), List.of(p)).allowed()).isTrue();
    }

    @Test
    void missingKeyFailsPositiveAndPassesNegatedOperators() {
        Policy positive = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":\"ml\"}}}");
        Policy negated = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalTag/team\":\"ml\"}}}");
        Policy ifExists = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualsIfExists\":{\"aws:PrincipalTag/team\":\"ml\"}}}");
        RequestFacts none = facts("s3:GetObject", "*", Map.of());
        assertThat(decide(none, List.of(positive)).allowed()).isFalse();
        assertThat(decide(none, List.of(negated)).allowed()).isTrue();
        assertThat(decide(none, List.of(ifExists)).allowed()).isTrue();
        RequestFacts ml = facts("s3:GetObject", "*", Map.of("AWS:PrincipalTag/team", List.of("ml")));
        assertThat(decide(ml, List.of(positive)).allowed()).isTrue();
        assertThat(decide(ml, List.of(negated)).allowed()).isFalse();
    }

    @Test
    void setOperatorsFollowTheDocumentedEmptySetRules() {
        Policy any = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}}");
        Policy all = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}}");
        RequestFacts none = facts("s3:PutObject", "*", Map.of());
        RequestFacts ab = facts("s3:PutObject", "*", Map.of("aws:TagKeys", List.of("a", "b")));
        RequestFacts ac = facts("s3:PutObject", "*", Map.of("aws:TagKeys", List.of("a", "c")));
        assertThat(decide(none, List.of(any)).allowed()).isFalse();
        assertThat(decide(none, List.of(all)).allowed()).isTrue();
        assertThat(decide(ab, List.of(all)).allowed()).isTrue();
        assertThat(decide(ac, List.of(all)).allowed()).isFalse();
        assertThat(decide(ac, List.of(any)).allowed()).isTrue();
    }

    @Test
    void nullTestsPresence() {
        Policy absent = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"Null\":{\"aws:TokenIssueTime\":\"true\"}}}");
        assertThat(decide(facts("s3:GetObject", "*", Map.of()), List.of(absent)).allowed()).isTrue();
        assertThat(decide(facts("s3:GetObject", "*", Map.of("aws:TokenIssueTime", List.of("2026-01-01T00:00:00Z"))), List.of(absent)).allowed()).isFalse();
    }

    @Test
    void numericDateBoolIpAndArnOperators() {
        Map<String, List<String>> ctx = Map.of("aws:MultiFactorAuthAge", List.of("300"), "aws:CurrentTime", List.of("2026-11-22T10:00:00Z"),
                "aws:SecureTransport", List.of("true"), "aws:SourceIp", List.of("10.1.2.3"), "aws:PrincipalArn", List.of(USER));
        String cond = "{\"NumericLessThan\":{\"aws:MultiFactorAuthAge\":\"3600\"},\"DateGreaterThan\":{\"aws:CurrentTime\":\"2026-01-01T00:00:00Z\"},"
                + "\"Bool\":{\"aws:SecureTransport\":\"TRUE\"},\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\"]},"
                + "\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:user/*\"}}";
        Policy p = identity("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":" + cond + "}");
        assertThat(decide(facts("s3:GetObject", "*", ctx), List.of(p)).allowed()).isTrue();
        Map<String, List<String>> outside = new java.util.HashMap<>(ctx);
        outside.put("aws:SourceIp", List.of("192.168.1.1"));
        assertThat(decide(facts("s3:GetObject", "*", outside), List.of(p)).allowed()).isFalse();
    }

    @Test
    void crossAccountNeedsBothSides() {
        Policy allow = identity(ALLOW_S3);
        Policy bucket = resource("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111111111111\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}");
        RequestFacts f = facts("s3:GetObject", "arn:aws:s3:::b/k", Map.of());
        PolicyEvaluator.Source id = new PolicyEvaluator.Source("identity", allow);
        PolicyEvaluator.Source res = new PolicyEvaluator.Source("bucket policy", bucket);
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(id), Optional.of(res), "222222222222", Optional.empty(),
                List.of(), List.of())).allowed()).isTrue();
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(id), Optional.empty(), "222222222222", Optional.empty(),
                List.of(), List.of())).allowed()).isFalse();
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(), Optional.of(res), "222222222222", Optional.empty(),
                List.of(), List.of())).allowed()).isFalse();
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(), Optional.of(res), ACCOUNT, Optional.empty(),
                List.of(), List.of())).allowed()).as("same account: naming the account delegates to identity policies").isFalse();
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(id), Optional.of(res), ACCOUNT, Optional.empty(),
                List.of(), List.of())).allowed()).isTrue();
        PolicyEvaluator.Source direct = new PolicyEvaluator.Source("bucket policy", resource(
                "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + USER + "\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}"));
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(), Optional.of(direct), ACCOUNT, Optional.empty(),
                List.of(), List.of())).allowed()).as("same account: a policy naming the user suffices").isTrue();
    }

    @Test
    void boundarySessionPoliciesAndScpsNarrow() {
        RequestFacts f = facts("s3:DeleteObject", "arn:aws:s3:::b/k", Map.of());
        PolicyEvaluator.Source admin = new PolicyEvaluator.Source("admin", identity("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"));
        PolicyEvaluator.Source readOnly = new PolicyEvaluator.Source("ro", identity("{\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":\"*\"}"));
        Decision boundary = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.of(readOnly),
                List.of(), List.of()));
        assertThat(boundary.reason()).isEqualTo("because no permissions boundary allows the s3:DeleteObject action");
        Decision session = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.empty(),
                List.of(readOnly), List.of()));
        assertThat(session.allowed()).isFalse();
        Decision scp = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.empty(),
                List.of(), List.of(List.of(readOnly))));
        assertThat(scp.reason()).contains("no service control policy allows");
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.empty(),
                List.of(), List.of(List.of(admin)))).allowed()).isTrue();
    }

    @Test
    void endpointPolicyBoundsButNeverGrants() {
        RequestFacts f = facts("s3:GetObject", "arn:aws:s3:::b/k", Map.of("aws:SourceVpce", List.of("vpce-0123456789abcdef0")));
        PolicyEvaluator.Source admin = new PolicyEvaluator.Source("admin", identity("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"));
        PolicyEvaluator.Source onlyPut = new PolicyEvaluator.Source("endpoint", resource(
                "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}"));
        PolicyEvaluator.Source all = new PolicyEvaluator.Source("endpoint", resource(
                "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}"));
        Decision narrowed = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.empty(),
                List.of(), List.of(), Optional.of(onlyPut)));
        assertThat(narrowed.reason()).isEqualTo("because no VPC endpoint policy allows the s3:GetObject action");
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(admin), Optional.empty(), "", Optional.empty(),
                List.of(), List.of(), Optional.of(all))).allowed()).isTrue();
        assertThat(PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(), Optional.empty(), "", Optional.empty(),
                List.of(), List.of(), Optional.of(all))).allowed()).as("an endpoint policy grants nothing").isFalse();
    }

    @Test
    void globIsLinearAndExact() {
        assertThat(Glob.matches("a*b?c", "aXXbYc", false)).isTrue();
        assertThat(Glob.matches("a*b?c", "aXXbc", false)).isFalse();
        assertThat(Glob.matches("*", "", false)).isTrue();
        assertThat(Glob.matches("a".repeat(30) + "*".repeat(30) + "b", "a".repeat(5000), false)).isFalse();
    }
}
