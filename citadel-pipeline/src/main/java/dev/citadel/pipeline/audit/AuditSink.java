package dev.citadel.pipeline.audit;

/**
 * Where audit events go. {@link #record} returns only once the event is durable, so a response
 * is never sent for a request that is not on the record.
 */
public interface AuditSink extends AutoCloseable {
    void record(AuditEvent event);

    /**
     * Why this sink can no longer make events durable (every request is then refused), or empty
     * while it can. The operator's readiness check reads it.
     */
    default java.util.Optional<String> failure() {
        return java.util.Optional.empty();
    }

    @Override
    void close();
}
