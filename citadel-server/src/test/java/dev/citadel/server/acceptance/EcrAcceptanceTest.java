package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The registry issue's acceptance with the real clients: skopeo (Debian) pushes an OCI image with
 * the ECR token and copies it back byte-identical; boto3 and the AWS CLI v2 see it; another
 * account cannot pull until the repository policy lets it; an immutable tag cannot be moved; no
 * file under the data directory holds the layer's bytes, compressed or not.
 */
class EcrAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void pushPullPolicyImmutabilityAndSealing() throws Exception {
        Path work = Files.createTempDirectory("citadel-ecr-");
        try (TestServer server = TestServer.start()) {
            Path image = OciImages.tiny(work.resolve("tiny"), "hello from the tiny image");
            Path other = OciImages.tiny(work.resolve("other"), "another image, another digest");
            Path certs = work.resolve("certs");
            Files.createDirectories(certs);
            Files.copy(server.clientFiles().caFile(), certs.resolve("ca.crt"));
            String host = "localhost:" + server.port();

            JsonNode setup = phase(server, "setup");
            assertThat(setup.path("created").toString()).isEqualTo("[\"tiny\",\"AES256\",true]");
            assertThat(setup.path("proxy").asText()).isEqualTo("https://" + host);
            assertThat(setup.path("duplicate").asText()).isEqualTo("RepositoryAlreadyExistsException");
            assertThat(setup.path("bad_name").asText()).isEqualTo("InvalidParameterException");
            assertThat(setup.path("bad_mutability").asText()).isEqualTo("InvalidParameterException");
            assertThat(setup.path("bad_policy").asText()).isEqualTo("InvalidParameterException");
            assertThat(setup.path("no_policy").asText()).isEqualTo("RepositoryPolicyNotFoundException");
            assertThat(setup.path("missing").asText()).isEqualTo("RepositoryNotFoundException");
            assertThat(setup.path("repositories").toString()).isEqualTo("[\"team/immutable\",\"tiny\"]");
            assertThat(setup.path("member_describe").asText()).isEqualTo("AccessDeniedException");
            String admin = setup.path("password").asText();
            String member = setup.path("member_password").asText();
            String account = setup.path("account").asText();

            // skopeo pushes with the ECR token; a copy back is byte-identical.
            Skopeo push = skopeo(certs, "--dest-creds", "AWS:" + admin, "oci:" + image + ":latest", "docker://" + host + "/tiny:v1");
            assertThat(push.exitCode()).as(push.output()).isZero();
            Path back = work.resolve("back");
            Skopeo pull = skopeo(certs, "--src-creds", "AWS:" + admin, "docker://" + host + "/tiny:v1", "oci:" + back + ":latest");
            assertThat(pull.exitCode()).as(pull.output()).isZero();
            String digest = OciImages.manifestDigest(image);
            assertThat(OciImages.manifestDigest(back)).isEqualTo(digest);
            for (String blob : OciImages.referencedBlobs(image)) {
                assertThat(Files.readAllBytes(back.resolve("blobs/sha256/" + blob))).as(blob)
                        .isEqualTo(Files.readAllBytes(image.resolve("blobs/sha256/" + blob)));
            }
            JsonNode images = phase(server, "images", "tiny", "scan");
            assertThat(images.path("images").toString()).isEqualTo("[[\"" + digest + "\",[\"v1\"],\"application/vnd.oci.image.manifest.v1+json\"]]");
            assertThat(images.path("list").toString()).isEqualTo("[\"v1\"]");
            assertThat(images.path("batch_get").get(0).get(0).asText()).isEqualTo(digest);
            assertThat(images.path("batch_get_failures").toString()).isEqualTo("[\"ImageNotFound\"]");
            assertThat(images.path("scan_status").asText()).as("busybox has no package database").isEqualTo("UNSUPPORTED_IMAGE");
            ClientEnvironment.Result cli = ClientEnvironment.run(server.clientFiles(), List.of(AwsCliAcceptanceTest.AWS_CLI_V2.toString(), "ecr",
                    "describe-images", "--repository-name", "tiny", "--query", "imageDetails[].imageDigest", "--output", "text"));
            assertThat(cli.exitCode()).as(cli.stderr()).isZero();
            assertThat(cli.stdout().trim()).isEqualTo(digest);

            // Another account: refused without a repository policy, allowed with one (the ECR host form names the registry).
            String foreign = "docker://" + host + "/" + account + ".dkr.ecr.us-east-1.amazonaws.com/tiny:v1";
            Skopeo refused = skopeo(certs, "--src-creds", "AWS:" + member, foreign, "oci:" + work.resolve("member-refused") + ":latest");
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.output()).containsIgnoringCase("denied");
            Skopeo ownRepo = skopeo(certs, "--src-creds", "AWS:" + member, "docker://" + host + "/tiny:v1",
                    "oci:" + work.resolve("member-own") + ":latest");
            assertThat(ownRepo.exitCode()).as("the member's own registry has no tiny").isNotZero();
            JsonNode policy = phase(server, "policy", setup.path("member").asText());
            assertThat(policy.path("policy").asText()).isEqualTo("MemberPulls");
            assertThat(policy.path("member_describe").asInt()).isEqualTo(1);
            Skopeo allowed = skopeo(certs, "--src-creds", "AWS:" + member, foreign, "oci:" + work.resolve("member") + ":latest");
            assertThat(allowed.exitCode()).as(allowed.output()).isZero();
            assertThat(OciImages.manifestDigest(work.resolve("member"))).isEqualTo(digest);
            Skopeo memberPush = skopeo(certs, "--dest-creds", "AWS:" + member, "oci:" + other + ":latest", foreign.replace(":v1", ":v2"));
            assertThat(memberPush.exitCode()).as("the policy lets the member pull, not push").isNotZero();

            // An immutable tag stays where it was pushed; pushing the same image again is fine.
            String immutable = "docker://" + host + "/team/immutable:v1";
            assertThat(skopeo(certs, "--dest-creds", "AWS:" + admin, "oci:" + image + ":latest", immutable).exitCode()).isZero();
            Skopeo moved = skopeo(certs, "--dest-creds", "AWS:" + admin, "oci:" + other + ":latest", immutable);
            assertThat(moved.exitCode()).isNotZero();
            assertThat(moved.output()).contains("cannot be overwritten because the repository is immutable");
            assertThat(skopeo(certs, "--dest-creds", "AWS:" + admin, "oci:" + image + ":latest", immutable).exitCode()).isZero();
            assertThat(phase(server, "images", "team/immutable").path("images").get(0).get(0).asText()).isEqualTo(digest);

            // A bad token and no token are refused with the registry's 401.
            assertThat(skopeo(certs, "--src-creds", "AWS:" + admin.substring(0, admin.length() - 8) + "AAAAAAAA", "docker://" + host
                    + "/tiny:v1", "oci:" + work.resolve("bad") + ":latest").exitCode()).isNotZero();

            // Sealed at rest: neither the gzip'd layer nor its tar content appears in any file under the data directory.
            List<byte[]> needles = new ArrayList<>();
            for (String layer : OciImages.layers(image)) {
                byte[] gz = Files.readAllBytes(image.resolve("blobs/sha256/" + layer));
                needles.add(java.util.Arrays.copyOfRange(gz, gz.length / 2, gz.length / 2 + 64));
                byte[] tar;
                try (InputStream in = new GZIPInputStream(Files.newInputStream(image.resolve("blobs/sha256/" + layer)))) {
                    tar = in.readAllBytes();
                }
                needles.add("hello from the tiny image".getBytes(StandardCharsets.UTF_8));
                needles.add(java.util.Arrays.copyOfRange(tar, tar.length / 2, tar.length / 2 + 64));
            }
            try (var files = Files.walk(server.dataDir())) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    for (byte[] needle : needles) {
                        assertThat(content).as("%s holds image bytes", f).doesNotContain(new String(needle, StandardCharsets.ISO_8859_1));
                    }
                }
            }

            JsonNode deleted = phase(server, "delete", "team/immutable");
            assertThat(deleted.path("not_empty").asText()).isEqualTo("RepositoryNotEmptyException");
            assertThat(deleted.path("deleted").asText()).isEqualTo("team/immutable");
            assertThat(deleted.path("gone").asText()).isEqualTo("RepositoryNotFoundException");
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * Both test images (scripts/test-images.sh: busybox, and Debian's scikit-learn, 272 MiB of
     * layers) go up with skopeo and come back with the same digests, byte for byte; describe-images
     * lists them. Once per build (the image is large).
     */
    @Test
    @org.junit.jupiter.api.Tag("runs-once")
    void testImagesRoundTripByteIdentical() throws Exception {
        Path work = Files.createTempDirectory("citadel-ecr-images-");
        // The operator imports the OSV fixture (real advisories: one hits coreutils 9.1-1 in bookworm,
        // two name tar and zlib versions bookworm has fixed) with the server stopped, as `citadel vulndb import` does.
        TestServer first = TestServer.start();
        first.stop();
        try (dev.citadel.server.Citadel.Offline offline = dev.citadel.server.Citadel.openOffline(TestServer.config(first.dataDir()))) {
            var report = dev.citadel.services.ecr.scan.VulnerabilityImport.run(offline.store(), List.of(Path.of(
                    "../citadel-services/src/test/resources/dev/citadel/services/ecr/scan/osv")), java.time.Clock.systemUTC());
            assertThat(report.added()).isGreaterThanOrEqualTo(3);
        }
        try (TestServer server = first.restart()) {
            Path certs = work.resolve("certs");
            Files.createDirectories(certs);
            Files.copy(server.clientFiles().caFile(), certs.resolve("ca.crt"));
            String host = "localhost:" + server.port();
            ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n",
                    "import base64, boto3",
                    "ecr = boto3.client('ecr')",
                    "for n in ('tiny', 'sklearn'): ecr.create_repository(repositoryName=n, imageScanningConfiguration={'scanOnPush': True})",
                    "t = ecr.get_authorization_token()['authorizationData'][0]['authorizationToken']",
                    "print(base64.b64decode(t).decode().split(':', 1)[1])")));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            String password = r.stdout().trim();
            for (dev.citadel.server.images.TestImages.Image image : List.of(dev.citadel.server.images.TestImages.tiny(),
                    dev.citadel.server.images.TestImages.sklearn())) {
                String remote = "docker://" + host + "/" + image.name() + ":v1";
                Skopeo push = skopeo(certs, "--dest-creds", "AWS:" + password, image.skopeoReference(), remote);
                assertThat(push.exitCode()).as(push.output()).isZero();
                Path back = work.resolve(image.name());
                Skopeo pull = skopeo(certs, "--src-creds", "AWS:" + password, remote, "oci:" + back + ":latest");
                assertThat(pull.exitCode()).as(pull.output()).isZero();
                assertThat(OciImages.manifestDigest(back)).isEqualTo(image.manifestDigest());
                List<String> digests = new ArrayList<>(List.of(image.manifestDigest(), image.configDigest()));
                digests.addAll(image.layerDigests());
                for (String digest : digests) {
                    assertThat(sha256(back.resolve("blobs/sha256/" + digest.substring(7)))).as(digest).isEqualTo(digest);
                    assertThat(Files.size(back.resolve("blobs/sha256/" + digest.substring(7)))).isEqualTo(Files.size(image.blob(digest)));
                }
                ClientEnvironment.Result cli = ClientEnvironment.run(server.clientFiles(), List.of(AwsCliAcceptanceTest.AWS_CLI_V2.toString(),
                        "ecr", "describe-images", "--repository-name", image.name(), "--query", "imageDetails[].[imageDigest,imageSizeInBytes]",
                        "--output", "text"));
                assertThat(cli.exitCode()).as(cli.stderr()).isZero();
                assertThat(cli.stdout().trim()).isEqualTo(image.manifestDigest() + "\t" + image.totalSize());
            }
            // Scanned on push: the busybox image has no package database; the Debian one has coreutils 9.1-1,
            // which the planted advisory names, and the fixed tar and zlib, which it must not report.
            JsonNode tiny = phase(server, "images", "tiny", "scan");
            assertThat(tiny.path("scan_status").asText()).isEqualTo("UNSUPPORTED_IMAGE");
            JsonNode sklearn = phase(server, "images", "sklearn", "scan");
            assertThat(sklearn.path("scan_status").asText()).isEqualTo("COMPLETE");
            List<String> found = new ArrayList<>();
            sklearn.path("findings").forEach(f -> found.add(f.get(0).asText() + " " + f.get(1).asText() + " "
                    + f.get(2).path("package_name").asText() + " " + f.get(2).path("package_version").asText()));
            assertThat(found).as("named by its CVE, as ECR names findings").containsExactly("CVE-2016-2781 LOW coreutils 9.1-1");
            JsonNode again = phase(server, "images", "sklearn", "scan", "on-demand");
            assertThat(again.path("started").asText()).isEqualTo("IN_PROGRESS");
            assertThat(again.path("scan_status").asText()).isEqualTo("COMPLETE");
            assertThat(again.path("findings").size()).isEqualTo(1);
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String sha256(Path file) throws Exception {
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        }
        return "sha256:" + java.util.HexFormat.of().formatHex(sha.digest());
    }

    private static JsonNode phase(TestServer server, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_ecr.py").toString()));
        command.addAll(List.of(args));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }

    record Skopeo(int exitCode, String output) {
    }

    /** {@code skopeo copy} trusting Citadel's CA for both sides (the OCI side ignores it). */
    static Skopeo skopeo(Path certs, String credsFlag, String creds, String from, String to) throws IOException, InterruptedException {
        String certFlag = credsFlag.startsWith("--dest") ? "--dest-cert-dir" : "--src-cert-dir";
        // --preserve-digests: a refusal of the OCI manifest must fail the copy, not turn it into another format.
        ProcessBuilder pb = new ProcessBuilder("skopeo", "copy", "--preserve-digests", "--retry-times", "0", certFlag, certs.toString(), credsFlag,
                creds, from, to);
        pb.redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("skopeo timed out");
        }
        return new Skopeo(p.exitValue(), out.replace(creds, "<creds>"));
    }
}
