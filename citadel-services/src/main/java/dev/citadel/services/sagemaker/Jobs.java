package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.sagemaker.JobRepository;
import dev.citadel.metadata.sagemaker.JobRepository.Job;
import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The stored jobs and their state changes, shared by the API and the scheduler. A change is a
 * compare-and-set on the job's status, so that a stop and the job's own end cannot both win.
 * Secondary status transitions are kept as SageMaker reports them: each with its start, the
 * previous one's end, and a message.
 */
final class Jobs {
    static final ObjectMapper JSON = new ObjectMapper();
    private final MetadataStore store;
    private final SealedJson sealed;
    final Clock clock;

    Jobs(MetadataStore store, SecretSealer sealer, Clock clock) {
        this.store = store;
        this.sealed = new SealedJson(sealer);
        this.clock = clock;
    }

    static String sealContext(Kind kind, String account, String name) {
        return "sagemaker/" + kind.name().toLowerCase(java.util.Locale.ROOT) + "-job/" + account + "/" + name;
    }

    byte[] seal(Kind kind, String account, String name, ObjectNode request) {
        return sealed.seal(request, sealContext(kind, account, name));
    }

    /** The request a job was created with, as sent. */
    ObjectNode request(Job job) {
        return sealed.open(job.requestSealed(), sealContext(job.kind(), job.accountId(), job.name()));
    }

    Optional<Job> find(String account, Kind kind, String name) {
        return store.read(h -> new JobRepository(h).job(account, kind, name));
    }

    void insert(Job job) {
        store.useTransaction(h -> new JobRepository(h).insert(job));
    }

    /**
     * Applies {@code change} to the job as stored, if its status has not moved meanwhile; retried
     * a few times against concurrent writers. Returns the job as written, or empty when the job is
     * gone or {@code change} returned null (nothing to do).
     */
    Optional<Job> change(Job job, UnaryOperator<Job> change) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Job current = find(job.accountId(), job.kind(), job.name()).orElse(null);
            if (current == null) {
                return Optional.empty();
            }
            Job next = change.apply(current);
            if (next == null) {
                return Optional.empty();
            }
            boolean written = store.inTransaction(h -> new JobRepository(h).update(next, current.status()));
            if (written) {
                return Optional.of(next);
            }
        }
        throw new IllegalStateException("job " + job.name() + " keeps changing");
    }

    /** The job moved to {@code status}/{@code secondary}, with a transition carrying {@code message}. */
    Job moved(Job j, String status, String secondary, String message) {
        Instant now = clock.instant();
        String transitions = j.transitions();
        if (!secondary.equals(j.secondaryStatus()) || j.transitions().equals("[]")) {
            transitions = transition(j.transitions(), secondary, message, now);
        }
        boolean ends = status.equals("Completed") || status.equals("Failed") || status.equals("Stopped");
        return new Job(j.accountId(), j.kind(), j.name(), j.arn(), status, secondary, j.failureReason(), j.requestSealed(), j.imageDigest(),
                j.roleArn(), j.createdAt(), j.startedAt(), ends ? Optional.of(now) : j.endedAt(), now, transitions, j.outputs(), j.tags(),
                j.stopRequestedAt(), j.runId());
    }

    static Job withFailure(Job j, String reason) {
        return new Job(j.accountId(), j.kind(), j.name(), j.arn(), j.status(), j.secondaryStatus(), Optional.of(truncate(reason, 1024)),
                j.requestSealed(), j.imageDigest(), j.roleArn(), j.createdAt(), j.startedAt(), j.endedAt(), j.modifiedAt(), j.transitions(),
                j.outputs(), j.tags(), j.stopRequestedAt(), j.runId());
    }

    static Job withRun(Job j, Optional<String> runId, Optional<Instant> startedAt) {
        return new Job(j.accountId(), j.kind(), j.name(), j.arn(), j.status(), j.secondaryStatus(), j.failureReason(), j.requestSealed(),
                j.imageDigest(), j.roleArn(), j.createdAt(), startedAt.or(j::startedAt), j.endedAt(), j.modifiedAt(), j.transitions(),
                j.outputs(), j.tags(), j.stopRequestedAt(), runId);
    }

    static Job withOutputs(Job j, String outputs) {
        return new Job(j.accountId(), j.kind(), j.name(), j.arn(), j.status(), j.secondaryStatus(), j.failureReason(), j.requestSealed(),
                j.imageDigest(), j.roleArn(), j.createdAt(), j.startedAt(), j.endedAt(), j.modifiedAt(), j.transitions(), outputs, j.tags(),
                j.stopRequestedAt(), j.runId());
    }

    static Job withStopRequested(Job j, Instant at) {
        return new Job(j.accountId(), j.kind(), j.name(), j.arn(), j.status(), j.secondaryStatus(), j.failureReason(), j.requestSealed(),
                j.imageDigest(), j.roleArn(), j.createdAt(), j.startedAt(), j.endedAt(), j.modifiedAt(), j.transitions(), j.outputs(), j.tags(),
                Optional.of(at), j.runId());
    }

    static String transition(String transitions, String status, String message, Instant at) {
        try {
            ArrayNode list = (ArrayNode) JSON.readTree(transitions);
            if (!list.isEmpty()) {
                ObjectNode last = (ObjectNode) list.get(list.size() - 1);
                if (!last.has("EndTime")) {
                    last.put("EndTime", at.toEpochMilli());
                }
            }
            list.addObject().put("Status", status).put("StartTime", at.toEpochMilli()).put("StatusMessage", message);
            return list.toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
