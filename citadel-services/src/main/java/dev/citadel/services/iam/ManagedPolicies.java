package dev.citadel.services.iam;

import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyParser;
import java.util.Map;
import java.util.Optional;

/**
 * The AWS managed policies Citadel provides, by ARN. {@code AdministratorAccess} is AWS's
 * document; {@code ReadOnlyAccess} is Citadel's equivalent for the services it has (every
 * {@code Describe*}, {@code Get*} and {@code List*} action), since AWS's own enumerates thousands of
 * actions of services Citadel does not run.
 */
public final class ManagedPolicies {
    public static final String ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";
    public static final String READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess";

    private static final Map<String, Policy> POLICIES = Map.of(
            ADMINISTRATOR_ACCESS, PolicyParser.parse("""
                    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}""", PolicyParser.Kind.IDENTITY),
            READ_ONLY_ACCESS, PolicyParser.parse("""
                    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}""",
                    PolicyParser.Kind.IDENTITY));

    private ManagedPolicies() {
    }

    public static Optional<Policy> byArn(String arn) {
        return Optional.ofNullable(POLICIES.get(arn));
    }
}
