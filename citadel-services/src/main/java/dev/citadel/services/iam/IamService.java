package dev.citadel.services.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.Decision;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.policy.RequestFacts;
import dev.citadel.wire.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AWS Identity and Access Management (awsQuery, API version 2010-05-08, a global service). This
 * first part has the policy simulator for custom policies, answered by the same evaluator that
 * enforces every request.
 */
public final class IamService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("iam", "iam", "iam", Protocol.AWS_QUERY, "",
            "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/", "iam.amazonaws.com", true);
    private static final int MAX_POLICIES = 20;
    private static final int MAX_ACTIONS = 100;
    private static final int MAX_RESOURCES = 100;

    private IamService() {
    }

    public static List<Operation> operations() {
        return List.of(Operation.of(OperationSpec.builder("iam", "SimulateCustomPolicy")
                .resources(ResourceResolver.ALL)
                .readOnly()
                .maxBodyBytes(1 << 20)
                .build(), IamService::simulateCustomPolicy));
    }

    /**
     * {@code iam:SimulateCustomPolicy}: the decision for each action and resource under the given
     * identity policies (and optional permissions boundaries, resource policy and context entries).
     */
    static JsonNode simulateCustomPolicy(RequestContext ctx, ObjectNode input) {
        List<String> documents = strings(input, "PolicyInputList", MAX_POLICIES, true);
        List<String> boundaries = strings(input, "PermissionsBoundaryPolicyInputList", MAX_POLICIES, false);
        List<String> actions = strings(input, "ActionNames", MAX_ACTIONS, true);
        List<String> resources = strings(input, "ResourceArns", MAX_RESOURCES, false);
        if (resources.isEmpty()) {
            resources = List.of("*");
        }
        List<PolicyEvaluator.Source> identity = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            identity.add(new PolicyEvaluator.Source("PolicyInputList." + (i + 1), parse(documents.get(i), PolicyParser.Kind.IDENTITY)));
        }
        Optional<PolicyEvaluator.Source> boundary = Optional.empty();
        if (!boundaries.isEmpty()) {
            boundary = Optional.of(new PolicyEvaluator.Source("PermissionsBoundaryPolicyInputList.1", parse(boundaries.getFirst(),
                    PolicyParser.Kind.IDENTITY)));
        }
        Optional<PolicyEvaluator.Source> resourcePolicy = text(input, "ResourcePolicy")
                .map(doc -> new PolicyEvaluator.Source("ResourcePolicy", parse(doc, PolicyParser.Kind.RESOURCE)));
        String caller = text(input, "CallerArn").orElse(ctx.principal().arn());
        String callerAccount = caller.split(":").length > 4 ? caller.split(":")[4] : ctx.principal().account().value();
        String resourceOwner = text(input, "ResourceOwner").map(o -> o.split(":").length > 4 ? o.split(":")[4] : o).orElse("");
        Map<String, List<String>> context = contextEntries(input);

        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode results = out.putArray("EvaluationResults");
        for (String action : actions) {
            for (String resource : resources) {
                RequestFacts facts = new RequestFacts(action, resource, caller, callerAccount, "", context);
                Decision d = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(facts, identity, resourcePolicy,
                        resourceOwner, boundary, List.of(), List.of()));
                ObjectNode r = results.addObject();
                r.put("EvalActionName", action);
                r.put("EvalResourceName", resource);
                r.put("EvalDecision", switch (d.outcome()) {
                    case ALLOWED -> "allowed";
                    case EXPLICIT_DENY -> "explicitDeny";
                    case IMPLICIT_DENY -> "implicitDeny";
                });
                ArrayNode matched = r.putArray("MatchedStatements");
                for (Decision.MatchedStatement m : d.matched()) {
                    ObjectNode s = matched.addObject();
                    s.put("SourcePolicyId", m.source());
                    s.put("SourcePolicyType", m.source().startsWith("ResourcePolicy") ? "resource" : "IAM Policy");
                }
                r.putArray("MissingContextValues");
            }
        }
        out.put("IsTruncated", false);
        return out;
    }

    private static Policy parse(String document, PolicyParser.Kind kind) {
        try {
            return PolicyParser.parse(document, kind);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocument", 400, e.getMessage());
        }
    }

    private static Map<String, List<String>> contextEntries(ObjectNode input) {
        Map<String, List<String>> out = new HashMap<>();
        JsonNode entries = input.get("ContextEntries");
        if (entries == null) {
            return out;
        }
        if (!entries.isArray() || entries.size() > 100) {
            throw new AwsException("InvalidInput", 400, "ContextEntries must be a list of at most 100 entries.");
        }
        for (JsonNode e : entries) {
            String name = e.path("ContextKeyName").asText("");
            if (name.isEmpty() || name.length() > 256) {
                throw new AwsException("InvalidInput", 400, "Each context entry needs a ContextKeyName of 5 to 256 characters.");
            }
            List<String> values = new ArrayList<>();
            JsonNode v = e.get("ContextKeyValues");
            if (v != null && v.isArray()) {
                v.forEach(x -> values.add(x.asText()));
            }
            out.put(name, values);
        }
        return out;
    }

    private static Optional<String> text(ObjectNode input, String member) {
        JsonNode n = input.get(member);
        return n == null || !n.isTextual() || n.asText().isEmpty() ? Optional.empty() : Optional.of(n.asText());
    }

    private static List<String> strings(ObjectNode input, String member, int max, boolean required) {
        JsonNode n = input.get(member);
        List<String> out = new ArrayList<>();
        if (n == null || (n.isTextual() && n.asText().isEmpty())) {
            if (required) {
                throw new AwsException("ValidationError", 400,
                        "1 validation error detected: Value null at '" + Character.toLowerCase(member.charAt(0)) + member.substring(1)
                        + "' failed to satisfy constraint: Member must not be null");
            }
            return out;
        }
        if (!n.isArray()) {
            throw new AwsException("ValidationError", 400, member + " must be a list.");
        }
        if (n.size() > max) {
            throw new AwsException("ValidationError", 400, member + " may hold at most " + max + " members.");
        }
        n.forEach(x -> out.add(x.asText()));
        return out;
    }
}
