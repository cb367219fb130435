package dev.citadel.metadata.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.sagemaker.JobRepository.Job;
import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SageMaker's jobs (V19) on both dialects: unique names per account and kind, compare-and-set updates, the scheduler's view. */
class JobRepositoryTest {
    @Nested
    class OnSqlite extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return sqlite(dir);
        }
    }

    @Nested
    class OnPostgres extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return postgres();
        }
    }

    abstract static class Contract extends StoreTestBase {
        static Job job(String account, Kind kind, String name, int second) {
            return new Job(account, kind, name, "arn:aws:sagemaker:us-east-1:" + account + ":training-job/" + name, "InProgress", "Starting",
                    Optional.empty(), new byte[] {1, 2, 3}, "sha256:" + "a".repeat(64), "arn:aws:iam::" + account + ":role/R", T.plusSeconds(second),
                    Optional.empty(), Optional.empty(), T.plusSeconds(second), "[]", "{}", "{\"team\":\"a\"}", Optional.empty(), Optional.empty());
        }

        private void insert(Job j) {
            store.useTransaction(h -> new JobRepository(h).insert(j));
        }

        @Test
        void namesAreUniquePerAccountAndKind() {
            insert(job("111111111111", Kind.TRAINING, "a", 1));
            insert(job("111111111111", Kind.PROCESSING, "a", 2));
            insert(job("222222222222", Kind.TRAINING, "a", 3));
            assertThatThrownBy(() -> insert(job("111111111111", Kind.TRAINING, "a", 4))).isInstanceOf(DuplicateKeyException.class)
                    .satisfies(e -> assertThat(((DuplicateKeyException) e).constraint()).isEqualTo(JobRepository.JOB_NAME));
            Job read = store.read(h -> new JobRepository(h).job("111111111111", Kind.TRAINING, "a")).orElseThrow();
            assertThat(read.requestSealed()).containsExactly(1, 2, 3);
            assertThat(read.createdAt()).isEqualTo(T.plusSeconds(1));
            assertThat(read.tags()).isEqualTo("{\"team\":\"a\"}");
        }

        @Test
        void anUpdateWinsOnlyAgainstTheStatusItRead() {
            Job j = job("111111111111", Kind.TRAINING, "a", 1);
            insert(j);
            Job running = new Job(j.accountId(), j.kind(), j.name(), j.arn(), "InProgress", "Training", Optional.empty(), j.requestSealed(),
                    j.imageDigest(), j.roleArn(), j.createdAt(), Optional.of(T.plusSeconds(5)), Optional.empty(), T.plusSeconds(5), "[{}]", "{}",
                    j.tags(), Optional.empty(), Optional.of("job-1"));
            assertThat(store.<Boolean>inTransaction(h -> new JobRepository(h).update(running, "InProgress"))).isTrue();
            Job stopped = new Job(j.accountId(), j.kind(), j.name(), j.arn(), "Stopped", "Stopped", Optional.of("why"), j.requestSealed(),
                    j.imageDigest(), j.roleArn(), j.createdAt(), running.startedAt(), Optional.of(T.plusSeconds(9)), T.plusSeconds(9), "[{},{}]",
                    "{\"x\":1}", j.tags(), Optional.of(T.plusSeconds(8)), Optional.empty());
            assertThat(store.<Boolean>inTransaction(h -> new JobRepository(h).update(stopped, "Stopping"))).as("the status moved on").isFalse();
            assertThat(store.<Boolean>inTransaction(h -> new JobRepository(h).update(stopped, "InProgress"))).isTrue();
            Job read = store.read(h -> new JobRepository(h).job("111111111111", Kind.TRAINING, "a")).orElseThrow();
            assertThat(read.status()).isEqualTo("Stopped");
            assertThat(read.failureReason()).contains("why");
            assertThat(read.endedAt()).contains(T.plusSeconds(9));
            assertThat(read.stopRequestedAt()).contains(T.plusSeconds(8));
            assertThat(read.runId()).isEmpty();
            assertThat(read.ended()).isTrue();
        }

        @Test
        void theSchedulerSeesActiveJobsOfEveryAccountOldestFirst() {
            insert(job("222222222222", Kind.TRAINING, "later", 5));
            insert(job("111111111111", Kind.PROCESSING, "first", 1));
            Job done = job("111111111111", Kind.TRAINING, "done", 0);
            insert(done);
            Job completed = new Job(done.accountId(), done.kind(), done.name(), done.arn(), "Completed", "Completed", Optional.empty(),
                    done.requestSealed(), done.imageDigest(), done.roleArn(), done.createdAt(), Optional.empty(), Optional.empty(), T, "[]", "{}",
                    "{}", Optional.empty(), Optional.empty());
            store.useTransaction(h -> new JobRepository(h).update(completed, "InProgress"));
            assertThat(store.<List<Job>>read(h -> new JobRepository(h).active()).stream().map(Job::name)).containsExactly("first", "later");
            assertThat(store.<List<Job>>read(h -> new JobRepository(h).jobs("111111111111", Kind.TRAINING)).stream().map(Job::name))
                    .containsExactly("done");
        }
    }
}
