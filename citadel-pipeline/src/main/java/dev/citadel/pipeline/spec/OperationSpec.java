package dev.citadel.pipeline.spec;

import static java.util.Objects.requireNonNull;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the pipeline must know about an operation before its handler runs, mirroring the AWS
 * Service Authorization Reference: the IAM action, how to compute the resource ARNs and the
 * condition keys from the request, whether it only reads, and the largest body it accepts.
 * Operations are registered only with a spec, so authorization cannot be forgotten.
 *
 * @param authorization {@link Authorization#IAM_ACTION} for operations governed by policies;
 *                      {@link Authorization#NONE_REQUIRED} only where AWS documents that no
 *                      permission is needed (sts:GetCallerIdentity), which is still authenticated
 *                      and audited
 * @param sensitiveInputFields input member names that never reach the audit record
 * @param streamingBody         the operation reads its body as a stream, verified as it is read
 *                              (S3 uploads), instead of the pipeline reading it whole first
 * @param variant               another action that governs the call instead of {@code iamAction}
 *                              when the request carries a given query parameter (S3's
 *                              {@code versionId}: s3:GetObject becomes s3:GetObjectVersion)
 * @param eachResource          each resource is decided alone and the call goes ahead with those
 *                              refused named to the handler (S3's DeleteObjects reports them as
 *                              AccessDenied one by one); the handler must act on none of them
 * @param dataEvent             a data event in CloudTrail's sense (S3 object-level calls,
 *                              InvokeEndpoint): recorded with eventCategory Data, not Management
 */
public record OperationSpec(
        String service,
        String name,
        String iamAction,
        Authorization authorization,
        ResourceResolver resources,
        ConditionKeyResolver conditionKeys,
        boolean readOnly,
        long maxBodyBytes,
        Set<String> sensitiveInputFields,
        boolean streamingBody,
        java.util.Optional<ActionVariant> variant,
        boolean eachResource,
        boolean dataEvent) {

    /** The action that governs a request carrying the query parameter {@code parameter}. */
    public record ActionVariant(String parameter, String action) {
        public ActionVariant {
            requireNonNull(parameter, "parameter is null");
            requireNonNull(action, "action is null");
        }
    }

    private static final Pattern ACTION = Pattern.compile("[a-z0-9-]+:[A-Z][A-Za-z0-9]+");

    /** How an operation is authorized. */
    public enum Authorization { IAM_ACTION, NONE_REQUIRED }

    public OperationSpec {
        requireNonNull(service, "service is null");
        requireNonNull(name, "name is null");
        requireNonNull(iamAction, "iamAction is null");
        requireNonNull(authorization, "authorization is null");
        requireNonNull(resources, "resources is null");
        requireNonNull(conditionKeys, "conditionKeys is null");
        sensitiveInputFields = Set.copyOf(sensitiveInputFields);
        requireNonNull(variant, "variant is null");
        if (!ACTION.matcher(iamAction).matches()) {
            throw new IllegalArgumentException("IAM action must look like service:Action, got " + iamAction);
        }
        if (variant.isPresent() && !ACTION.matcher(variant.get().action()).matches()) {
            throw new IllegalArgumentException("IAM action must look like service:Action, got " + variant.get().action());
        }
        if (!name.matches("[A-Z][A-Za-z0-9]+")) {
            throw new IllegalArgumentException("operation name must be PascalCase: " + name);
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes must not be negative");
        }
    }

    /**
     * The action that governs this request: the variant's when the request's query carries its
     * parameter (protocols that have a query put it under the input's {@code query} member),
     * otherwise {@link #iamAction}.
     */
    public String iamAction(com.fasterxml.jackson.databind.JsonNode input) {
        return variant.filter(v -> input.path("query").has(v.parameter())).map(ActionVariant::action).orElse(iamAction);
    }

    /** Every action this operation may be governed by (its own and its variant's). */
    public java.util.List<String> actions() {
        return variant.map(v -> java.util.List.of(iamAction, v.action())).orElse(java.util.List.of(iamAction));
    }

    /** Starts a spec for {@code service:Name} with the action of the same name. */
    public static Builder builder(String service, String name) {
        return new Builder(service, name);
    }

    /** Fluent construction; {@link #build()} validates. */
    public static final class Builder {
        private final String service;
        private final String name;
        private String iamAction;
        private Authorization authorization = Authorization.IAM_ACTION;
        private ResourceResolver resources;
        private ConditionKeyResolver conditionKeys = ConditionKeyResolver.NONE;
        private boolean readOnly;
        private long maxBodyBytes;
        private Set<String> sensitive = Set.of();
        private boolean streamingBody;
        private java.util.Optional<ActionVariant> variant = java.util.Optional.empty();
        private boolean eachResource;
        private boolean dataEvent;

        private Builder(String service, String name) {
            this.service = service;
            this.name = name;
            this.iamAction = service + ":" + name;
        }

        public Builder action(String action) {
            this.iamAction = action;
            return this;
        }

        public Builder noPermissionRequired() {
            this.authorization = Authorization.NONE_REQUIRED;
            return this;
        }

        public Builder resources(ResourceResolver resolver) {
            this.resources = resolver;
            return this;
        }

        public Builder conditionKeys(ConditionKeyResolver resolver) {
            this.conditionKeys = resolver;
            return this;
        }

        public Builder readOnly() {
            this.readOnly = true;
            return this;
        }

        /** A body limit of its own; 0 keeps the server's default. */
        public Builder maxBodyBytes(long bytes) {
            this.maxBodyBytes = bytes;
            return this;
        }

        /** The body reaches the operation as a stream, its signature or checksums verified as it is read. */
        public Builder streamingBody() {
            this.streamingBody = true;
            return this;
        }

        /** The request is governed by {@code action} instead when its query carries {@code parameter}. */
        public Builder actionWhen(String parameter, String action) {
            this.variant = java.util.Optional.of(new ActionVariant(parameter, action));
            return this;
        }

        /** Each resource is authorized alone; the handler gets the refused ones (see {@link OperationSpec#eachResource}). */
        public Builder authorizeEachResource() {
            this.eachResource = true;
            return this;
        }

        /** A data event (object-level), recorded with eventCategory Data. */
        public Builder dataEvent() {
            this.dataEvent = true;
            return this;
        }

        public Builder sensitive(String... fields) {
            this.sensitive = Set.of(fields);
            return this;
        }

        public OperationSpec build() {
            if (resources == null) {
                throw new IllegalStateException(service + ":" + name + " has no resource resolver; use ResourceResolver.ALL for '*'");
            }
            return new OperationSpec(service, name, iamAction, authorization, resources, conditionKeys, readOnly,
                    maxBodyBytes, sensitive, streamingBody, variant, eachResource, dataEvent);
        }
    }
}
