package dev.citadel.metadata.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.accounts.AccountRepository;
import dev.citadel.metadata.logs.LogRepository.Chunk;
import dev.citadel.metadata.logs.LogRepository.ChunkInfo;
import dev.citadel.metadata.logs.LogRepository.Stream;
import dev.citadel.metadata.logs.LogRepository.StreamKey;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Log streams and chunks (V18) on both dialects: groups come from streams, chunks stay in order, accounts apart. */
class LogRepositoryTest {
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
        static final String OTHER = "222222222222";
        static final String GROUP = "/aws/sagemaker/TrainingJobs";

        static StreamKey key(String account, String group, String stream) {
            return new StreamKey(account, "us-east-1", group, stream);
        }

        private void create(StreamKey k, int second) {
            store.useTransaction(h -> new LogRepository(h).insertStream(k, T.plusSeconds(second)));
        }

        private Optional<Stream> stream(StreamKey k) {
            return store.read(h -> new LogRepository(h).stream(k));
        }

        private List<ChunkInfo> chunks(StreamKey k) {
            return store.read(h -> new LogRepository(h).chunks(k));
        }

        private Optional<byte[]> payload(StreamKey k, long sequence) {
            return store.read(h -> new LogRepository(h).payload(k, sequence));
        }

        private List<LogRepository.Group> groups(String account) {
            return store.read(h -> new LogRepository(h).groups(account, "us-east-1"));
        }

        private boolean exists(String account, String region, String group) {
            return store.read(h -> new LogRepository(h).groupExists(account, region, group));
        }

        @Test
        void aStreamStartsEmptyAndItsNameIsUnique() {
            StreamKey k = key(MGMT, GROUP, "job-a/algo-1-1700000000");
            create(k, 0);
            Stream s = stream(k).orElseThrow();
            assertThat(s.createdAt()).isEqualTo(T.plusSeconds(0).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            assertThat(s.firstEventAt()).isEmpty();
            assertThat(s.lastIngestedAt()).isEmpty();
            assertThat(s.storedBytes()).isZero();
            assertThat(s.truncated()).isFalse();
            assertThat(s.nextSequence()).isZero();
            assertThatThrownBy(() -> create(k, 1)).isInstanceOfSatisfying(DuplicateKeyException.class,
                    e -> assertThat(e.constraint()).isEqualTo(LogRepository.STREAM_NAME));
        }

        @Test
        void groupsAreTheAccountsStreamsGroupedByNameInByteOrder() {
            store.useTransaction(h -> new AccountRepository(h).insertAccount(account(OTHER, "other@example.com")));
            create(key(MGMT, GROUP, "b"), 5);
            create(key(MGMT, GROUP, "a"), 3);
            create(key(MGMT, "/aws/sagemaker/ProcessingJobs", "p"), 9);
            create(key(OTHER, "/aws/sagemaker/Other", "x"), 1);
            List<LogRepository.Group> groups = groups(MGMT);
            assertThat(groups).extracting(LogRepository.Group::name).containsExactly("/aws/sagemaker/ProcessingJobs", GROUP);
            assertThat(groups.get(1).createdAt()).isEqualTo(T.plusSeconds(3).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            assertThat(store.read(h -> new LogRepository(h).streams(MGMT, "us-east-1", GROUP)).stream().map(s -> s.key().stream()).toList())
                    .containsExactly("a", "b");
            assertThat(exists(OTHER, "us-east-1", GROUP)).isFalse();
            assertThat(exists(MGMT, "eu-west-1", GROUP)).isFalse();
            assertThat(groups(OTHER)).extracting(LogRepository.Group::name)
                    .containsExactly("/aws/sagemaker/Other");
        }

        @Test
        void appendedChunksAreReadBackInSequenceWithTheStreamsNewState() {
            StreamKey k = key(MGMT, GROUP, "job");
            create(k, 0);
            Chunk c0 = new Chunk(new ChunkInfo(0, T, T.plusSeconds(1), 2, T.plusSeconds(2)), new byte[] {1, 2, 3});
            Chunk c1 = new Chunk(new ChunkInfo(1, T.plusSeconds(1), T.plusSeconds(4), 1, T.plusSeconds(5)), new byte[] {4});
            Stream updated = new Stream(k, T, Optional.of(T), Optional.of(T.plusSeconds(4)), Optional.of(T.plusSeconds(5)), 99, true, 2);
            store.useTransaction(h -> new LogRepository(h).append(updated, List.of(c0, c1)));
            Stream s = stream(k).orElseThrow();
            assertThat(s.lastEventAt()).contains(T.plusSeconds(4));
            assertThat(s.storedBytes()).isEqualTo(99);
            assertThat(s.truncated()).isTrue();
            assertThat(s.nextSequence()).isEqualTo(2);
            assertThat(chunks(k)).containsExactly(c0.info(), c1.info());
            assertThat(payload(k, 1)).hasValueSatisfying(p -> assertThat(p).containsExactly(4));
            assertThat(payload(key(MGMT, GROUP, "other"), 1)).isEmpty();
        }

        @Test
        void appendingToAMissingStreamChangesNothing() {
            StreamKey k = key(MGMT, GROUP, "missing");
            Stream updated = new Stream(k, T, Optional.of(T), Optional.of(T), Optional.of(T), 1, false, 1);
            assertThatThrownBy(() -> store.useTransaction(h -> new LogRepository(h).append(updated,
                    List.of(new Chunk(new ChunkInfo(0, T, T, 1, T), new byte[] {1}))))).isInstanceOf(RuntimeException.class);
            assertThat(chunks(k)).isEmpty();
        }
    }
}
