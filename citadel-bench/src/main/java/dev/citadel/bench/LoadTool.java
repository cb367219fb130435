package dev.citadel.bench;

import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.Citadel;
import dev.citadel.server.config.ConfigKey;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.config.Settings;
import dev.citadel.server.http.ApiServer;
import dev.citadel.server.http.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load tool: pre-signs one request (GetCallerIdentity, KMS Encrypt of 1 KiB, S3 GetObject of a
 * 1 KiB object, S3 PutObject of 1 KiB on a key per connection, or DescribeTrainingJob) and drives it over keep-alive connections against Citadel's full pipeline,
 * against the bare Jetty listener (the limit), against moto 5.2.1's server with IAM
 * enforcement on (the peer), and against a second Citadel whose audit sink discards events (what
 * the audit costs), then prints calls per second, latency percentiles and the ratios, as recorded
 * in docs/BENCHMARKS.md. With {@code --operation invoke-endpoint} it measures a running Citadel's
 * InvokeEndpoint against the serving container's own socket instead ({@link InvokeEndpointLoad}).
 */
@Command(name = "citadel bench", mixinStandardHelpOptions = true,
        description = "API calls/s: Citadel vs bare Jetty vs moto, same load tool.")
public final class LoadTool implements Callable<Integer> {
    static final String STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15";
    private static final byte[] MARKER = "<Account>".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KMS_MARKER = "CiphertextBlob".getBytes(StandardCharsets.US_ASCII);
    private static final String KIB_BASE64 = java.util.Base64.getEncoder().encodeToString(new byte[1024]);
    private static final byte[] S3_MARKER = "CITADEL-BENCH-OBJECT".getBytes(StandardCharsets.US_ASCII);
    /** The object of the S3 GET benchmark: 1 KiB that starts with the marker a counted call must return. */
    static final byte[] S3_OBJECT = s3Object();
    static final String S3_BUCKET = "bench";
    static final String S3_KEY = "/" + S3_BUCKET + "/object-1k";
    static final List<String> TARGETS = List.of("citadel", "citadel-session", "citadel-no-audit", "jetty", "moto");
    static final List<String> OPERATIONS = List.of("get-caller-identity", "kms-encrypt", "s3-get", "s3-put", "describe-training-job",
            "invoke-endpoint");
    private static final byte[] TRAINING_MARKER = "\"TrainingJobStatus\"".getBytes(StandardCharsets.US_ASCII);
    /** S3 PUT answers with an empty body: the call counts when the ETag header names the object's MD5. */
    private static final byte[] PUT_MARKER = md5Hex(S3_OBJECT).getBytes(StandardCharsets.US_ASCII);
    private static final String TRAINING_JOB = "bench-describe";
    private static final List<String> DEFAULT_TARGETS = List.of("citadel", "citadel-session", "jetty", "moto");
    private static final String CITADEL_LABEL = "citadel (full pipeline)";
    private static final String NO_AUDIT_LABEL = "citadel-no-audit (audit events discarded)";

    @Option(names = "--connections", description = "Keep-alive connections, one thread each (default ${DEFAULT-VALUE}).")
    int connections = 8;

    @Option(names = "--warmup", description = "Warm-up seconds per target (default ${DEFAULT-VALUE}).")
    int warmupSeconds = 5;

    @Option(names = "--duration", description = "Measured seconds per target (default ${DEFAULT-VALUE}).")
    int durationSeconds = 15;

    @Option(names = "--targets", split = ",", description = "Any of citadel, citadel-session, citadel-no-audit (a second in-process Citadel "
            + "whose audit sink discards events, to compare with citadel: what the audit costs), jetty, moto (default citadel, "
            + "citadel-session, jetty, moto); for invoke-endpoint: direct, citadel (default both).")
    List<String> targets;

    @Option(names = "--operation", description = "get-caller-identity (default), kms-encrypt (Encrypt of 1 KiB under a symmetric key), "
            + "s3-get (GetObject of a 1 KiB object), s3-put (PutObject of 1 KiB, one key per connection), describe-training-job "
            + "(DescribeTrainingJob of a job created for the run) or invoke-endpoint (InvokeEndpoint of a running Citadel against the serving "
            + "container's Unix socket: needs --server-data-dir, --endpoint-name and --socket).")
    String operation = "get-caller-identity";

    @Option(names = "--server-data-dir", description = "invoke-endpoint: the data directory of the running Citadel (./citadel server "
            + "--data-dir); its client/env gives the endpoint URL, the region, the credentials and the CA.")
    Path serverDataDir;

    @Option(names = "--endpoint-name", description = "invoke-endpoint: the endpoint to invoke (one variant, one instance).")
    String endpointName;

    @Option(names = "--socket", description = "invoke-endpoint: the endpoint's container's port bridge, "
            + "<data-dir>/sandbox/runs/<run-id>/port-8080.sock (root only), for the direct target.")
    Path socket;

    @Option(names = "--content-type", description = "invoke-endpoint: the body's Content-Type, also sent as Accept (default ${DEFAULT-VALUE}).")
    String contentType = "text/csv";

    @Option(names = "--body", description = "invoke-endpoint: the request body (default ${DEFAULT-VALUE}).")
    String body = "1.5,0.9";

    @Option(names = "--cpu-of", description = "invoke-endpoint: NAME=PID (repeatable): also report the CPU time per call of that process "
            + "(the server, the serving container), as /proc counts it.")
    Map<String, Long> cpuOf = new java.util.LinkedHashMap<>();

    @Option(names = "--cpu-tree-of", description = "invoke-endpoint: NAME=PID (repeatable): as --cpu-of, for the process with all its "
            + "descendants (the bridge's listener and its per-connection children).")
    Map<String, Long> cpuTreeOf = new java.util.LinkedHashMap<>();

    @Option(names = "--rounds", description = "invoke-endpoint: the paths take turns this many times, each with its own warm-up "
            + "(default ${DEFAULT-VALUE}).")
    int rounds = 1;

    @Option(names = "--set", description = "A Citadel config KEY=VALUE for the run (repeatable), as for ./citadel server.")
    List<String> overrides = new ArrayList<>();

    /** Events the citadel-no-audit target's sink discarded; -1 if it did not run. */
    private long discardedEvents = -1;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadTool()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (!OPERATIONS.contains(operation)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--operation must be one of " + String.join(", ", OPERATIONS));
        }
        if (operation.equals("invoke-endpoint")) {
            if (serverDataDir == null || endpointName == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "invoke-endpoint needs --server-data-dir and --endpoint-name");
            }
            Map<String, ProcessCpu.Watched> watched = new java.util.LinkedHashMap<>();
            cpuOf.forEach((name, pid) -> watched.put(name, new ProcessCpu.Watched(pid, false)));
            cpuTreeOf.forEach((name, pid) -> watched.put(name, new ProcessCpu.Watched(pid, true)));
            try {
                return InvokeEndpointLoad.run(new InvokeEndpointLoad.Settings(serverDataDir, endpointName, java.util.Optional.ofNullable(socket),
                        contentType, body, targets == null ? InvokeEndpointLoad.TARGETS : targets, connections,
                        Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(durationSeconds), rounds, watched));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
            }
        }
        if (targets == null) {
            targets = DEFAULT_TARGETS;
        }
        for (String t : targets) {
            if (!TARGETS.contains(t)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "unknown target " + t + "; --targets takes any of "
                        + String.join(", ", TARGETS));
            }
        }
        Duration warmup = Duration.ofSeconds(warmupSeconds);
        Duration measure = Duration.ofSeconds(durationSeconds);
        Path dir = Files.createTempDirectory("citadel-bench-");
        List<LoadRun.Result> results = new ArrayList<>();
        try (Citadel citadel = Citadel.start(config(dir))) {
            Prepared p = prepare(citadel, dir);
            if (targets.contains("citadel")) {
                results.add(LoadRun.run(CITADEL_LABEL, "127.0.0.1", citadel.port(), p.tls(), p.signed(), marker(),
                        connections, warmup, measure));
            }
            if (targets.contains("citadel-session") && operation.equals("get-caller-identity")) {
                // The same call signed with temporary credentials from GetSessionToken: the sealed
                // session token is opened (then cached) on the authentication path.
                String issued = tlsCall(p.tls(), citadel.port(), signedPost(p.sts(), p.host(), "Action=GetSessionToken&Version=2011-06-15"));
                SigV4Signer session = new SigV4Signer(xml(issued, "AccessKeyId"), SecretBytes.ofUtf8(xml(issued, "SecretAccessKey")),
                        "us-east-1", "sts");
                byte[] req = signedPost(session, p.host(), STS_BODY, xml(issued, "SessionToken"));
                results.add(LoadRun.run("citadel (session credentials)", "127.0.0.1", citadel.port(), p.tls(), c -> req, MARKER,
                        connections, warmup, measure));
            }
            if (targets.contains("jetty")) {
                var serverTls = TlsContexts.server(dir.resolve("tls/server.pem"), dir.resolve("tls/server-key.pem"));
                try (ApiServer bare = switch (operation) {
                    case "s3-get" -> BareJetty.start(serverTls, S3_OBJECT, "application/octet-stream", null);
                    case "s3-put" -> BareJetty.start(serverTls, new byte[0], "application/octet-stream", "\"" + md5Hex(S3_OBJECT) + "\"");
                    case "kms-encrypt" -> BareJetty.start(serverTls, BareJetty.KMS_RESPONSE, "application/x-amz-json-1.1", null);
                    case "describe-training-job" -> BareJetty.start(serverTls, BareJetty.TRAINING_RESPONSE, "application/x-amz-json-1.1", null);
                    default -> BareJetty.start(serverTls);
                }) {
                    String host = "localhost:" + bare.port();
                    java.util.function.IntFunction<byte[]> req = switch (operation) {
                        case "s3-get" -> single(signedS3(p.s3(), host, "GET", S3_KEY, null));
                        case "s3-put" -> c -> signedPut(p.s3(), host, c);
                        case "kms-encrypt" -> single(signedJson(p.kms(), host, "TrentService.Encrypt", encryptBody("bench")));
                        case "describe-training-job" -> single(signedJson(p.sagemaker(), host, "SageMaker.DescribeTrainingJob", describeBody()));
                        default -> single(signedPost(p.sts(), host, STS_BODY));
                    };
                    results.add(LoadRun.run("bare Jetty handler (limit)", "127.0.0.1", bare.port(), p.tls(), req, marker(),
                            connections, warmup, measure));
                }
            }
        } finally {
            deleteTree(dir);
        }
        if (targets.contains("citadel-no-audit")) {
            // A second Citadel, started after the first is closed, with its own data directory and
            // the same settings, whose audit sink drops every event: the same operation, set up
            // the same way, without the audit log's write and fdatasync.
            Path quiet = Files.createTempDirectory("citadel-bench-no-audit-");
            DiscardingAuditSink sink = new DiscardingAuditSink();
            try (Citadel citadel = Citadel.startWithAuditSink(config(quiet), () -> sink)) {
                Prepared p = prepare(citadel, quiet);
                results.add(LoadRun.run(NO_AUDIT_LABEL, "127.0.0.1", citadel.port(), p.tls(), p.signed(), marker(),
                        connections, warmup, measure));
            } finally {
                deleteTree(quiet);
            }
            discardedEvents = sink.discarded();
        }
        if (targets.contains("moto")) {
            try (MotoServer moto = MotoServer.start()) {
                String host = "127.0.0.1:" + moto.port();
                SigV4Signer key = motoAccessKey(host, moto.port(), switch (operation) {
                    case "kms-encrypt" -> "kms";
                    case "s3-get", "s3-put" -> "s3";
                    case "describe-training-job" -> "sagemaker";
                    default -> "sts";
                });
                java.util.function.IntFunction<byte[]> req;
                if (operation.equals("s3-get") || operation.equals("s3-put")) {
                    call(moto.port(), signedS3(key, host, "PUT", "/" + S3_BUCKET, new byte[0]));
                    call(moto.port(), signedS3(key, host, "PUT", S3_KEY, S3_OBJECT));
                    req = operation.equals("s3-put") ? c -> signedPut(key, host, c) : single(signedS3(key, host, "GET", S3_KEY, null));
                } else if (operation.equals("kms-encrypt")) {
                    String created = call(moto.port(), signedJson(key, host, "TrentService.CreateKey", "{}"));
                    req = single(signedJson(key, host, "TrentService.Encrypt", encryptBody(json(created, "KeyId"))));
                } else if (operation.equals("describe-training-job")) {
                    call(moto.port(), signedJson(key, host, "SageMaker.CreateTrainingJob", createTrainingBody("123456789012",
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench:latest")));
                    req = single(signedJson(key, host, "SageMaker.DescribeTrainingJob", describeBody()));
                } else {
                    req = single(signedPost(key, host, STS_BODY));
                }
                results.add(LoadRun.run("moto 5.2.1 (IAM auth on)", "127.0.0.1", moto.port(), null, req, marker(),
                        connections, warmup, measure));
            }
        }
        print(results);
        results.forEach(r -> BenchResults.record(operation, BenchResults.key(r.target()), r));
        return results.stream().allMatch(r -> r.calls() > 0) ? 0 : 1;
    }

    /** The settings of an in-process Citadel on {@code dir}: embedded defaults, an ephemeral port, then the --set overrides. */
    private ServerConfig config(Path dir) {
        Settings settings = Settings.defaults().with(ConfigKey.DATA_DIR, dir.toString()).with(ConfigKey.LISTEN, "127.0.0.1:0")
                .with(ConfigKey.OPERATOR_LISTEN, "127.0.0.1:0");
        for (String o : overrides) {
            settings = settings.with(o);
        }
        return ServerConfig.from(settings);
    }

    /** What the targets of one in-process Citadel share: a client TLS context trusting its CA, the admin's signers, the measured request. */
    private record Prepared(SSLContext tls, SigV4Signer sts, SigV4Signer s3, SigV4Signer kms, SigV4Signer sagemaker, String host,
            java.util.function.IntFunction<byte[]> signed) {
    }

    private static java.util.function.IntFunction<byte[]> single(byte[] request) {
        return c -> request;
    }

    /** Makes what the operation needs (a bucket and its object, or a KMS key) with the admin's credentials, then signs the measured request. */
    private Prepared prepare(Citadel citadel, Path dir) throws Exception {
        SSLContext tls = trusting(dir.resolve("client/ca.pem"));
        Map<String, String> creds = credentials(dir.resolve("client/credentials"));
        String host = "localhost:" + citadel.port();
        String id = creds.get("aws_access_key_id");
        String secret = creds.get("aws_secret_access_key");
        SigV4Signer signer = new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "sts");
        SigV4Signer s3Signer = new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "s3");
        SigV4Signer kmsSigner = new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "kms");
        SigV4Signer sageMakerSigner = new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "sagemaker");
        java.util.function.IntFunction<byte[]> signed;
        if (operation.equals("s3-get") || operation.equals("s3-put")) {
            tlsCall(tls, citadel.port(), signedS3(s3Signer, host, "PUT", "/" + S3_BUCKET, new byte[0]));
            tlsCall(tls, citadel.port(), signedS3(s3Signer, host, "PUT", S3_KEY, S3_OBJECT));
            signed = operation.equals("s3-put") ? c -> signedPut(s3Signer, host, c) : single(signedS3(s3Signer, host, "GET", S3_KEY, null));
        } else if (operation.equals("kms-encrypt")) {
            String created = tlsCall(tls, citadel.port(), signedJson(kmsSigner, host, "TrentService.CreateKey", "{}"));
            signed = single(signedJson(kmsSigner, host, "TrentService.Encrypt", encryptBody(json(created, "KeyId"))));
        } else if (operation.equals("describe-training-job")) {
            // A job whose image does not exist: it fails at its start, and its record is what is described.
            String account = xml(tlsCall(tls, citadel.port(), signedPost(signer, host, STS_BODY)), "Account");
            SigV4Signer iam = new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "iam");
            String trust = java.net.URLEncoder.encode("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    + "\"Principal\":{\"Service\":\"sagemaker.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}", StandardCharsets.UTF_8);
            tlsCall(tls, citadel.port(), signedPost(iam, host, "Action=CreateRole&RoleName=bench&AssumeRolePolicyDocument=" + trust
                    + "&Version=2010-05-08"));
            tlsCall(tls, citadel.port(), signedS3(s3Signer, host, "PUT", "/" + S3_BUCKET, new byte[0]));
            pushPlaceholderImage(tls, citadel.port(), host, new SigV4Signer(id, SecretBytes.ofUtf8(secret), "us-east-1", "ecr"));
            tlsCall(tls, citadel.port(), signedJson(sageMakerSigner, host, "SageMaker.CreateTrainingJob",
                    createTrainingBody(account, host + "/bench:latest")));
            signed = single(signedJson(sageMakerSigner, host, "SageMaker.DescribeTrainingJob", describeBody()));
        } else {
            signed = single(signedPost(signer, host, STS_BODY));
        }
        return new Prepared(tls, signer, s3Signer, kmsSigner, sageMakerSigner, host, signed);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Creates a user, its access key and an allow-all policy in moto during its unauthenticated set-up window. */
    private static SigV4Signer motoAccessKey(String host, int port, String service) throws IOException {
        SigV4Signer setup = new SigV4Signer("AKIAIOSFODNN7EXAMPLE", SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                "us-east-1", "iam");
        String policy = java.net.URLEncoder.encode("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
                + "\"Resource\":\"*\"}]}", StandardCharsets.UTF_8);
        call(port, signedPost(setup, host, "Action=CreateUser&UserName=bench&Version=2010-05-08"));
        String key = call(port, signedPost(setup, host, "Action=CreateAccessKey&UserName=bench&Version=2010-05-08"));
        call(port, signedPost(setup, host, "Action=PutUserPolicy&UserName=bench&PolicyName=all&PolicyDocument=" + policy
                + "&Version=2010-05-08"));
        return new SigV4Signer(xml(key, "AccessKeyId"), SecretBytes.ofUtf8(xml(key, "SecretAccessKey")), "us-east-1", service);
    }

    private static String call(int port, byte[] request) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            s.shutdownOutput();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!response.startsWith("HTTP/1.1 200") && !response.startsWith("HTTP/1.0 200")) {
                throw new IOException("moto set-up call failed: " + response.lines().findFirst().orElse(""));
            }
            return response;
        }
    }

    private static String tlsCall(SSLContext tls, int port, byte[] request) throws IOException {
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            byte[] buffer = new byte[65536];
            StringBuilder response = new StringBuilder();
            int n;
            while ((n = s.getInputStream().read(buffer)) > 0) {
                response.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                int end = response.indexOf("\r\n\r\n");
                Matcher length = Pattern.compile("(?i)content-length:\\s*(\\d+)").matcher(response);
                if (end >= 0 && length.find() && response.length() - end - 4 >= Integer.parseInt(length.group(1))) {
                    break;
                }
            }
            if (!response.toString().startsWith("HTTP/1.1 20")) {
                throw new IOException("set-up call failed: " + response);
            }
            return response.toString();
        }
    }

    private static String xml(String doc, String element) {
        Matcher m = Pattern.compile("<" + element + ">([^<]+)</" + element + ">").matcher(doc);
        if (!m.find()) {
            throw new IllegalStateException("no " + element + " in moto's answer");
        }
        return m.group(1);
    }

    static byte[] signedPost(SigV4Signer signer, String host, String body) {
        return signedPost(signer, host, body, null);
    }

    private byte[] marker() {
        return switch (operation) {
            case "kms-encrypt" -> KMS_MARKER;
            case "s3-get" -> S3_MARKER;
            case "s3-put" -> PUT_MARKER;
            case "describe-training-job" -> TRAINING_MARKER;
            default -> MARKER;
        };
    }

    private static byte[] s3Object() {
        byte[] object = new byte[1024];
        java.util.Arrays.fill(object, (byte) '.');
        System.arraycopy(S3_MARKER, 0, object, 0, S3_MARKER.length);
        return object;
    }

    /**
     * A signed path-style S3 request; {@code body} null means none (a GET). Set-up requests (those
     * with a body) ask the server to close the connection after answering, so that reading the
     * answer does not depend on its framing.
     */
    static byte[] signedS3(SigV4Signer signer, String host, String method, String path, byte[] body) {
        byte[] bytes = body == null ? new byte[0] : body;
        String payloadHash = SigV4.sha256Hex(bytes);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", host);
        headers.put("x-amz-content-sha256", payloadHash);
        Map<String, String> signed = signer.signHeaders(method, path, "", headers, payloadHash, Instant.now());
        StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        signed.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        if (body != null) {
            sb.append("Content-Length: ").append(bytes.length).append("\r\nConnection: close\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] request = java.util.Arrays.copyOf(head, head.length + bytes.length);
        System.arraycopy(bytes, 0, request, head.length, bytes.length);
        return request;
    }

    /**
     * Pushes {@code bench:latest}, an image whose only layer is not a tar archive: the registry takes
     * it (blobs are blobs), and the job made from it fails when its container is prepared.
     */
    private static void pushPlaceholderImage(SSLContext tls, int port, String host, SigV4Signer ecr) throws IOException {
        tlsCall(tls, port, signedJson(ecr, host, "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "{\"repositoryName\":\"bench\"}"));
        String token = json(tlsCall(tls, port, signedJson(ecr, host, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "{}")),
                "authorizationToken");
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/train\"]}}"
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = "a placeholder layer".getBytes(StandardCharsets.UTF_8);
        for (byte[] blob : List.of(config, layer)) {
            tlsCall(tls, port, registryRequest(host, token, "POST", "/v2/bench/blobs/uploads/?digest=" + sha256Digest(blob), null, blob));
        }
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + sha256Digest(config) + "\",\"size\":" + config.length
                + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + sha256Digest(layer)
                + "\",\"size\":" + layer.length + "}]}";
        tlsCall(tls, port, registryRequest(host, token, "PUT", "/v2/bench/manifests/latest", "application/vnd.oci.image.manifest.v1+json",
                manifest.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] registryRequest(String host, String basicToken, String method, String path, String contentType, byte[] body) {
        StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\nAuthorization: Basic ").append(basicToken).append("\r\nContent-Length: ").append(body.length).append("\r\n");
        if (contentType != null) {
            sb.append("Content-Type: ").append(contentType).append("\r\n");
        }
        byte[] head = sb.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
        byte[] request = java.util.Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    private static String sha256Digest(byte[] bytes) {
        return "sha256:" + SigV4.sha256Hex(bytes);
    }

    /** PutObject of the 1 KiB object on a key of the connection's own, kept alive. */
    private static byte[] signedPut(SigV4Signer signer, String host, int connection) {
        byte[] put = signedS3(signer, host, "PUT", "/" + S3_BUCKET + "/put-" + connection, S3_OBJECT);
        String text = new String(put, StandardCharsets.ISO_8859_1).replace("Connection: close\r\n", "");
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String md5Hex(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String createTrainingBody(String account, String image) {
        return "{\"TrainingJobName\":\"" + TRAINING_JOB + "\",\"AlgorithmSpecification\":{\"TrainingImage\":\"" + image
                + "\",\"TrainingInputMode\":\"File\"},\"RoleArn\":\"arn:aws:iam::" + account + ":role/bench\","
                + "\"OutputDataConfig\":{\"S3OutputPath\":\"s3://" + S3_BUCKET + "/out\"},\"ResourceConfig\":{\"InstanceType\":"
                + "\"ml.m5.large\",\"InstanceCount\":1,\"VolumeSizeInGB\":1},\"StoppingCondition\":{\"MaxRuntimeInSeconds\":60}}";
    }

    private static String describeBody() {
        return "{\"TrainingJobName\":\"" + TRAINING_JOB + "\"}";
    }

    private static String encryptBody(String keyId) {
        return "{\"KeyId\":\"" + keyId + "\",\"Plaintext\":\"" + KIB_BASE64 + "\"}";
    }

    private static String json(String response, String member) {
        Matcher m = Pattern.compile("\"" + member + "\"\\s*:\\s*\"([^\"]+)\"").matcher(response);
        if (!m.find()) {
            throw new IllegalStateException("no " + member + " in " + response);
        }
        return m.group(1);
    }

    /** A signed awsJson1_1 call. */
    static byte[] signedJson(SigV4Signer signer, String host, String target, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", host);
        headers.put("Content-Type", "application/x-amz-json-1.1");
        headers.put("X-Amz-Target", target);
        Map<String, String> signed = signer.signHeaders("POST", "/", "", headers, SigV4.sha256Hex(bytes), Instant.now());
        StringBuilder sb = new StringBuilder("POST / HTTP/1.1\r\n");
        signed.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        sb.append("Content-Length: ").append(bytes.length).append("\r\n\r\n").append(body);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static byte[] signedPost(SigV4Signer signer, String host, String body, String sessionToken) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", host);
        if (sessionToken != null) {
            headers.put("X-Amz-Security-Token", sessionToken);
        }
        headers.put("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        Map<String, String> signed = signer.signHeaders("POST", "/", "", headers, SigV4.sha256Hex(bytes), Instant.now());
        StringBuilder sb = new StringBuilder("POST / HTTP/1.1\r\n");
        signed.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        sb.append("Content-Length: ").append(bytes.length).append("\r\n\r\n").append(body);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, String> credentials(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return out;
    }

    static SSLContext trusting(Path caPem) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            store.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private void print(List<LoadRun.Result> results) {
        System.out.printf(Locale.ROOT, switch (operation) {
            case "kms-encrypt" -> "KMS Encrypt (1 KiB), ";
            case "s3-get" -> "S3 GetObject (1 KiB object), ";
            case "s3-put" -> "S3 PutObject (1 KiB object, one key per connection), ";
            case "describe-training-job" -> "DescribeTrainingJob, ";
            default -> "GetCallerIdentity, ";
        });
        System.out.printf(Locale.ROOT, "%d keep-alive connections, %d s warm-up, %d s measured per target, %d cores%n%n",
                connections, warmupSeconds, durationSeconds, Runtime.getRuntime().availableProcessors());
        System.out.println("| target | calls/s | p50 ms | p99 ms | failed | reconnects |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (LoadRun.Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.2f | %d | %d |%n", r.target(), r.callsPerSecond(),
                    r.p50Micros() / 1000, r.p99Micros() / 1000, r.failures(), r.reconnects());
        }
        LoadRun.Result citadel = results.stream().filter(r -> r.target().startsWith("citadel") && !r.target().equals(NO_AUDIT_LABEL))
                .findFirst().orElse(null);
        LoadRun.Result jetty = find(results, "bare");
        LoadRun.Result moto = find(results, "moto");
        LoadRun.Result auditOn = find(results, CITADEL_LABEL);
        LoadRun.Result auditOff = find(results, NO_AUDIT_LABEL);
        System.out.println();
        if (discardedEvents >= 0) {
            System.out.printf(Locale.ROOT, "citadel-no-audit: %d audit events discarded (every call, counted or not, and the set-up calls)%n",
                    discardedEvents);
        }
        if (citadel != null && moto != null) {
            System.out.printf(Locale.ROOT, "Citadel / moto:       %.1fx%n", citadel.callsPerSecond() / moto.callsPerSecond());
        }
        if (citadel != null && jetty != null) {
            System.out.printf(Locale.ROOT, "Citadel / bare Jetty: %.0f %%%n", 100 * citadel.callsPerSecond() / jetty.callsPerSecond());
        }
        if (auditOn != null && auditOff != null) {
            System.out.printf(Locale.ROOT, "audit on / audit off: %.0f %%%n", 100 * auditOn.callsPerSecond() / auditOff.callsPerSecond());
        }
    }

    private static LoadRun.Result find(List<LoadRun.Result> results, String prefix) {
        return results.stream().filter(r -> r.target().startsWith(prefix)).findFirst().orElse(null);
    }
}
