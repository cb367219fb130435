package dev.citadel.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyParserTest {
    private static String refusal(String doc, PolicyParser.Kind kind) {
        try {
            PolicyParser.parse(doc, kind);
        } catch (MalformedPolicyException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + doc);
    }

    @Test
    void validIdentityPolicyParses() {
        Policy p = PolicyParser.parse("""
                {"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":["s3:Get*","s3:List*"],
                 "Resource":"arn:aws:s3:::bucket/*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","b"]}}}]}""",
                PolicyParser.Kind.IDENTITY);
        Statement s = p.statements().getFirst();
        assertThat(s.effect()).isEqualTo(Effect.ALLOW);
        assertThat(s.actions()).containsExactly("s3:Get*", "s3:List*");
        Condition c = s.conditions().getFirst();
        assertThat(c.operator()).isEqualTo(ConditionOperator.STRING_LIKE);
        assertThat(c.qualifier()).isEqualTo(Condition.Qualifier.FOR_ANY_VALUE);
        assertThat(c.ifExists()).isTrue();
        assertThat(c.values()).containsExactly("a*", "b");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "not json|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\"}|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\",\"Statement\":[]}|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Permit\",\"Action\":\"*\",\"Resource\":\"*\"}}|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\",\"Extra\":1,\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotAction\":\"*\",\"Resource\":\"*\"}}|Syntax errors in policy.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"a\":\"b\"}}}}|Syntax errors in policy.",
        "{\"Version\":\"2011-01-01\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}|Syntax errors in policy.",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}|Policy document must be version 2012-10-17 or greater.",
        "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}|Policy document must be version 2012-10-17 or greater.",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"x\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},{\"Sid\":\"x\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}|Statement IDs (SID) in a single policy must be unique.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}|Policy statement must contain actions.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\"}}|Policy statement must contain resources.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"bucket\"}}|Resource bucket must be in ARN format or \"*\".",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"GetObject\",\"Resource\":\"*\"}}|Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:a:b\",\"Resource\":\"*\"}}|Actions/Condition can contain only one colon.",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s 3:GetObject\",\"Resource\":\"*\"}}|Vendor s 3 is not valid",
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}|Policy document should not specify a principal.",
    })
    void identityPolicyRefusalsHaveIamMessages(String doc, String message) {
        assertThat(refusal(doc, PolicyParser.Kind.IDENTITY)).isEqualTo(message);
    }

    @Test
    void trustPolicyNeedsAPrincipalAndNoResource() {
        assertThat(refusal("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}}",
                PolicyParser.Kind.TRUST)).isEqualTo("Missing required field Principal");
        assertThat(refusal("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"123456789012\"},"
                + "\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}}", PolicyParser.Kind.TRUST)).isEqualTo("Has prohibited field Resource.");
        Policy ok = PolicyParser.parse("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"123456789012\"]},\"Action\":\"sts:AssumeRole\"}}",
                PolicyParser.Kind.TRUST);
        assertThat(ok.version()).isEqualTo(Policy.LEGACY);
        assertThat(ok.statements().getFirst().principals()).containsExactly("AWS:123456789012");
    }

    @Test
    void oversizedPolicyIsRefusedBeforeParsing() {
        String big = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::"
                + "a".repeat(7000) + "\"}}";
        assertThat(refusal(big, PolicyParser.Kind.IDENTITY)).startsWith("Cannot exceed quota for PolicySize");
    }

    @Test
    void nullIfExistsIsNotAnOperator() {
        assertThatThrownBy(() -> PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
                + "\"Resource\":\"*\",\"Condition\":{\"NullIfExists\":{\"aws:x\":\"true\"}}}}", PolicyParser.Kind.IDENTITY))
                .hasMessage("Syntax errors in policy.");
    }

    @Test
    void legacyParsingBeyondMotosRecordedCases() {
        String head = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",";
        Policy nulls = PolicyParser.parse(head + "\"Resource\":[\"arn:aws:s3:::b/*\",null]}}", PolicyParser.Kind.IDENTITY);
        assertThat(nulls.statements().getFirst().resources()).containsExactly("arn:aws:s3:::b/*");
        PolicyParser.parse(head + "\"Resource\":\"arn:aws:iam::123456789012:*\"}}", PolicyParser.Kind.IDENTITY);
        PolicyParser.parse(head + "\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2016-12-13T21:20:37-05:00\"}}}}",
                PolicyParser.Kind.IDENTITY);
        assertThat(refusal(head + "\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2016-12-13T21:20:37-5\"}}}}",
                PolicyParser.Kind.IDENTITY)).isEqualTo("The policy failed legacy parsing");
        assertThat(refusal(head.replace("\"Allow\"", "\"allow\"") + "\"Resource\":\"*\"}}", PolicyParser.Kind.IDENTITY))
                .isEqualTo("The policy failed legacy parsing");
        assertThat(refusal(head + "\"Resource\":\"s3:bucket\"}}", PolicyParser.Kind.IDENTITY))
                .isEqualTo("Partition \"bucket\" is not valid for resource \"arn:bucket:*:*:*:*\".");
    }
}
