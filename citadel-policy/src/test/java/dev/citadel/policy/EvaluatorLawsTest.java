package dev.citadel.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Laws of the evaluator over seeded, generated policies: adding a Deny never allows more, adding
 * an Allow never allows less, and a NotAction statement allows exactly what the Action statement
 * with the same list does not. The seed is printed on failure.
 */
class EvaluatorLawsTest {
    private static final String[] ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "iam:CreateUser", "kms:Decrypt"};
    private static final String[] PATTERNS = {"s3:*", "s3:Get*", "*", "iam:*", "kms:Decrypt", "s3:?utObject"};
    private static final String[] RESOURCES = {"arn:aws:s3:::a/x", "arn:aws:s3:::b/y", "*"};
    private static final String[] RESOURCE_PATTERNS = {"*", "arn:aws:s3:::a/*", "arn:aws:s3:::b/?", "arn:aws:s3:::*"};

    private static String statement(Random r, String effect) {
        String action = PATTERNS[r.nextInt(PATTERNS.length)];
        String resource = RESOURCE_PATTERNS[r.nextInt(RESOURCE_PATTERNS.length)];
        String cond = r.nextBoolean() ? "" : ",\"Condition\":{\"StringEquals\":{\"aws:username\":\"" + (r.nextBoolean() ? "alice" : "bob") + "\"}}";
        return "{\"Effect\":\"" + effect + "\",\"Action\":\"" + action + "\",\"Resource\":\"" + resource + "\"" + cond + "}";
    }

    private static Policy policy(List<String> statements) {
        return PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[" + String.join(",", statements) + "]}", PolicyParser.Kind.IDENTITY);
    }

    private static boolean allowed(Policy p, String action, String resource) {
        RequestFacts f = new RequestFacts(action, resource, EvaluationTest.USER, EvaluationTest.ACCOUNT, "", Map.of("aws:username", List.of("alice")));
        return PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(new PolicyEvaluator.Source("p", p)), Optional.empty(), "",
                Optional.empty(), List.of(), List.of())).allowed();
    }

    @Test
    void addingStatementsMovesDecisionsOnlyTheWayTheyShould() {
        long seed = Long.getLong("citadel.seed", System.nanoTime());
        Random r = new Random(seed);
        for (int round = 0; round < 300; round++) {
            List<String> base = new ArrayList<>();
            for (int i = 1 + r.nextInt(4); i > 0; i--) {
                base.add(statement(r, r.nextInt(3) == 0 ? "Deny" : "Allow"));
            }
            List<String> withDeny = new ArrayList<>(base);
            withDeny.add(statement(r, "Deny"));
            List<String> withAllow = new ArrayList<>(base);
            withAllow.add(statement(r, "Allow"));
            Policy p = policy(base);
            Policy d = policy(withDeny);
            Policy a = policy(withAllow);
            for (String action : ACTIONS) {
                for (String resource : RESOURCES) {
                    boolean before = allowed(p, action, resource);
                    assertThat(allowed(d, action, resource) && !before).as("seed %d: a Deny allowed more: %s", seed, withDeny).isFalse();
                    assertThat(before && !allowed(a, action, resource)).as("seed %d: an Allow allowed less: %s", seed, withAllow).isFalse();
                }
            }
        }
    }

    @Test
    void notActionIsTheComplementOfAction() {
        for (String pattern : PATTERNS) {
            Policy action = policy(List.of("{\"Effect\":\"Allow\",\"Action\":\"" + pattern + "\",\"Resource\":\"*\"}"));
            Policy notAction = policy(List.of("{\"Effect\":\"Allow\",\"NotAction\":\"" + pattern + "\",\"Resource\":\"*\"}"));
            for (String a : ACTIONS) {
                assertThat(allowed(action, a, "*")).as("%s %s", pattern, a).isNotEqualTo(allowed(notAction, a, "*"));
            }
        }
    }
}
