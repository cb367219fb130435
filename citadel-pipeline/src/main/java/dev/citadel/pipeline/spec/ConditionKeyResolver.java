package dev.citadel.pipeline.spec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.pipeline.RequestContext;
import java.util.List;
import java.util.Map;

/**
 * Computes an operation's service-specific condition keys ({@code sagemaker:NetworkIsolation},
 * {@code aws:RequestTag/…}) from the input. Global keys ({@code aws:SourceIp},
 * {@code aws:SecureTransport}, …) are added by the pipeline for every request.
 */
@FunctionalInterface
public interface ConditionKeyResolver {
    ConditionKeyResolver NONE = (ctx, input) -> Map.of();

    Map<String, List<String>> resolve(RequestContext ctx, ObjectNode input);
}
