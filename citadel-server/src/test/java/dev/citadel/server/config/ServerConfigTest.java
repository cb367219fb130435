package dev.citadel.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreTheEmbeddedOnes() {
        ServerConfig c = ServerConfig.from(Settings.defaults());
        assertThat(c.listen().getHostString()).isEqualTo("127.0.0.1");
        assertThat(c.listen().getPort()).isEqualTo(8443);
        assertThat(c.dataDir()).isEqualTo(Path.of("citadel-data").toAbsolutePath());
        assertThat(c.region()).isEqualTo("us-east-1");
        assertThat(c.publicEndpoint().toString()).isEqualTo("https://localhost:8443");
        assertThat(c.maxClockSkew()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.http().maxHeaderBytes()).isEqualTo(16384);
        assertThat(c.http().idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.tls().operatorSupplied()).isFalse();
        assertThat(c.metadata().jdbcUrl()).startsWith("jdbc:sqlite:").contains("citadel-data");
        assertThat(c.auditLog()).isEqualTo(c.dataDir().resolve("audit/events.jsonl"));
    }

    @Test
    void everyKeyMapsFromTheFile() throws Exception {
        Path file = dir.resolve("citadel.conf");
        Files.writeString(file, """
                # a comment
                listen = 0.0.0.0:9443
                region = eu-west-2
                public-endpoint = https://citadel.example.com:9443
                tls.hostnames = citadel.example.com, 10.0.0.5
                http.max-header-bytes = 8192
                http.max-body-bytes = 1048576
                http.idle-timeout = 45s
                http.max-connections = 50
                http.max-threads = 64
                auth.max-clock-skew = 5m
                metadata.max-pool-size = 4
                bootstrap.admin-email = ops@example.com
                bootstrap.admin-user = operator
                """);
        ServerConfig c = ServerConfig.from(Settings.defaults().withFile(file));
        assertThat(c.listen().getPort()).isEqualTo(9443);
        assertThat(c.region()).isEqualTo("eu-west-2");
        assertThat(c.publicEndpoint().getHost()).isEqualTo("citadel.example.com");
        assertThat(c.tls().hostnames()).containsExactly("citadel.example.com", "10.0.0.5");
        assertThat(c.http()).isEqualTo(new HttpLimits(8192, 1048576, Duration.ofSeconds(45), 50, 64));
        assertThat(c.maxClockSkew()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.metadata().maxPoolSize()).isEqualTo(4);
        assertThat(c.adminEmail()).isEqualTo("ops@example.com");
        assertThat(c.adminUser()).isEqualTo("operator");
    }

    @Test
    void commandLineOverridesWinOverTheFile() throws Exception {
        Path file = dir.resolve("citadel.conf");
        Files.writeString(file, "region = eu-west-2\n");
        ServerConfig c = ServerConfig.from(Settings.defaults().withFile(file).with("region=ap-south-1"));
        assertThat(c.region()).isEqualTo("ap-south-1");
    }

    @Test
    void unknownKeyIsRefusedWithASuggestionAndLineNumber() throws Exception {
        Path file = dir.resolve("citadel.conf");
        Files.writeString(file, "\nregoin = us-east-1\n");
        assertThatThrownBy(() -> Settings.defaults().withFile(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("citadel.conf:2")
                .hasMessageContaining("unknown setting 'regoin'")
                .hasMessageContaining("did you mean 'region'");
    }

    @Test
    void keySetTwiceIsRefused() throws Exception {
        Path file = dir.resolve("citadel.conf");
        Files.writeString(file, "region = us-east-1\nregion = eu-west-1\n");
        assertThatThrownBy(() -> Settings.defaults().withFile(file)).hasMessageContaining("'region' is set twice");
    }

    @Test
    void lineWithoutEqualsIsRefused() throws Exception {
        Path file = dir.resolve("citadel.conf");
        Files.writeString(file, "listen 127.0.0.1:8443\n");
        assertThatThrownBy(() -> Settings.defaults().withFile(file)).hasMessageContaining("expected 'key = value'");
    }

    @Test
    void badValuesNameTheirKey() {
        assertRefused("listen=localhost", "listen must be host:port");
        assertRefused("listen=127.0.0.1:70000", "listen port must be between 0 and 65535");
        assertRefused("region=mars", "region must look like us-east-1");
        assertRefused("audit.sensitive-data=maybe", "audit.sensitive-data must be warn, refuse or off");
        assertRefused("http.max-header-bytes=12", "http.max-header-bytes must be between");
        assertRefused("http.idle-timeout=30", "http.idle-timeout must be a duration");
        assertRefused("http.idle-timeout=2d", "http.idle-timeout must be a duration");
        assertRefused("auth.max-clock-skew=2h", "auth.max-clock-skew must be between");
        assertRefused("public-endpoint=http://plain.example.com", "public-endpoint must be an https:// URL");
        assertRefused("metadata.url=jdbc:mysql://x", "metadata.url must start with");
        assertRefused("bootstrap.admin-user=no spaces", "bootstrap.admin-user must be a valid IAM user name");
        assertRefused("tls.certificate=/tmp/x.pem", "tls.certificate and tls.private-key must be given together");
    }

    @Test
    void dataCaptureSettingsHaveDefaultsMapAndAreBounded() {
        ServerConfig.JobSettings defaults = ServerConfig.from(Settings.defaults()).jobs();
        assertThat(defaults.captureFlush()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.captureBufferBytes()).isEqualTo(64L << 20);
        ServerConfig.JobSettings set = ServerConfig.from(Settings.defaults().with("endpoints.capture-flush=2s")
                .with("endpoints.capture-buffer-bytes=1048576")).jobs();
        assertThat(set.captureFlush()).isEqualTo(Duration.ofSeconds(2));
        assertThat(set.captureBufferBytes()).isEqualTo(1L << 20);
        assertRefused("endpoints.capture-flush=0s", "endpoints.capture-flush must be between");
        assertRefused("endpoints.capture-flush=1h", "endpoints.capture-flush must be between");
        assertRefused("endpoints.capture-buffer-bytes=1000", "endpoints.capture-buffer-bytes must be between");
    }

    @Test
    void theBlobStoreIsLocalByDefault() {
        assertThat(ServerConfig.from(Settings.defaults()).blobStore()).isEqualTo(new BlobStoreConfig.Local());
    }

    @Test
    void everyRemoteBlobStoreKeyMaps() throws Exception {
        Path secret = ownerOnlySecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        Path ca = dir.resolve("ca.pem");
        ServerConfig c = ServerConfig.from(Settings.defaults()
                .with("s3.blob-store=remote")
                .with("s3.remote.endpoint=https://objects.internal:9000")
                .with("s3.remote.bucket=citadel-blobs")
                .with("s3.remote.prefix=prod/")
                .with("s3.remote.region=eu-west-1")
                .with("s3.remote.access-key-id=AKIAEXAMPLEEXAMPLE12")
                .with("s3.remote.secret-access-key-file=" + secret)
                .with("s3.remote.ca-file=" + ca));
        BlobStoreConfig.Remote r = (BlobStoreConfig.Remote) c.blobStore();
        assertThat(r.endpoint()).isEqualTo(java.net.URI.create("https://objects.internal:9000"));
        assertThat(r.bucket()).isEqualTo("citadel-blobs");
        assertThat(r.prefix()).isEqualTo("prod/");
        assertThat(r.region()).isEqualTo("eu-west-1");
        assertThat(r.accessKeyId()).isEqualTo("AKIAEXAMPLEEXAMPLE12");
        assertThat(r.secretAccessKey().revealUtf8()).isEqualTo("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assertThat(r.caFile()).contains(ca);
        assertThat(r.toString()).doesNotContain("wJalrXUtnFEMI");
    }

    @Test
    void theRemoteBlobStoreDefaultsToCitadelsRegionThePrefixBlobsAndTheJvmTrust() throws Exception {
        Path secret = ownerOnlySecret("secret\n");
        ServerConfig c = ServerConfig.from(remote(secret).with("region=ap-south-1"));
        BlobStoreConfig.Remote r = (BlobStoreConfig.Remote) c.blobStore();
        assertThat(r.region()).isEqualTo("ap-south-1");
        assertThat(r.prefix()).isEqualTo("blobs/");
        assertThat(r.caFile()).isEmpty();
    }

    @Test
    void badRemoteBlobStoreValuesNameTheirKey() throws Exception {
        Path secret = ownerOnlySecret("secret\n");
        assertRefused(remote(secret).with("s3.blob-store=nfs"), "s3.blob-store must be local or remote");
        assertRefused(Settings.defaults().with("s3.remote.bucket=b"), "s3.remote.bucket is set but s3.blob-store is local");
        assertRefused(remote(secret).with("s3.remote.endpoint="), "s3.remote.endpoint is required");
        assertRefused(remote(secret).with("s3.remote.access-key-id="), "s3.remote.access-key-id is required");
        assertRefused(remote(secret).with("s3.remote.secret-access-key-file="), "s3.remote.secret-access-key-file is required");
        assertRefused(remote(secret).with("s3.remote.endpoint=http://objects.internal"), "s3.remote.endpoint must be an https:// URL");
        assertRefused(remote(secret).with("s3.remote.endpoint=https://objects.internal/bucket"), "s3.remote.endpoint must be an https:// URL");
        assertRefused(remote(secret).with("s3.remote.bucket=Upper_Case"), "s3.remote.bucket must be a bucket name");
        assertRefused(remote(secret).with("s3.remote.prefix=/abs"), "s3.remote.prefix must be");
        assertRefused(remote(secret).with("s3.remote.region=mars"), "s3.remote.region must look like us-east-1");
        assertRefused(remote(secret).with("s3.remote.access-key-id=AK IA"), "s3.remote.access-key-id must be");
        assertRefused(remote(secret).with("s3.remote.secret-access-key-file=" + dir.resolve("missing")),
                "s3.remote.secret-access-key-file");
        Path readable = dir.resolve("readable.secret");
        Files.writeString(readable, "do-not-print-me\n");
        Files.setPosixFilePermissions(readable, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ServerConfig.from(remote(secret).with("s3.remote.secret-access-key-file=" + readable)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("chmod 600").hasMessageNotContaining("do-not-print-me");
        Path empty = ownerOnlySecret("\n");
        assertRefused(remote(empty), "holds an empty secret");
    }

    private Settings remote(Path secret) {
        return Settings.defaults().with("s3.blob-store=remote").with("s3.remote.endpoint=https://objects.internal")
                .with("s3.remote.bucket=citadel-blobs").with("s3.remote.access-key-id=AKIAEXAMPLEEXAMPLE12")
                .with("s3.remote.secret-access-key-file=" + secret);
    }

    private Path ownerOnlySecret(String content) throws Exception {
        Path file = Files.createTempFile(dir, "secret", ".txt");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.writeString(file, content);
        return file;
    }

    private static void assertRefused(Settings settings, String message) {
        assertThatThrownBy(() -> ServerConfig.from(settings)).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }

    @Test
    void theOperatorListenerIsOnLoopbackWithoutTokenAndTheLogIsTextByDefault() {
        ServerConfig c = ServerConfig.from(Settings.defaults());
        assertThat(c.operator().listen()).hasValueSatisfying(a -> {
            assertThat(a.getHostString()).isEqualTo("127.0.0.1");
            assertThat(a.getPort()).isEqualTo(9464);
        });
        assertThat(c.operator().loopback()).isTrue();
        assertThat(c.operator().tls()).isFalse();
        assertThat(c.operator().token()).isEmpty();
        assertThat(c.logFormat()).isEqualTo(ServerConfig.LogFormat.TEXT);
    }

    @Test
    void everyOperatorAndLogKeyMaps() throws Exception {
        Path token = ownerOnlySecret("0123456789abcdef0123456789abcdef\n");
        ServerConfig c = ServerConfig.from(Settings.defaults().with("operator.listen=10.1.2.3:9100").with("operator.token-file=" + token)
                .with("log.format=json"));
        assertThat(c.operator().listen().orElseThrow().getHostString()).isEqualTo("10.1.2.3");
        assertThat(c.operator().listen().orElseThrow().getPort()).isEqualTo(9100);
        assertThat(c.operator().loopback()).isFalse();
        assertThat(c.operator().tls()).isTrue();
        assertThat(c.operator().token().orElseThrow().revealUtf8()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(c.operator().toString()).doesNotContain("0123456789abcdef");
        assertThat(c.logFormat()).isEqualTo(ServerConfig.LogFormat.JSON);
        assertThat(ServerConfig.from(Settings.defaults().with("operator.listen=")).operator().listen()).isEmpty();
        assertThat(ServerConfig.from(Settings.defaults().with("operator.listen=[::1]:9464")).operator().loopback()).isTrue();
        assertThat(ServerConfig.from(Settings.defaults().with("operator.listen=localhost:9464")).operator().loopback()).isTrue();
        assertThat(ServerConfig.from(Settings.defaults().with("operator.listen=127.0.0.2:9464")).operator().loopback()).isTrue();
    }

    @Test
    void anOperatorListenerOffLoopbackNeedsAGoodToken() throws Exception {
        assertRefused("operator.listen=0.0.0.0:9464", "is not a loopback address");
        assertRefused("operator.listen=10.1.2.3:9464", "set operator.token-file");
        assertRefused("operator.listen=[::]:9464", "is not a loopback address");
        assertRefused("operator.listen=metrics.internal:9464", "is not a loopback address");
        assertRefused("operator.listen=nowhere", "operator.listen must be host:port");
        assertRefused("operator.listen=127.0.0.1:8443", "operator.listen must not use the port of listen");
        assertRefused("log.format=xml", "log.format must be text or json");
        Path token = ownerOnlySecret("0123456789abcdef0123456789abcdef\n");
        assertRefused(Settings.defaults().with("operator.listen=").with("operator.token-file=" + token),
                "operator.token-file is set but operator.listen is empty");
        Path shortToken = ownerOnlySecret("short\n");
        assertRefused(Settings.defaults().with("operator.listen=10.1.2.3:9464").with("operator.token-file=" + shortToken),
                "must hold a token of 32 to 512 characters");
        Path readable = dir.resolve("readable.token");
        Files.writeString(readable, "0123456789abcdef0123456789abcdef-do-not-print\n");
        Files.setPosixFilePermissions(readable, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ServerConfig.from(Settings.defaults().with("operator.listen=10.1.2.3:9464")
                .with("operator.token-file=" + readable)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("chmod 600").hasMessageNotContaining("do-not-print");
    }

    @Test
    void setWithoutEqualsIsRefused() {
        assertThatThrownBy(() -> Settings.defaults().with("region")).hasMessageContaining("--set expects KEY=VALUE");
    }

    @Test
    void everyKeyIsDocumentedInConfigurationMarkdown() throws Exception {
        Path doc = Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize().resolve("docs/CONFIGURATION.md");
        String text = Files.readString(doc);
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(text).as("docs/CONFIGURATION.md documents %s", key.key()).contains("`" + key.key() + "`");
        }
    }

    private static void assertRefused(String assignment, String message) {
        assertThatThrownBy(() -> ServerConfig.from(Settings.defaults().with(assignment)))
                .as(assignment).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }
}
