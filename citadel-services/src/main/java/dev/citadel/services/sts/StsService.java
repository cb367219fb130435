package dev.citadel.services.sts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.Protocol;
import java.util.List;

/** AWS Security Token Service (awsQuery, API version 2011-06-15). */
public final class StsService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("sts", "sts", "sts", Protocol.AWS_QUERY, "",
            "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/", "sts.amazonaws.com", false);

    private StsService() {
    }

    public static List<Operation> operations() {
        return List.of(Operation.of(OperationSpec.builder("sts", "GetCallerIdentity")
                .noPermissionRequired()
                .resources(ResourceResolver.ALL)
                .readOnly()
                .maxBodyBytes(64 * 1024)
                .build(), StsService::getCallerIdentity));
    }

    /**
     * {@code sts:GetCallerIdentity}: who the caller is. AWS documents that no permission is needed
     * and that an explicit deny does not stop it; it is still authenticated and audited.
     */
    static JsonNode getCallerIdentity(RequestContext ctx, ObjectNode input) {
        Principal p = ctx.principal();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("UserId", p.principalId());
        out.put("Account", p.account().value());
        out.put("Arn", p.arn());
        return out;
    }
}
