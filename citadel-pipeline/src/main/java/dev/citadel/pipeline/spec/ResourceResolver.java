package dev.citadel.pipeline.spec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.pipeline.RequestContext;
import java.util.List;

/** Computes the ARNs an operation acts on from the caller and the decoded input. */
@FunctionalInterface
public interface ResourceResolver {
    /** For actions whose only resource type is {@code *} in the Service Authorization Reference. */
    ResourceResolver ALL = (ctx, input) -> List.of("*");

    List<String> resolve(RequestContext ctx, ObjectNode input);
}
