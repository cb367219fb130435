package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where S3 object contents (sealed blobs) live: {@link Local}, a directory under the data
 * directory (the embedded default), or {@link Remote}, objects in a bucket of any S3-compatible
 * service reached over TLS, for several nodes sharing one store.
 */
public sealed interface BlobStoreConfig {
    /** {@code <data-dir>/objects}. */
    record Local() implements BlobStoreConfig {
    }

    /**
     * A bucket of an S3-compatible service (path-style requests to {@code endpoint}), blobs under
     * {@code prefix}, signed with a static access key; {@code caFile} names the certificates to
     * trust instead of the JVM's default ones.
     */
    record Remote(URI endpoint, String bucket, String prefix, String region, String accessKeyId, SecretBytes secretAccessKey,
            Optional<Path> caFile) implements BlobStoreConfig {
        private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
        private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9!_.*'()/-]{0,512}");
        private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Za-z0-9]{3,128}");

        public Remote {
            requireNonNull(endpoint, "endpoint is null");
            requireNonNull(bucket, "bucket is null");
            requireNonNull(prefix, "prefix is null");
            requireNonNull(region, "region is null");
            requireNonNull(accessKeyId, "accessKeyId is null");
            requireNonNull(secretAccessKey, "secretAccessKey is null");
            requireNonNull(caFile, "caFile is null");
            if (!"https".equals(endpoint.getScheme()) || endpoint.getHost() == null
                    || !(endpoint.getRawPath() == null || endpoint.getRawPath().isEmpty() || endpoint.getRawPath().equals("/"))
                    || endpoint.getRawQuery() != null || endpoint.getRawUserInfo() != null) {
                throw new ConfigException("s3.remote.endpoint must be an https:// URL with a host and no path, got '" + endpoint + "'");
            }
            if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
                throw new ConfigException("s3.remote.bucket must be a bucket name (3 to 63 lower-case letters, digits, '.' or '-'), got '"
                        + bucket + "'");
            }
            if (!PREFIX.matcher(prefix).matches() || prefix.startsWith("/") || prefix.contains("//")) {
                throw new ConfigException("s3.remote.prefix must be up to 512 letters, digits or !_.*'()/- without a leading '/' or '//', got '"
                        + prefix + "'");
            }
            if (!region.matches("[a-z]{2}(-[a-z]+)+-\\d{1,2}")) {
                throw new ConfigException("s3.remote.region must look like us-east-1, got '" + region + "'");
            }
            if (!ACCESS_KEY_ID.matcher(accessKeyId).matches()) {
                throw new ConfigException("s3.remote.access-key-id must be 3 to 128 letters or digits");
            }
            if (secretAccessKey.length() == 0) {
                throw new ConfigException("s3.remote.secret-access-key-file holds an empty secret");
            }
        }
    }

    /** Reads the {@code s3.*} keys; the remote ones are refused unless {@code s3.blob-store} is {@code remote}. */
    static BlobStoreConfig from(Settings s) {
        String kind = s.get(ConfigKey.S3_BLOB_STORE);
        List<ConfigKey> remoteKeys = List.of(ConfigKey.S3_REMOTE_ENDPOINT, ConfigKey.S3_REMOTE_BUCKET, ConfigKey.S3_REMOTE_PREFIX,
                ConfigKey.S3_REMOTE_REGION, ConfigKey.S3_REMOTE_ACCESS_KEY_ID, ConfigKey.S3_REMOTE_SECRET_ACCESS_KEY_FILE,
                ConfigKey.S3_REMOTE_CA_FILE);
        switch (kind) {
            case "local" -> {
                for (ConfigKey k : remoteKeys) {
                    if (!s.get(k).equals(k.defaultValue())) {
                        throw new ConfigException(k.key() + " is set but s3.blob-store is local; set s3.blob-store = remote to use it");
                    }
                }
                return new Local();
            }
            case "remote" -> {
                for (ConfigKey k : List.of(ConfigKey.S3_REMOTE_ENDPOINT, ConfigKey.S3_REMOTE_BUCKET, ConfigKey.S3_REMOTE_ACCESS_KEY_ID,
                        ConfigKey.S3_REMOTE_SECRET_ACCESS_KEY_FILE)) {
                    if (s.get(k).isBlank()) {
                        throw new ConfigException(k.key() + " is required when s3.blob-store is remote");
                    }
                }
                URI endpoint;
                try {
                    endpoint = URI.create(s.get(ConfigKey.S3_REMOTE_ENDPOINT));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("s3.remote.endpoint is not a URL: '" + s.get(ConfigKey.S3_REMOTE_ENDPOINT) + "'");
                }
                String region = s.get(ConfigKey.S3_REMOTE_REGION).isEmpty() ? s.get(ConfigKey.REGION) : s.get(ConfigKey.S3_REMOTE_REGION);
                String caFile = s.get(ConfigKey.S3_REMOTE_CA_FILE);
                return new Remote(endpoint, s.get(ConfigKey.S3_REMOTE_BUCKET), s.get(ConfigKey.S3_REMOTE_PREFIX), region,
                        s.get(ConfigKey.S3_REMOTE_ACCESS_KEY_ID), secret(Path.of(s.get(ConfigKey.S3_REMOTE_SECRET_ACCESS_KEY_FILE))),
                        caFile.isEmpty() ? Optional.empty() : Optional.of(Path.of(caFile).toAbsolutePath()));
            }
            default -> throw new ConfigException("s3.blob-store must be local or remote, got '" + kind + "'");
        }
    }

    /** The first line of the secret file, which only its owner may read; an error names the file, never its content. */
    private static SecretBytes secret(Path file) {
        try {
            dev.citadel.server.fs.SecureFiles.requireOwnerOnly(file);
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            throw new ConfigException("s3.remote.secret-access-key-file: " + e.getMessage());
        }
        try {
            List<String> lines = Files.readAllLines(file.toAbsolutePath());
            return SecretBytes.ofUtf8(lines.isEmpty() ? "" : lines.getFirst().strip());
        } catch (IOException e) {
            throw new ConfigException("cannot read s3.remote.secret-access-key-file " + file + " (" + e.getClass().getSimpleName() + ")");
        }
    }
}
