package dev.citadel.server.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every configuration key Citadel understands, with its default and the sentence that documents
 * it. A key that is not listed here is refused at start; {@code docs/CONFIGURATION.md} is checked
 * against this list by a test.
 */
public enum ConfigKey {
    LISTEN("listen", "127.0.0.1:8443", "Address and port of the TLS listener (host:port). There is no plaintext listener."),
    DATA_DIR("data-dir", "./citadel-data", "Directory holding the metadata store, keys, TLS material and client files."),
    REGION("region", "us-east-1", "The region name Citadel answers as; SigV4 credential scopes must name it."),
    PUBLIC_ENDPOINT("public-endpoint", "", "URL clients use to reach Citadel, written into client/config. Empty: https://localhost:<port> for loopback and wildcard listen addresses, else https://<listen host>:<port>."),
    TLS_CERTIFICATE("tls.certificate", "", "PEM file with the server certificate chain. Empty: Citadel issues one from its own local CA."),
    TLS_PRIVATE_KEY("tls.private-key", "", "PEM file with the server private key (PKCS#8 or traditional). Required when tls.certificate is set."),
    TLS_HOSTNAMES("tls.hostnames", "", "Extra DNS names or IP addresses for the generated server certificate, comma-separated (localhost and 127.0.0.1 are always included)."),
    HTTP_MAX_HEADER_BYTES("http.max-header-bytes", "16384", "Largest request line plus headers, in bytes (1024 to 1048576)."),
    HTTP_MAX_BODY_BYTES("http.max-body-bytes", "10485760", "Largest request body of an API operation whose spec sets no limit of its own, in bytes."),
    HTTP_IDLE_TIMEOUT("http.idle-timeout", "30s", "A connection with no bytes moving for this long is closed (also bounds slow reads and writes)."),
    HTTP_MAX_CONNECTIONS("http.max-connections", "1024", "Concurrent TLS connections accepted; further ones wait in the accept queue."),
    HTTP_MAX_THREADS("http.max-threads", "200", "Largest number of request threads."),
    AUTH_MAX_CLOCK_SKEW("auth.max-clock-skew", "15m", "How far a request's X-Amz-Date may be from the server clock (AWS uses 15 minutes)."),
    METADATA_URL("metadata.url", "", "JDBC URL of the metadata store. Empty: SQLite in <data-dir>/metadata. jdbc:postgresql://… for shared PostgreSQL."),
    METADATA_USER("metadata.user", "", "Database user for PostgreSQL."),
    METADATA_PASSWORD_FILE("metadata.password-file", "", "File whose first line is the database password (kept out of the config file and the command line)."),
    METADATA_MAX_POOL_SIZE("metadata.max-pool-size", "8", "Largest number of database connections."),
    ADMIN_EMAIL("bootstrap.admin-email", "admin@citadel.invalid", "E-mail address recorded for the management account on first start."),
    ADMIN_USER("bootstrap.admin-user", "admin", "Name of the IAM user created with AdministratorAccess on first start."),
    ROOT_KEY_PROVIDER("root-key.provider", "file", "Where the root key that seals every stored secret and KMS key lives: 'file' (<data-dir>/keys/root.key, 0600) or 'pkcs11' (a non-extractable AES key in a PKCS#11 token)."),
    ROOT_KEY_PKCS11_LIBRARY("root-key.pkcs11-library", "/usr/lib/softhsm/libsofthsm2.so", "The PKCS#11 module (for root-key.provider = pkcs11)."),
    ROOT_KEY_PKCS11_SLOT_INDEX("root-key.pkcs11-slot-index", "0", "Index of the token in the module's slot list."),
    ROOT_KEY_PKCS11_PIN_FILE("root-key.pkcs11-pin-file", "", "File whose first line is the token's user PIN (0600). Required with root-key.provider = pkcs11."),
    ROOT_KEY_PKCS11_KEY_LABEL("root-key.pkcs11-key-label", "citadel-root", "Label of the AES root key on the token; generated there (sensitive, non-extractable) on first start."),
    S3_BLOB_STORE("s3.blob-store", "local", "Where S3 object contents (sealed blobs, never plaintext) live: 'local' (<data-dir>/objects) or 'remote' (a bucket of an S3-compatible service, for several nodes; the s3.remote.* keys)."),
    S3_REMOTE_ENDPOINT("s3.remote.endpoint", "", "https:// URL of the S3-compatible service (path-style requests). Required with s3.blob-store = remote."),
    S3_REMOTE_BUCKET("s3.remote.bucket", "", "Existing bucket that receives the sealed blobs. Required with s3.blob-store = remote."),
    S3_REMOTE_PREFIX("s3.remote.prefix", "blobs/", "Key prefix of the blobs in that bucket; a blob is <prefix><first two hex digits of its id>/<id>. Start-up removes unreferenced blobs and abandoned multipart uploads under it, so give each Citadel deployment its own."),
    S3_REMOTE_REGION("s3.remote.region", "", "Region that requests to the service are signed for. Empty: the value of region."),
    S3_REMOTE_ACCESS_KEY_ID("s3.remote.access-key-id", "", "Access key id Citadel signs its requests to the service with. Required with s3.blob-store = remote."),
    S3_REMOTE_SECRET_ACCESS_KEY_FILE("s3.remote.secret-access-key-file", "", "File whose first line is the secret access key of that access key id (0600; kept out of the config file and the command line). Required with s3.blob-store = remote."),
    S3_REMOTE_CA_FILE("s3.remote.ca-file", "", "PEM file with the CA certificates to trust for the service's TLS certificate. Empty: the JVM's default trust store."),
    AUDIT_LOG("audit.log", "", "File that receives one JSON audit record per request. Empty: <data-dir>/audit/events.jsonl."),
    AUDIT_SENSITIVE_DATA("audit.sensitive-data", "warn", "What to do when a free-form field (names, tags, descriptions, environment values, hyperparameters, S3 user metadata) holds what looks like a card number, IBAN, AWS key, private key, e-mail address or national id: 'warn' (the request goes ahead; its audit event names the field and kind, with the value masked), 'refuse' (ValidationException naming the field, never the value) or 'off'."),
    AUDIT_DELIVERY_INTERVAL("audit.delivery-interval", "5m", "How often each logging trail's new events are delivered to its bucket as a gzip log file in CloudTrail's layout (1s to 1h)."),
    AUDIT_DIGEST_INTERVAL("audit.digest-interval", "1h", "Length of the window each signed digest file covers, for trails with log file validation (1s to 1h; AWS: 1h). Below a minute only for tests: digest names have one-second resolution."),
    AUDIT_OPERATOR_TRAIL("audit.operator-trail", "citadel-operator", "Name of the operator trail: a trail of the management account, kept by this configuration, that records every account's events with log file validation; no API call can stop, change or delete it. Empty: no operator trail."),
    AUDIT_OPERATOR_TRAIL_BUCKET("audit.operator-trail-bucket", "", "Bucket of the management account that receives the operator trail, created at start with the bucket policy CloudTrail needs. Empty: citadel-audit-<management account id>."),
    JOBS_SANDBOX("jobs.sandbox", "runc", "Where training and processing job containers run: 'runc' (this machine; images unpacked under <data-dir>/sandbox) or 'kubernetes' (see docs/KUBERNETES.md)."),
    JOBS_CAPACITY("jobs.capacity", "2", "How many jobs run at once; the others wait in the queue in order of creation."),
    JOBS_INSTANCE_TYPES("jobs.instance-types", "", "Instance types offered and what each gets here, comma-separated 'ml.<family>.<size>=<cpus>:<memory GiB>' (ml.m5.large=2:8). Empty: ml.t3.medium, ml.m5.large/xlarge/2xlarge, ml.m4.xlarge and ml.c5.large/xlarge/2xlarge with AWS's sizes."),
    JOBS_MAX_VOLUME_GB("jobs.max-volume-gb", "100", "Largest VolumeSizeInGB a job may ask for. Each job's volume is a file of that size (sparse) under <data-dir>/sandbox."),
    JOBS_PIDS("jobs.pids", "4096", "Most processes and threads one job container may have."),
    JOBS_OUTPUT_LIMIT("jobs.output-limit", "33554432", "Bytes of a job container's output kept in its log stream; the rest is dropped and the log says so."),
    JOBS_STOP_GRACE("jobs.stop-grace", "120s", "Time between SIGTERM and SIGKILL when a job is stopped or reaches MaxRuntimeInSeconds (SageMaker: 120 s)."),
    JOBS_IMAGE_CACHE_BYTES("jobs.image-cache-bytes", "21474836480", "Bytes of unpacked image roots kept for reuse by later jobs of the same image (least recently used evicted first)."),
    ENDPOINTS_INVOCATION_TIMEOUT("endpoints.invocation-timeout", "60s", "How long InvokeEndpoint waits for a serving container's answer before it returns ModelError (SageMaker: 60 s)."),
    ENDPOINTS_STARTUP_TIMEOUT("endpoints.startup-timeout", "8m", "How long a new serving container has to answer GET /ping with 200 before its deployment fails."),
    ENDPOINTS_VOLUME_GB("endpoints.volume-gb", "4", "Size of each serving container's volume, which holds its unpacked model artifact."),
    ENDPOINTS_CAPTURE_FLUSH("endpoints.capture-flush", "10s", "How often the records of endpoints' data capture (DataCaptureConfig) are written to S3; a variant's buffer that reaches 4 MiB is written at once."),
    ENDPOINTS_CAPTURE_BUFFER_BYTES("endpoints.capture-buffer-bytes", "67108864", "Bytes of data-capture records that may wait in memory to be written, all endpoints together; a capture past it is dropped and counted (the invocation still succeeds)."),
    JOBS_KUBERNETES_KUBECONFIG("jobs.kubernetes.kubeconfig", "", "With jobs.sandbox = kubernetes: the kubeconfig file of the cluster. Empty: the in-cluster service account (or ~/.kube/config)."),
    JOBS_KUBERNETES_NAMESPACE("jobs.kubernetes.namespace", "", "With jobs.sandbox = kubernetes: the namespace job pods run in (required)."),
    JOBS_KUBERNETES_SERVICE_ACCOUNT("jobs.kubernetes.service-account", "default", "Service account of job pods (its token is never mounted)."),
    JOBS_KUBERNETES_RUN_AS_USER("jobs.kubernetes.run-as-user", "1000", "Non-root uid every job container runs as."),
    JOBS_KUBERNETES_RUNTIME_CLASS("jobs.kubernetes.runtime-class", "", "RuntimeClass of job pods (for example gvisor). Empty: the cluster's default runtime."),
    JOBS_KUBERNETES_IMAGE_PULL_SECRET("jobs.kubernetes.image-pull-secret", "", "Secret the cluster pulls job images from Citadel's registry with. Empty: none."),
    JOBS_KUBERNETES_STAGER_IMAGE("jobs.kubernetes.stager-image", "busybox:1.37", "Image of the containers that stage a job's volume in and out (pin it by digest)."),
    OPERATOR_LISTEN("operator.listen", "127.0.0.1:9464", "Address and port of the operator listener (host:port), which serves GET /metrics (Prometheus), /health/live and /health/ready and never the AWS API. Empty: no operator listener. A loopback address speaks plain HTTP; any other address speaks TLS with the API's certificate and needs operator.token-file."),
    OPERATOR_TOKEN_FILE("operator.token-file", "", "File whose first line is the bearer token the operator listener requires (Authorization: Bearer <token>; 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -; the file 0600). Required when operator.listen is not a loopback address; optional on loopback, where it is then required too."),
    LOG_FORMAT("log.format", "text", "Format of Citadel's own log on standard error: 'text' (one readable line per event) or 'json' (one JSON object per line, for a log collector). Either way a line written while a request is handled carries its request id, service, operation and account id."),
    PRIVATE_ENDPOINTS("private-endpoints", "", "Extra TLS listeners standing for VPC endpoints, comma-separated 'vpce-id@host:port'. Requests through one carry aws:SourceVpce = its id and are bounded by its endpoint policy."),
    PRIVATE_ENDPOINT_POLICIES("private-endpoint-policies", "", "Endpoint policies, comma-separated 'vpce-id=/path/policy.json' (a resource-style policy with a Principal). An endpoint without one allows everything its callers' own policies allow, as AWS's default endpoint policy does.");

    private static final Map<String, ConfigKey> BY_NAME = new LinkedHashMap<>();

    static {
        for (ConfigKey key : values()) {
            BY_NAME.put(key.key, key);
        }
    }

    private final String key;
    private final String defaultValue;
    private final String description;

    ConfigKey(String key, String defaultValue, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public static Optional<ConfigKey> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The closest known key, for the "did you mean" hint of an unknown one. */
    public static Optional<ConfigKey> closest(String name) {
        return Arrays.stream(values())
                .min((a, b) -> Integer.compare(distance(a.key, name), distance(b.key, name)))
                .filter(k -> distance(k.key, name) <= Math.max(2, name.length() / 3));
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
