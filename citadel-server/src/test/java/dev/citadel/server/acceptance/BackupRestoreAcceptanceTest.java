package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.Citadel;
import dev.citadel.server.CitadelMain;
import dev.citadel.server.bootstrap.ClientFiles;
import dev.citadel.server.config.ConfigKey;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.config.Settings;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * {@code citadel backup} while the server runs and writes, then {@code citadel restore} into a new
 * directory and a server started on it: every object reads back byte-identical (a multi-megabyte
 * one, a multipart one, an SSE-KMS one, and those a client wrote, overwrote and deleted while the
 * backup ran), a KMS ciphertext made before decrypts, an IAM user's access key still signs, the
 * registry serves the pushed image, and {@code citadel audit verify} finds the restored trail
 * valid. The configuration is a citadel.conf in the data directory, so the backup carries it; in
 * the SoftHSM2 run of the acceptance suite it names the token's root key.
 */
class BackupRestoreAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BUCKET = "kept";
    private static final String PLAINTEXT = "kept across the restore";
    private static final boolean PKCS11 = "pkcs11".equals(System.getProperty("citadel.test.rootKeyProvider"));

    record Run(int exitCode, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new CitadelMain());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return new Run(cmd.execute(args), out.toString(), err.toString());
    }

    /** The server's configuration as `citadel server --data-dir DIR` reads it (with its citadel.conf), on a free port. */
    private static ServerConfig config(Path dataDir) {
        Settings s = Settings.defaults().with(ConfigKey.DATA_DIR, dataDir.toString());
        Path conf = dataDir.resolve("citadel.conf");
        if (Files.exists(conf)) {
            s = s.withFile(conf);
        }
        return ServerConfig.from(s.with(ConfigKey.LISTEN, "127.0.0.1:0"));
    }

    private static byte[] content(String key, int size) {
        byte[] b = new byte[size];
        new Random(key.hashCode()).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = in.read(buffer)) > 0) {
            md.update(buffer, 0, n);
        }
        in.close();
        return HexFormat.of().formatHex(md.digest());
    }

    /** SDK clients made from the client files a server wrote into its data directory. */
    private record Clients(SdkHttpClient http, S3Client s3, KmsClient kms, ClientFiles files) implements AutoCloseable {
        static Clients of(Path dataDir) {
            ClientFiles files = new ClientFiles(dataDir);
            SdkHttpClient http = ApacheHttpClient.builder().tlsTrustManagersProvider(() -> ClientEnvironment.trustManagers(files.caFile())).build();
            ProfileFile profiles = ProfileFile.aggregator()
                    .addFile(ProfileFile.builder().content(files.configFile()).type(ProfileFile.Type.CONFIGURATION).build())
                    .addFile(ProfileFile.builder().content(files.credentialsFile()).type(ProfileFile.Type.CREDENTIALS).build())
                    .build();
            AwsCredentialsProvider admin = ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build();
            java.net.URI endpoint = java.net.URI.create(profiles.profile(ClientFiles.PROFILE).orElseThrow().property("endpoint_url").orElseThrow());
            Region region = Region.of(profiles.profile(ClientFiles.PROFILE).orElseThrow().property("region").orElseThrow());
            S3Client s3 = S3Client.builder().httpClient(http).endpointOverride(endpoint).forcePathStyle(true).region(region).credentialsProvider(admin)
                    .build();
            KmsClient kms = KmsClient.builder().httpClient(http).endpointOverride(endpoint).region(region).credentialsProvider(admin).build();
            return new Clients(http, s3, kms, files);
        }

        StsClient sts(AwsCredentialsProvider credentials) {
            ProfileFile profiles = ProfileFile.builder().content(files.configFile()).type(ProfileFile.Type.CONFIGURATION).build();
            return StsClient.builder().httpClient(http)
                    .endpointOverride(java.net.URI.create(profiles.profile(ClientFiles.PROFILE).orElseThrow().property("endpoint_url").orElseThrow()))
                    .region(Region.US_EAST_1).credentialsProvider(credentials).build();
        }

        @Override
        public void close() {
            s3.close();
            kms.close();
            http.close();
        }
    }

    @Test
    void aBackupTakenWhileTheServerWritesRestoresIntoAServerThatHasEverything() throws Exception {
        Path work = Files.createTempDirectory("citadel-backup-");
        Path dataDir = work.resolve("data");
        Path backup = work.resolve("backup");
        Path restored = work.resolve("restored");
        Files.createDirectory(dataDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        List<String> conf = new ArrayList<>(List.of("# written by BackupRestoreAcceptanceTest", "audit.delivery-interval = 1s",
                "audit.digest-interval = 2s"));
        if (PKCS11) {
            conf.add("root-key.provider = pkcs11");
            conf.add("root-key.pkcs11-pin-file = " + dev.citadel.server.keys.SoftHsm.pinFile());
        }
        Files.write(dataDir.resolve("citadel.conf"), conf);
        Citadel citadel = Citadel.start(config(dataDir));
        Citadel restoredServer = null;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            // State through real clients: an IAM user with an access key, a KMS key and a ciphertext, a repository and an image.
            ClientFiles files = new ClientFiles(dataDir);
            ClientEnvironment.Result setup = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                    "import base64, boto3, json",
                    "iam = boto3.client('iam')",
                    "iam.create_user(UserName='backed-up')",
                    "key = iam.create_access_key(UserName='backed-up')['AccessKey']",
                    "kms = boto3.client('kms')",
                    "kid = kms.create_key(Description='kept')['KeyMetadata']['KeyId']",
                    "blob = kms.encrypt(KeyId=kid, Plaintext=b'" + PLAINTEXT + "', EncryptionContext={'purpose': 'backup'})['CiphertextBlob']",
                    "ecr = boto3.client('ecr')",
                    "ecr.create_repository(repositoryName='backed-up')",
                    "token = ecr.get_authorization_token()['authorizationData'][0]['authorizationToken']",
                    "print(json.dumps({'access_key_id': key['AccessKeyId'], 'secret': key['SecretAccessKey'], 'key_id': kid,",
                    "    'blob': base64.b64encode(blob).decode(), 'password': base64.b64decode(token).decode().split(':', 1)[1]}))")));
            assertThat(setup.exitCode()).as(setup.stderr()).isZero();
            JsonNode made = JSON.readTree(setup.stdout());
            Path image = OciImages.tiny(work.resolve("tiny"), "an image kept in a backup");
            Path certs = work.resolve("certs");
            Files.createDirectories(certs);
            Files.copy(files.caFile(), certs.resolve("ca.crt"));
            EcrAcceptanceTest.Skopeo push = EcrAcceptanceTest.skopeo(certs, "--dest-creds", "AWS:" + made.path("password").asText(),
                    "oci:" + image + ":latest", "docker://localhost:" + citadel.port() + "/backed-up:v1");
            assertThat(push.exitCode()).as(push.output()).isZero();

            // Objects: small, empty, 12 MiB in one PUT, a multipart one, one under the customer's KMS key.
            Map<String, String> objects = new LinkedHashMap<>();
            try (Clients before = Clients.of(dataDir)) {
                before.s3().createBucket(b -> b.bucket(BUCKET));
                for (Map.Entry<String, Integer> o : Map.of("small.txt", 16, "empty", 0, "big.bin", 12 << 20).entrySet()) {
                    byte[] body = content(o.getKey(), o.getValue());
                    before.s3().putObject(b -> b.bucket(BUCKET).key(o.getKey()), RequestBody.fromBytes(body));
                    objects.put(o.getKey(), sha256(body));
                }
                byte[] sse = content("sse-kms.bin", 3 << 20);
                before.s3().putObject(b -> b.bucket(BUCKET).key("sse-kms.bin").serverSideEncryption(ServerSideEncryption.AWS_KMS)
                        .ssekmsKeyId(made.path("key_id").asText()), RequestBody.fromBytes(sse));
                objects.put("sse-kms.bin", sha256(sse));
                byte[] part1 = content("multipart-1", 5 << 20);
                byte[] part2 = content("multipart-2", 1 << 20);
                String upload = before.s3().createMultipartUpload(b -> b.bucket(BUCKET).key("multipart.bin")).uploadId();
                String etag1 = before.s3().uploadPart(b -> b.bucket(BUCKET).key("multipart.bin").uploadId(upload).partNumber(1),
                        RequestBody.fromBytes(part1)).eTag();
                String etag2 = before.s3().uploadPart(b -> b.bucket(BUCKET).key("multipart.bin").uploadId(upload).partNumber(2),
                        RequestBody.fromBytes(part2)).eTag();
                before.s3().completeMultipartUpload(b -> b.bucket(BUCKET).key("multipart.bin").uploadId(upload).multipartUpload(m -> m.parts(
                        CompletedPart.builder().partNumber(1).eTag(etag1).build(), CompletedPart.builder().partNumber(2).eTag(etag2).build())));
                byte[] whole = new byte[part1.length + part2.length];
                System.arraycopy(part1, 0, whole, 0, part1.length);
                System.arraycopy(part2, 0, whole, part1.length, part2.length);
                objects.put("multipart.bin", sha256(whole));
            }

            // The operator trail delivers and signs digests every 2 s: wait until the live trail verifies with digests in it.
            Run verified = cli("audit", "verify", "--data-dir", dataDir.toString());
            for (int i = 0; i < 60 && !(verified.exitCode() == 0 && digests(verified.out()) >= 2); i++) {
                Thread.sleep(1_000);
                verified = cli("audit", "verify", "--data-dir", dataDir.toString());
            }
            assertThat(verified.exitCode()).as(verified.out() + verified.err()).isZero();
            assertThat(digests(verified.out())).isGreaterThanOrEqualTo(2);

            // A client keeps writing, overwriting and deleting while the backup runs.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger written = new AtomicInteger();
            Map<String, String> concurrent = new ConcurrentHashMap<>();
            Future<?> writes;
            try (Clients during = Clients.of(dataDir)) {
                writes = writer.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String key = "concurrent/" + i;
                        byte[] body = content(key, 256 * 1024);
                        during.s3().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(body));
                        concurrent.put(key, sha256(body));
                        byte[] churn = content("churn-" + i, 64 * 1024);
                        during.s3().putObject(b -> b.bucket(BUCKET).key("churn"), RequestBody.fromBytes(churn));
                        concurrent.put("churn-" + i, sha256(churn));
                        if (i >= 2) {
                            String gone = "concurrent/" + (i - 2);
                            during.s3().deleteObject(b -> b.bucket(BUCKET).key(gone));
                        }
                        written.incrementAndGet();
                    }
                    return null;
                });
                while (written.get() < 3) {
                    Thread.sleep(20);
                }
                int writesBefore = written.get();
                Run taken = cli("backup", "--data-dir", dataDir.toString(), "--to", backup.toString());
                int writesAfter = written.get();
                stop.set(true);
                writes.get();
                assertThat(taken.exitCode()).as(taken.err()).isZero();
                assertThat(taken.out()).contains("backed up " + dataDir).containsPattern("[1-9][0-9]* image blobs");
                assertThat(writesAfter).as("writes went on while the backup ran").isGreaterThan(writesBefore);
            }

            // The backup holds no plaintext secret and no root key.
            assertThat(backup.resolve("keys")).doesNotExist();
            assertThat(backup.resolve("client/credentials")).doesNotExist();
            assertThat(backup.resolve("client/credentials.sealed")).exists();
            assertThat(backup.resolve("tls/ca-key.pem")).doesNotExist();
            String secret = made.path("secret").asText();
            String adminSecret = Files.readString(files.credentialsFile()).replaceAll("(?s).*aws_secret_access_key\\s*=\\s*(\\S+).*", "$1");
            try (Stream<Path> walk = Files.walk(backup)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    assertThat(text).as(f.toString()).doesNotContain(secret).doesNotContain(adminSecret).doesNotContain(PLAINTEXT)
                            .doesNotContain("PRIVATE KEY");
                }
            }
            Path rootKey = dataDir.resolve("keys/root.key");
            citadel.close();

            List<String> restore = new ArrayList<>(List.of("restore", "--from", backup.toString(), "--data-dir", restored.toString()));
            if (!PKCS11) {
                restore.addAll(List.of("--root-key", rootKey.toString()));
            }
            Run back = cli(restore.toArray(String[]::new));
            assertThat(back.exitCode()).as(back.err()).isZero();
            assertThat(back.out()).contains("restored the backup").contains("into " + restored);
            if (!PKCS11) {
                assertThat(Files.readAllBytes(restored.resolve("keys/root.key"))).isEqualTo(Files.readAllBytes(rootKey));
            }

            restoredServer = Citadel.start(config(restored));
            try (Clients after = Clients.of(restored)) {
                for (Map.Entry<String, String> o : objects.entrySet()) {
                    assertThat(sha256(after.s3().getObject(b -> b.bucket(BUCKET).key(o.getKey())))).as(o.getKey()).isEqualTo(o.getValue());
                }
                // What the concurrent client wrote is there whole, or (written after the snapshot) not at all.
                List<String> listed = after.s3().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix("concurrent/")).contents().stream()
                        .map(S3Object::key).toList();
                assertThat(listed).isNotEmpty();
                for (String key : listed) {
                    assertThat(sha256(after.s3().getObject(b -> b.bucket(BUCKET).key(key)))).as(key).isEqualTo(concurrent.get(key));
                }
                String churn = sha256(after.s3().getObject(b -> b.bucket(BUCKET).key("churn")));
                assertThat(concurrent.entrySet().stream().filter(e -> e.getKey().startsWith("churn-")).map(Map.Entry::getValue))
                        .contains(churn);

                String plaintext = after.kms().decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(java.util.Base64.getDecoder()
                        .decode(made.path("blob").asText()))).encryptionContext(Map.of("purpose", "backup"))).plaintext().asUtf8String();
                assertThat(plaintext).isEqualTo(PLAINTEXT);

                try (StsClient user = after.sts(StaticCredentialsProvider.create(AwsBasicCredentials.create(made.path("access_key_id").asText(),
                        secret)))) {
                    assertThat(user.getCallerIdentity().arn()).endsWith(":user/backed-up");
                }
            }

            Path certsAfter = work.resolve("certs-after");
            Files.createDirectories(certsAfter);
            Files.copy(new ClientFiles(restored).caFile(), certsAfter.resolve("ca.crt"));
            ClientEnvironment.Result token = ClientEnvironment.run(new ClientFiles(restored), List.of("python3", "-c", String.join("\n",
                    "import base64, boto3",
                    "t = boto3.client('ecr').get_authorization_token()['authorizationData'][0]['authorizationToken']",
                    "print(base64.b64decode(t).decode().split(':', 1)[1])")));
            assertThat(token.exitCode()).as(token.stderr()).isZero();
            Path pulled = work.resolve("pulled");
            EcrAcceptanceTest.Skopeo pull = EcrAcceptanceTest.skopeo(certsAfter, "--src-creds", "AWS:" + token.stdout().strip(),
                    "docker://localhost:" + restoredServer.port() + "/backed-up:v1", "oci:" + pulled + ":latest");
            assertThat(pull.exitCode()).as(pull.output()).isZero();
            assertThat(OciImages.manifestDigest(pulled)).isEqualTo(OciImages.manifestDigest(image));

            restoredServer.close();
            restoredServer = null;
            Run audit = cli("audit", "verify", "--data-dir", restored.toString());
            assertThat(audit.exitCode()).as(audit.out() + audit.err()).isZero();
            assertThat(digests(audit.out())).isGreaterThanOrEqualTo(2);
            assertThat(Files.readString(restored.resolve("audit/events.jsonl"))).contains("\"eventName\":\"CreateUser\"")
                    .contains("\"eventName\":\"Encrypt\"");
        } finally {
            writer.shutdownNow();
            if (restoredServer != null) {
                restoredServer.close();
            }
            citadel.close();
            try (Stream<Path> walk = Files.walk(work)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The number of valid digest files in `citadel audit verify`'s summary ("N/M digest files valid", all valid). */
    private static int digests(String summary) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)/(\\d+) digest files valid").matcher(summary);
        if (!m.find() || !m.group(1).equals(m.group(2))) {
            return -1;
        }
        return Integer.parseInt(m.group(1));
    }
}
