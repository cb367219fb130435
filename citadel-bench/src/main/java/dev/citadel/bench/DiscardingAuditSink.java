package dev.citadel.bench;

import dev.citadel.pipeline.audit.AuditEvent;
import dev.citadel.pipeline.audit.AuditSink;
import java.util.concurrent.atomic.LongAdder;

/**
 * The audit sink of the load tool's {@code citadel-no-audit} target: it counts the events and
 * drops them, so no JSON line is written and no request waits for an {@code fdatasync}. The
 * pipeline still builds each event (redaction, sensitive-data findings), so the difference from
 * the {@code citadel} target is what the audit log's {@code record} costs. It exists only in the
 * bench module; the server never uses it (see {@code Citadel.startWithAuditSink}).
 */
final class DiscardingAuditSink implements AuditSink {
    private final LongAdder discarded = new LongAdder();

    @Override
    public void record(AuditEvent event) {
        discarded.increment();
    }

    /** How many events the pipeline handed to this sink. */
    long discarded() {
        return discarded.sum();
    }

    @Override
    public void close() {
    }
}
