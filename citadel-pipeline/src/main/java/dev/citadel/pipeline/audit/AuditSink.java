package dev.citadel.pipeline.audit;

/**
 * Where audit events go. {@link #record} returns only once the event is durable, so a response
 * is never sent for a request that is not on the record.
 */
public interface AuditSink extends AutoCloseable {
    void record(AuditEvent event);

    @Override
    void close();
}
