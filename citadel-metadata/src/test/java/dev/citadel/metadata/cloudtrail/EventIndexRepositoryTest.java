package dev.citadel.metadata.cloudtrail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.cloudtrail.EventIndexRepository.IndexedEvent;
import dev.citadel.metadata.cloudtrail.EventIndexRepository.Query;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The event history index (V13) on both dialects: lookups by attribute and whole resource parts, time ranges, paging, offsets. */
class EventIndexRepositoryTest {
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
        static IndexedEvent event(String id, int second, String name, String resources) {
            return new IndexedEvent(id, MGMT, T.plusSeconds(second), name, "s3.amazonaws.com", "alice", "AKIA", false, resources, "{}");
        }

        private List<String> ids(Query q) {
            return store.<List<IndexedEvent>>read(h -> new EventIndexRepository(h).lookup(q)).stream().map(IndexedEvent::eventId).toList();
        }

        @Test
        void lookupsMatchWholeResourcePartsNewestFirstAndPage() {
            store.useTransaction(h -> {
                EventIndexRepository repo = new EventIndexRepository(h);
                repo.add(event("e1", 1, "CreateBucket", "\nAWS::S3::Bucket arn:aws:s3:::abc\n"));
                repo.add(event("e2", 2, "CreateBucket", "\nAWS::S3::Bucket arn:aws:s3:::a\n"));
                repo.add(event("e3", 3, "DeleteBucket", "\nAWS::S3::Bucket arn:aws:s3:::a_c\n"));
                repo.add(event("e3", 3, "DeleteBucket", "\n")); // the same id again: ignored
                repo.setOffset(42);
            });
            assertThat(store.<Long>read(h -> new EventIndexRepository(h).offset())).isEqualTo(42);
            Query all = new Query(MGMT, Optional.empty(), "", T, T.plusSeconds(60), Optional.empty(), "", 10);
            assertThat(ids(all)).containsExactly("e3", "e2", "e1");
            assertThat(ids(new Query(MGMT, Optional.of("resource_name"), "arn:aws:s3:::a", T, T.plusSeconds(60), Optional.empty(), "", 10)))
                    .containsExactly("e2");
            assertThat(ids(new Query(MGMT, Optional.of("resource_name"), "arn:aws:s3:::a_c", T, T.plusSeconds(60), Optional.empty(), "", 10)))
                    .containsExactly("e3");
            assertThat(ids(new Query(MGMT, Optional.of("resource_type"), "AWS::S3::Bucket", T, T.plusSeconds(60), Optional.empty(), "", 10)))
                    .hasSize(3);
            assertThat(ids(new Query(MGMT, Optional.of("event_name"), "CreateBucket", T, T.plusSeconds(60), Optional.of(T.plusSeconds(2)), "e2", 10)))
                    .containsExactly("e1");
            assertThat(ids(new Query(MGMT, Optional.empty(), "", T.plusSeconds(2), T.plusSeconds(2), Optional.empty(), "", 10))).containsExactly("e2");
            assertThat(ids(new Query("222222222222", Optional.empty(), "", T, T.plusSeconds(60), Optional.empty(), "", 10))).isEmpty();
        }
    }
}
