package dev.citadel.services.sagemaker;

import dev.citadel.services.logs.JobLogs;
import dev.citadel.services.sandbox.Sandbox;
import java.io.Flushable;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's container output into its log stream: lines are batched (each append is one sealed
 * chunk) and flushed when a batch reaches 64 KiB or 500 lines, when the scheduler's round comes
 * (about once a second) and when the container has ended. The stream's size cap is
 * {@link JobLogs}'s; a truncated output says so in a last event.
 */
public final class JobLogSink implements Sandbox.OutputSink, Flushable {
    private static final int MAX_BATCH_BYTES = 64 * 1024;
    private static final int MAX_BATCH_LINES = 500;
    private final JobLogs logs;
    private final String account;
    private final String region;
    private final String group;
    private final String stream;
    private final Clock clock;
    private final List<JobLogs.Event> batch = new ArrayList<>();
    private int batchBytes;
    private boolean created;

    public JobLogSink(JobLogs logs, String account, String region, String group, String stream, Clock clock) {
        this.logs = logs;
        this.account = account;
        this.region = region;
        this.group = group;
        this.stream = stream;
        this.clock = clock;
    }

    @Override
    public synchronized void line(Instant at, String line) {
        batch.add(new JobLogs.Event(at, line.isEmpty() ? " " : line));
        batchBytes += line.length() + JobLogs.EVENT_OVERHEAD;
        if (batchBytes >= MAX_BATCH_BYTES || batch.size() >= MAX_BATCH_LINES) {
            flush();
        }
    }

    @Override
    public synchronized void truncated() {
        batch.add(new JobLogs.Event(clock.instant(), "[Citadel] The container's output exceeded the job's output limit; the rest was dropped."));
        flush();
    }

    @Override
    public synchronized void flush() {
        if (!created) {
            logs.createStream(account, region, group, stream);
            created = true;
        }
        if (batch.isEmpty()) {
            return;
        }
        logs.append(account, region, group, stream, List.copyOf(batch));
        batch.clear();
        batchBytes = 0;
    }
}
