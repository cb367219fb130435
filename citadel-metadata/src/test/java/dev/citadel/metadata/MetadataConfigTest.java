package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataConfigTest {
    private static final SecretBytes NONE = SecretBytes.copyOf(new byte[0]);
    private static final SecretBytes HUNTER2 = SecretBytes.ofUtf8("hunter2");

    @TempDir
    Path dir;

    @Test
    void embeddedIsSqliteInTheMetadataDirectoryWithDefaults() {
        MetadataConfig c = MetadataConfig.embedded(dir);
        assertThat(c.jdbcUrl()).isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath() + "/metadata/citadel.db");
        assertThat(c.sqliteFile()).isEqualTo(dir.toAbsolutePath().resolve("metadata/citadel.db"));
        assertThat(c.dialect()).isEqualTo(Dialect.SQLITE);
        assertThat(c.user()).isEmpty();
        assertThat(c.password().length()).isZero();
        assertThat(c.maxPoolSize()).isEqualTo(MetadataConfig.DEFAULT_MAX_POOL_SIZE).isEqualTo(8);
    }

    @Test
    void embeddedCreatesNothingUntilTheStoreOpens() {
        MetadataConfig.embedded(dir);
        assertThat(dir.resolve("metadata")).doesNotExist();
    }

    @Test
    void postgresConfigMapsEveryField() {
        MetadataConfig c = new MetadataConfig("jdbc:postgresql://db.example.com:5432/citadel", "citadel", HUNTER2, 32);
        assertThat(c.dialect()).isEqualTo(Dialect.POSTGRESQL);
        assertThat(c.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:5432/citadel");
        assertThat(c.user()).isEqualTo("citadel");
        assertThat(c.password().revealUtf8()).isEqualTo("hunter2");
        assertThat(c.maxPoolSize()).isEqualTo(32);
    }

    @Test
    void postgresUserMayComeFromTheUrl() {
        assertThat(new MetadataConfig("jdbc:postgresql://db/citadel?user=citadel", "", NONE, 4).user()).isEmpty();
    }

    @Test
    void dialectIsDetectedFromTheUrlPrefix() {
        assertThat(Dialect.of("jdbc:sqlite:/x.db")).isEqualTo(Dialect.SQLITE);
        assertThat(Dialect.of("jdbc:postgresql://h/db")).isEqualTo(Dialect.POSTGRESQL);
    }

    @Test
    void otherDatabasesAreRefusedWithoutEchoingTheUrl() {
        assertThatThrownBy(() -> new MetadataConfig("jdbc:mysql://h/db?password=hunter2", "", NONE, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("metadata URL must start with jdbc:sqlite: or jdbc:postgresql:, got 'jdbc:mysql:…'");
    }

    @Test
    void sqliteUrlMustNameAFileAndNothingElse() {
        for (String url : new String[] {"jdbc:sqlite:", "jdbc:sqlite::memory:", "jdbc:sqlite:/x.db?journal_mode=DELETE", "jdbc:sqlite:file:/x.db"}) {
            assertThatThrownBy(() -> new MetadataConfig(url, "", NONE, 4)).as(url)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("a jdbc:sqlite: URL must name a database file and nothing else");
        }
    }

    @Test
    void sqliteRefusesUserAndPassword() {
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", "citadel", NONE, 4))
                .hasMessage("a metadata user and password apply only to PostgreSQL, not to SQLite");
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", "", HUNTER2, 4))
                .hasMessage("a metadata user and password apply only to PostgreSQL, not to SQLite");
    }

    @Test
    void postgresUrlMustNameItsServer() {
        assertThatThrownBy(() -> new MetadataConfig("jdbc:postgresql:citadel", "", NONE, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("a PostgreSQL URL must name its server");
    }

    @Test
    void poolSizeMustBeOneTo256() {
        assertThat(new MetadataConfig("jdbc:sqlite:/x.db", "", NONE, 1).maxPoolSize()).isEqualTo(1);
        assertThat(new MetadataConfig("jdbc:sqlite:/x.db", "", NONE, 256).maxPoolSize()).isEqualTo(256);
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", "", NONE, 0))
                .hasMessage("metadata pool size must be between 1 and 256, got 0");
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", "", NONE, 257))
                .hasMessage("metadata pool size must be between 1 and 256, got 257");
    }

    @Test
    void nullsAreRefusedByName() {
        assertThatThrownBy(() -> new MetadataConfig(null, "", NONE, 4)).isInstanceOf(NullPointerException.class).hasMessage("jdbcUrl is null");
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", null, NONE, 4)).hasMessage("user is null");
        assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:/x.db", "", null, 4)).hasMessage("password is null");
    }

    @Test
    void toStringHidesThePasswordAndAnyPasswordInTheUrl() {
        MetadataConfig c = new MetadataConfig("jdbc:postgresql://db/citadel?ssl=true&password=hunter2", "citadel", HUNTER2, 4);
        assertThat(c.toString())
                .isEqualTo("MetadataConfig[jdbcUrl=jdbc:postgresql://db/citadel?ssl=true&password=***, user=citadel, password=***, maxPoolSize=4]")
                .doesNotContain("hunter2");
        assertThat(MetadataConfig.embedded(dir).toString()).contains("password=(none)");
    }

    @Test
    void sqliteFileOfAPostgresConfigIsAnError() {
        MetadataConfig c = new MetadataConfig("jdbc:postgresql://db/citadel", "", NONE, 4);
        assertThatThrownBy(c::sqliteFile).isInstanceOf(IllegalStateException.class).hasMessage("not a SQLite store");
    }
}
