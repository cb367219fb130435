package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import dev.citadel.metadata.MetadataConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The validated configuration of one Citadel process, built from {@link Settings}. */
public record ServerConfig(
        InetSocketAddress listen,
        Path dataDir,
        String region,
        URI publicEndpoint,
        TlsConfig tls,
        HttpLimits http,
        Duration maxClockSkew,
        MetadataConfig metadata,
        String adminEmail,
        String adminUser,
        Path auditLog,
        List<PrivateEndpoint> privateEndpoints,
        RootKeyConfig rootKey,
        BlobStoreConfig blobStore,
        dev.citadel.pipeline.audit.SensitiveData.Mode sensitiveData,
        Trails trails,
        JobSettings jobs,
        OperatorConfig operator,
        LogFormat logFormat) {

    public ServerConfig {
        requireNonNull(listen, "listen is null");
        requireNonNull(dataDir, "dataDir is null");
        requireNonNull(region, "region is null");
        requireNonNull(publicEndpoint, "publicEndpoint is null");
        requireNonNull(tls, "tls is null");
        requireNonNull(http, "http is null");
        requireNonNull(maxClockSkew, "maxClockSkew is null");
        requireNonNull(metadata, "metadata is null");
        requireNonNull(adminEmail, "adminEmail is null");
        requireNonNull(adminUser, "adminUser is null");
        requireNonNull(auditLog, "auditLog is null");
        privateEndpoints = List.copyOf(privateEndpoints);
        requireNonNull(rootKey, "rootKey is null");
        requireNonNull(blobStore, "blobStore is null");
        requireNonNull(sensitiveData, "sensitiveData is null");
        requireNonNull(trails, "trails is null");
        requireNonNull(jobs, "jobs is null");
        requireNonNull(operator, "operator is null");
        requireNonNull(logFormat, "logFormat is null");
    }

    /** How Citadel's own log lines are written (log.format). */
    public enum LogFormat { TEXT, JSON }

    private static LogFormat logFormat(String value) {
        return switch (value) {
            case "text" -> LogFormat.TEXT;
            case "json" -> LogFormat.JSON;
            default -> throw new ConfigException("log.format must be text or json, got '" + value + "'");
        };
    }

    /**
     * Training and processing jobs: the sandbox they run in, how many at once, the instance types
     * offered (empty: the built-in table), the largest volume, and each container's limits.
     */
    public record JobSettings(String sandbox, int capacity, String instanceTypes, int maxVolumeGb, int pids, long outputLimit,
            Duration stopGrace, long imageCacheBytes, Kubernetes kubernetes, Duration invocationTimeout, Duration startupTimeout,
            int endpointVolumeGb, Duration captureFlush, long captureBufferBytes) {
        public JobSettings {
            requireNonNull(captureFlush, "captureFlush is null");
            requireNonNull(sandbox, "sandbox is null");
            requireNonNull(kubernetes, "kubernetes is null");
            requireNonNull(instanceTypes, "instanceTypes is null");
            requireNonNull(stopGrace, "stopGrace is null");
        }
    }

    /** The cluster of jobs.sandbox = kubernetes (empty strings: not set). */
    public record Kubernetes(String kubeconfig, String namespace, String serviceAccount, long runAsUser, String runtimeClass,
            String imagePullSecret, String stagerImage) {
    }

    private static JobSettings jobs(Settings s) {
        String sandbox = s.get(ConfigKey.JOBS_SANDBOX);
        if (!sandbox.equals("runc") && !sandbox.equals("kubernetes")) {
            throw new ConfigException("jobs.sandbox must be 'runc' or 'kubernetes', got '" + sandbox + "'");
        }
        String types = s.get(ConfigKey.JOBS_INSTANCE_TYPES);
        if (!types.isEmpty()) {
            try {
                dev.citadel.services.sagemaker.InstanceTypes.parse(types);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("jobs.instance-types: " + e.getMessage());
            }
        }
        String namespace = s.get(ConfigKey.JOBS_KUBERNETES_NAMESPACE);
        if (sandbox.equals("kubernetes") && !namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new ConfigException("jobs.kubernetes.namespace must name a namespace when jobs.sandbox = kubernetes, got '" + namespace + "'");
        }
        Kubernetes kubernetes = new Kubernetes(s.get(ConfigKey.JOBS_KUBERNETES_KUBECONFIG), namespace,
                s.get(ConfigKey.JOBS_KUBERNETES_SERVICE_ACCOUNT), s.getLong(ConfigKey.JOBS_KUBERNETES_RUN_AS_USER, 1, Integer.MAX_VALUE),
                s.get(ConfigKey.JOBS_KUBERNETES_RUNTIME_CLASS), s.get(ConfigKey.JOBS_KUBERNETES_IMAGE_PULL_SECRET),
                s.get(ConfigKey.JOBS_KUBERNETES_STAGER_IMAGE));
        return new JobSettings(sandbox, s.getInt(ConfigKey.JOBS_CAPACITY, 1, 1024), types, s.getInt(ConfigKey.JOBS_MAX_VOLUME_GB, 1, 16384),
                s.getInt(ConfigKey.JOBS_PIDS, 64, 1 << 20), s.getLong(ConfigKey.JOBS_OUTPUT_LIMIT, 4096, 1L << 32),
                s.getDuration(ConfigKey.JOBS_STOP_GRACE, Duration.ofSeconds(1), Duration.ofMinutes(30)),
                s.getLong(ConfigKey.JOBS_IMAGE_CACHE_BYTES, 0, Long.MAX_VALUE), kubernetes,
                s.getDuration(ConfigKey.ENDPOINTS_INVOCATION_TIMEOUT, Duration.ofSeconds(1), Duration.ofMinutes(60)),
                s.getDuration(ConfigKey.ENDPOINTS_STARTUP_TIMEOUT, Duration.ofSeconds(5), Duration.ofHours(1)),
                s.getInt(ConfigKey.ENDPOINTS_VOLUME_GB, 1, 16384),
                s.getDuration(ConfigKey.ENDPOINTS_CAPTURE_FLUSH, Duration.ofSeconds(1), Duration.ofMinutes(10)),
                s.getLong(ConfigKey.ENDPOINTS_CAPTURE_BUFFER_BYTES, 1L << 20, 1L << 40));
    }

    /**
     * CloudTrail delivery: how often log files and digests go out, and the operator trail (its name,
     * or "" for none, and its bucket, or "" for {@code citadel-audit-<management account>}).
     */
    public record Trails(Duration deliveryInterval, Duration digestInterval, String operatorTrail, String operatorBucket) {
        public Trails {
            requireNonNull(deliveryInterval, "deliveryInterval is null");
            requireNonNull(digestInterval, "digestInterval is null");
            requireNonNull(operatorTrail, "operatorTrail is null");
            requireNonNull(operatorBucket, "operatorBucket is null");
        }
    }

    private static Trails trails(Settings s) {
        String name = s.get(ConfigKey.AUDIT_OPERATOR_TRAIL);
        if (!name.isEmpty() && !name.matches("[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?![._-])){1,126}[A-Za-z0-9]")) {
            throw new ConfigException("audit.operator-trail must be a trail name (3 to 128 letters, digits, '.', '_' or '-'), got '" + name + "'");
        }
        String bucket = s.get(ConfigKey.AUDIT_OPERATOR_TRAIL_BUCKET);
        if (!bucket.isEmpty() && (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || bucket.contains(".."))) {
            throw new ConfigException("audit.operator-trail-bucket must be a bucket name, got '" + bucket + "'");
        }
        return new Trails(s.getDuration(ConfigKey.AUDIT_DELIVERY_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(1)),
                s.getDuration(ConfigKey.AUDIT_DIGEST_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(1)), name, bucket);
    }

    /** Where the root key lives: {@code file}, or {@code pkcs11} with the module, slot index, PIN file and key label. */
    public record RootKeyConfig(String provider, Path library, int slotIndex, Optional<Path> pinFile, String keyLabel) {
        public RootKeyConfig {
            requireNonNull(provider, "provider is null");
            requireNonNull(library, "library is null");
            requireNonNull(pinFile, "pinFile is null");
            requireNonNull(keyLabel, "keyLabel is null");
        }
    }

    private static RootKeyConfig rootKey(Settings s) {
        String provider = s.get(ConfigKey.ROOT_KEY_PROVIDER);
        if (!provider.equals("file") && !provider.equals("pkcs11")) {
            throw new ConfigException("root-key.provider must be file or pkcs11, got '" + provider + "'");
        }
        Optional<Path> pin = optionalPath(s.get(ConfigKey.ROOT_KEY_PKCS11_PIN_FILE));
        if (provider.equals("pkcs11") && pin.isEmpty()) {
            throw new ConfigException("root-key.pkcs11-pin-file is required when root-key.provider is pkcs11");
        }
        String label = s.get(ConfigKey.ROOT_KEY_PKCS11_KEY_LABEL);
        if (!label.matches("[\\w.-]{1,64}")) {
            throw new ConfigException("root-key.pkcs11-key-label must be 1 to 64 letters, digits, '.', '_' or '-', got '" + label + "'");
        }
        return new RootKeyConfig(provider, Path.of(s.get(ConfigKey.ROOT_KEY_PKCS11_LIBRARY)), s.getInt(ConfigKey.ROOT_KEY_PKCS11_SLOT_INDEX, 0, 1024),
                pin, label);
    }

    /** Validates every value; the first problem found is reported with the key that holds it. */
    public static ServerConfig from(Settings s) {
        InetSocketAddress listen = parseListen(s.get(ConfigKey.LISTEN));
        Path dataDir = Path.of(nonEmpty(s, ConfigKey.DATA_DIR)).toAbsolutePath().normalize();
        String region = s.get(ConfigKey.REGION);
        if (!region.matches("[a-z]{2}(-[a-z]+)+-\\d{1,2}")) {
            throw new ConfigException("region must look like us-east-1, got '" + region + "'");
        }
        TlsConfig tls = new TlsConfig(
                optionalPath(s.get(ConfigKey.TLS_CERTIFICATE)),
                optionalPath(s.get(ConfigKey.TLS_PRIVATE_KEY)),
                splitList(s.get(ConfigKey.TLS_HOSTNAMES)));
        HttpLimits http = new HttpLimits(
                s.getInt(ConfigKey.HTTP_MAX_HEADER_BYTES, 1024, 1 << 20),
                s.getLong(ConfigKey.HTTP_MAX_BODY_BYTES, 1, 5L << 30),
                s.getDuration(ConfigKey.HTTP_IDLE_TIMEOUT, Duration.ofSeconds(1), Duration.ofHours(1)),
                s.getInt(ConfigKey.HTTP_MAX_CONNECTIONS, 1, 100_000),
                s.getInt(ConfigKey.HTTP_MAX_THREADS, 8, 10_000));
        Duration skew = s.getDuration(ConfigKey.AUTH_MAX_CLOCK_SKEW, Duration.ofSeconds(1), Duration.ofHours(1));
        URI endpoint = publicEndpoint(s.get(ConfigKey.PUBLIC_ENDPOINT), listen);
        String email = s.get(ConfigKey.ADMIN_EMAIL);
        if (!email.matches("[^@\\s]{1,64}@[^@\\s]{1,255}")) {
            throw new ConfigException("bootstrap.admin-email must be an e-mail address, got '" + email + "'");
        }
        String adminUser = s.get(ConfigKey.ADMIN_USER);
        if (!adminUser.matches("[\\w+=,.@-]{1,64}")) {
            throw new ConfigException("bootstrap.admin-user must be a valid IAM user name, got '" + adminUser + "'");
        }
        String audit = s.get(ConfigKey.AUDIT_LOG);
        Path auditLog = audit.isEmpty() ? dataDir.resolve("audit").resolve("events.jsonl") : Path.of(audit).toAbsolutePath();
        return new ServerConfig(listen, dataDir, region, endpoint, tls, http, skew, metadata(s, dataDir),
                email, adminUser, auditLog, privateEndpoints(s), rootKey(s), BlobStoreConfig.from(s), sensitiveData(s.get(ConfigKey.AUDIT_SENSITIVE_DATA)),
                trails(s), jobs(s), OperatorConfig.from(s, listen), logFormat(s.get(ConfigKey.LOG_FORMAT)));
    }

    private static dev.citadel.pipeline.audit.SensitiveData.Mode sensitiveData(String value) {
        return switch (value) {
            case "warn" -> dev.citadel.pipeline.audit.SensitiveData.Mode.WARN;
            case "refuse" -> dev.citadel.pipeline.audit.SensitiveData.Mode.REFUSE;
            case "off" -> dev.citadel.pipeline.audit.SensitiveData.Mode.OFF;
            default -> throw new ConfigException("audit.sensitive-data must be warn, refuse or off, got '" + value + "'");
        };
    }

    private static List<PrivateEndpoint> privateEndpoints(Settings s) {
        java.util.Map<String, Path> policies = new java.util.LinkedHashMap<>();
        for (String entry : splitList(s.get(ConfigKey.PRIVATE_ENDPOINT_POLICIES))) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) {
                throw new ConfigException("private-endpoint-policies expects vpce-id=/path/policy.json, got '" + entry + "'");
            }
            policies.put(entry.substring(0, eq).strip(), Path.of(entry.substring(eq + 1).strip()).toAbsolutePath());
        }
        List<PrivateEndpoint> out = new java.util.ArrayList<>();
        for (String entry : splitList(s.get(ConfigKey.PRIVATE_ENDPOINTS))) {
            int at = entry.indexOf('@');
            if (at <= 0) {
                throw new ConfigException("private-endpoints expects vpce-id@host:port, got '" + entry + "'");
            }
            String id = entry.substring(0, at).strip();
            if (out.stream().anyMatch(e -> e.id().equals(id))) {
                throw new ConfigException("private endpoint " + id + " is configured twice");
            }
            out.add(new PrivateEndpoint(id, parseListen(entry.substring(at + 1).strip()), Optional.ofNullable(policies.remove(id))));
        }
        if (!policies.isEmpty()) {
            throw new ConfigException("private-endpoint-policies names endpoints that private-endpoints does not: " + policies.keySet());
        }
        return out;
    }

    private static MetadataConfig metadata(Settings s, Path dataDir) {
        String url = s.get(ConfigKey.METADATA_URL);
        int pool = s.getInt(ConfigKey.METADATA_MAX_POOL_SIZE, 1, 256);
        if (url.isEmpty()) {
            MetadataConfig embedded = MetadataConfig.embedded(dataDir);
            return new MetadataConfig(embedded.jdbcUrl(), "", embedded.password(), pool);
        }
        if (!url.startsWith("jdbc:sqlite:") && !url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException("metadata.url must start with jdbc:sqlite: or jdbc:postgresql:");
        }
        SecretBytes password = SecretBytes.copyOf(new byte[0]);
        String passwordFile = s.get(ConfigKey.METADATA_PASSWORD_FILE);
        if (!passwordFile.isEmpty()) {
            try {
                List<String> lines = Files.readAllLines(Path.of(passwordFile));
                password = SecretBytes.ofUtf8(lines.isEmpty() ? "" : lines.getFirst());
            } catch (IOException e) {
                throw new ConfigException("cannot read metadata.password-file " + passwordFile + ": " + e.getMessage());
            }
        }
        try {
            return new MetadataConfig(url, s.get(ConfigKey.METADATA_USER), password, pool);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("metadata: " + e.getMessage());
        }
    }

    private static InetSocketAddress parseListen(String raw) {
        return parseListen(raw, "listen");
    }

    /** A host:port (an IPv6 host in brackets) of the setting {@code key}, not resolved. */
    static InetSocketAddress parseListen(String raw, String key) {
        int colon = raw.lastIndexOf(':');
        if (colon <= 0 || colon == raw.length() - 1) {
            throw new ConfigException(key + " must be host:port, got '" + raw + "'");
        }
        String host = raw.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(raw.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(key + " port must be a number, got '" + raw + "'");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(key + " port must be between 0 and 65535, got " + port);
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    private static URI publicEndpoint(String raw, InetSocketAddress listen) {
        if (raw.isEmpty()) {
            String host = listen.getHostString();
            if (host.equals("0.0.0.0") || host.equals("::") || host.equals("127.0.0.1")) {
                host = "localhost";
            }
            return URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + listen.getPort());
        }
        URI uri;
        try {
            uri = URI.create(raw);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("public-endpoint is not a URL: '" + raw + "'");
        }
        if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new ConfigException("public-endpoint must be an https:// URL with a host, got '" + raw + "'");
        }
        return uri;
    }

    private static Optional<Path> optionalPath(String raw) {
        return raw.isEmpty() ? Optional.empty() : Optional.of(Path.of(raw).toAbsolutePath());
    }

    private static List<String> splitList(String raw) {
        return raw.isBlank() ? List.of() : Arrays.stream(raw.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    }

    private static String nonEmpty(Settings s, ConfigKey key) {
        String v = s.get(key);
        if (v.isBlank()) {
            throw new ConfigException(key.key() + " must not be empty");
        }
        return v;
    }
}
