package dev.citadel.metadata.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.s3.S3Repository.Bucket;
import dev.citadel.metadata.s3.S3Repository.Encryption;
import dev.citadel.metadata.s3.S3Repository.S3Object;
import dev.citadel.metadata.s3.S3Repository.StoredPart;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** S3 versions (V11) on both dialects: latest version, delete markers, parts, and concurrent writers of one key. */
class S3RepositoryTest {
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
        static final Encryption SSE_S3 = new Encryption("arn:aws:kms:us-east-1:" + MGMT + ":key/k", "AES256", false);

        static S3Object version(String key, String versionId, String blob) {
            return new S3Object("models", key, versionId, blob, 3, "etag", "sha", "binary/octet-stream", "{}", "{}", SSE_S3, Optional.empty(), T);
        }

        private void bucket() {
            store.useTransaction(h -> new S3Repository(h).insertBucket(new Bucket("models", MGMT, "us-east-1", T)));
        }

        @Test
        void versionsMarkersAndTheLatestOne() {
            bucket();
            store.useTransaction(h -> {
                S3Repository repo = new S3Repository(h);
                assertThat(repo.putVersion(version("a", "v1", "b1"))).isEmpty();
                assertThat(repo.putVersion(version("a", "v2", "b2"))).isEmpty();
                repo.putVersion(S3Object.deleteMarker("models", "a", "m1", T));
            });
            assertThat(store.<Optional<S3Object>>read(h -> new S3Repository(h).object("models", "a"))).isEmpty();
            assertThat(store.<Optional<S3Object>>read(h -> new S3Repository(h).latest("models", "a")).orElseThrow().deleteMarker()).isTrue();
            List<S3Repository.ListedVersion> listed = store.read(h -> new S3Repository(h).listVersions("models", "", "", 0, 10));
            assertThat(listed).extracting(v -> v.version().versionId()).containsExactly("m1", "v2", "v1");
            Optional<S3Object> removed = store.inTransaction(h -> new S3Repository(h).deleteVersion("models", "a", "m1"));
            assertThat(removed.orElseThrow().deleteMarker()).isTrue();
            assertThat(store.<Optional<S3Object>>read(h -> new S3Repository(h).object("models", "a")).orElseThrow().versionId()).isEqualTo("v2");
            assertThat(store.<List<String>>read(h -> new S3Repository(h).blobIds())).containsExactlyInAnyOrder("b1", "b2");
        }

        @Test
        void theNullVersionIsReplacedAndAMultipartObjectKeepsItsParts() {
            bucket();
            S3Object multipart = new S3Object("models", "big", "null", false, null, 10, "e-2", "", "binary/octet-stream", "{}", "{}", SSE_S3,
                    Optional.empty(), T, true, List.of(new StoredPart("u1", 1, "p1", 6), new StoredPart("u1", 2, "p2", 4)));
            store.useTransaction(h -> new S3Repository(h).putVersion(version("big", "null", "old")));
            List<String> replaced = store.inTransaction(h -> new S3Repository(h).putVersion(multipart));
            assertThat(replaced).containsExactly("old");
            S3Object read = store.<Optional<S3Object>>read(h -> new S3Repository(h).object("models", "big")).orElseThrow();
            assertThat(read.parts()).extracting(StoredPart::blobId).containsExactly("p1", "p2");
            assertThat(read.blobIds()).containsExactly("p1", "p2");
            assertThat(store.<List<String>>read(h -> new S3Repository(h).blobIds())).containsExactlyInAnyOrder("p1", "p2");
            List<String> replacedParts = store.inTransaction(h -> new S3Repository(h).putVersion(version("big", "null", "small")));
            assertThat(replacedParts).containsExactly("p1", "p2");
        }

        @Test
        void concurrentWritersOfOneKeyLeaveOneLatestVersion() throws Exception {
            bucket();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> replaced = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int n = 0; n < 10; n++) {
                        int i = n;
                        try {
                            // half versioned writes, half null-version writes of the same key
                            String versionId = (id % 2 == 0) ? "v" + id + "-" + i : "null";
                            replaced.addAll(store.inTransaction(h -> new S3Repository(h).putVersion(version("hot", versionId, "b" + id + "-" + i))));
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(failures).isEmpty();
            List<S3Repository.ListedVersion> all = store.read(h -> new S3Repository(h).listVersions("models", "hot", "", 0, 1000));
            assertThat(all.stream().filter(v -> v.version().latest()).count()).isEqualTo(1);
            assertThat(all.stream().map(S3Repository.ListedVersion::seq).distinct().count()).isEqualTo(all.size());
            assertThat(all.stream().filter(v -> v.version().versionId().equals("null")).count()).isEqualTo(1);
            // every write is either still a version or was reported as replaced: no blob is lost track of
            assertThat(all.size() + replaced.size()).isEqualTo(80);
        }
    }
}
