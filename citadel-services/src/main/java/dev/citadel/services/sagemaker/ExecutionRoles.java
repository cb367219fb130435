package dev.citadel.services.sagemaker;

import dev.citadel.core.AwsException;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.core.AccountId;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.policy.RequestFacts;
import dev.citadel.services.accounts.AccountDirectory;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A job's execution role: the caller must be allowed to pass it to SageMaker (iam:PassRole with
 * {@code iam:PassedToService}), its trust policy must let {@code sagemaker.amazonaws.com} assume
 * it, and while the job runs Citadel acts as a session of it. The container never gets it.
 */
final class ExecutionRoles {
    static final String SERVICE = "sagemaker.amazonaws.com";
    private final AccountDirectory directory;
    private final Authorizer authorizer;
    private final Clock clock;

    ExecutionRoles(AccountDirectory directory, Authorizer authorizer, Clock clock) {
        this.directory = directory;
        this.authorizer = authorizer;
        this.clock = clock;
    }

    /** Checks that the caller may pass {@code roleArn} to SageMaker and that SageMaker may assume it. */
    IamRole requirePassable(RequestContext ctx, String roleArn) {
        Map<String, List<String>> keys = new HashMap<>();
        RequestPipeline.globalConditionKeys(ctx, keys);
        keys.put("iam:PassedToService", List.of(SERVICE));
        if (!authorizer.authorize(new AuthorizationRequest(ctx.principal(), "iam:PassRole", List.of(roleArn), keys)).allowed()) {
            throw new AwsException("AccessDeniedException", 400, "User: " + ctx.principal().arn() + " is not authorized to perform: "
                    + "iam:PassRole on resource: " + roleArn);
        }
        IamRole role = assumable(roleArn).orElseThrow(() -> new AwsException("ValidationException", 400, "Could not assume role " + roleArn
                + ". Please ensure that the role exists and allows principal '" + SERVICE + "' to assume the role."));
        if (!role.accountId().equals(ctx.principal().account().value())) {
            throw new AwsException("ValidationException", 400, "The role " + roleArn + " is in another account; a job's role must be in "
                    + "the job's account.");
        }
        return role;
    }

    /** The role, when it exists and its trust policy lets SageMaker assume it. */
    Optional<IamRole> assumable(String roleArn) {
        return directory.roleByArn(roleArn).filter(role -> {
            try {
                var trust = new PolicyEvaluator.Source("the trust policy of " + role.arn(),
                        PolicyParser.parse(role.assumeRolePolicyDocument(), PolicyParser.Kind.TRUST));
                return PolicyEvaluator.evaluateAlone(trust, RequestFacts.ofService(SERVICE, "sts:AssumeRole", role.arn(),
                        Map.of("aws:SourceAccount", List.of(role.accountId())))).allowed();
            } catch (MalformedPolicyException e) {
                return false;
            }
        });
    }

    /** The session SageMaker acts as for a job: {@code assumed-role/<role>/SageMaker}, with the role's tags. */
    Principal session(IamRole role) {
        Instant now = clock.instant();
        Principal.Session session = new Principal.Session(role.arn(), "SageMaker", now, now.plusSeconds(3600), Optional.empty(), List.of(),
                List.of(), Optional.empty(), false);
        return new Principal("AssumedRole", new AccountId(role.accountId()), role.roleId() + ":SageMaker",
                "arn:aws:sts::" + role.accountId() + ":assumed-role/" + role.roleName() + "/SageMaker", role.roleName(), "",
                directory.tags(role.accountId(), "role", role.roleName()), Optional.of(session));
    }
}
