package dev.citadel.server;

import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** A Citadel server in a child JVM (so that a test can kill -9 it), started on a data directory and port. */
final class ChildServer {
    private ChildServer() {
    }

    /**
     * Starts the server and waits until it accepts connections (at most 90 s); {@code settings}
     * are further {@code KEY=VALUE} settings, which win over the operator listener's default here
     * (an ephemeral loopback port). The server's output is appended to {@code <data-dir>.log}.
     */
    static Process start(Path dataDir, int port, String... settings) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "dev.citadel.server.CitadelMain", "server", "--data-dir", dataDir.toString(),
                "--listen", "127.0.0.1:" + port, "--set", "operator.listen=127.0.0.1:0"));
        for (String s : settings) {
            command.add("--set");
            command.add(s);
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile()));
        Process p = pb.start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the server process stopped: " + Files.readString(dataDir.resolveSibling(dataDir.getFileName() + ".log")));
            }
            if (Files.exists(dataDir.resolve("client/env"))) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return p;
                } catch (IOException notYet) {
                    // keep waiting
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("the server did not start within 90 s");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * Runs a client script (a test resource) against the server of {@code dataDir} with the
     * environment a user gets from its client files, until it has acknowledged {@code atLeast}
     * lines in {@code acks} (or stopped, or 120 s passed); then kills the server with SIGKILL and
     * waits for the script to end. Returns the acknowledged lines.
     */
    static List<String> killDuring(Process server, Path dataDir, String script, Path acks, int atLeast) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", ClientEnvironment.resourceFile(script).toString(), acks.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        pb.environment().putAll(ClientEnvironment.variables(new ClientFiles(dataDir)));
        pb.redirectErrorStream(true).redirectOutput(acks.resolveSibling("client.log").toFile());
        Process client = pb.start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
            while (Files.readAllLines(acks).size() < atLeast && Instant.now().isBefore(deadline) && client.isAlive()) {
                Thread.sleep(20);
            }
            server.destroyForcibly().waitFor();
            client.waitFor();
        } finally {
            client.destroyForcibly();
        }
        return Files.readAllLines(acks).stream().filter(l -> !l.isBlank()).toList();
    }

    /**
     * Creates the ECR repository {@code repository} with the admin's credentials and pushes the
     * tiny test image to it as {@code <repository>:v1} with skopeo (the cheapest image a job can
     * run: busybox, one layer of about 1 MiB). {@code scratch} receives skopeo's certificate directory.
     */
    static void pushTinyImage(Path dataDir, int port, String repository, Path scratch) throws Exception {
        ClientFiles files = new ClientFiles(dataDir);
        ClientEnvironment.Result token = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                "import base64, boto3",
                "ecr = boto3.client('ecr')",
                "ecr.create_repository(repositoryName='" + repository + "')",
                "t = ecr.get_authorization_token()['authorizationData'][0]['authorizationToken']",
                "print(base64.b64decode(t).decode().split(':', 1)[1])")));
        if (token.exitCode() != 0) {
            throw new IllegalStateException("cannot create the repository: " + token.stderr());
        }
        Path certs = scratch.resolve("certs");
        Files.createDirectories(certs);
        Files.copy(files.caFile(), certs.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ProcessBuilder pb = new ProcessBuilder("skopeo", "copy", "--dest-cert-dir", certs.toString(), "--dest-creds",
                "AWS:" + token.stdout().trim(), dev.citadel.server.images.TestImages.tiny().skopeoReference(),
                "docker://localhost:" + port + "/" + repository + ":v1");
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        Process push = pb.redirectErrorStream(true).start();
        String pushed = new String(push.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!push.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) || push.exitValue() != 0) {
            throw new IllegalStateException("skopeo copy failed (install skopeo: ./citadel test installs it): " + pushed);
        }
    }

    /**
     * Python lines, after {@code import json, boto3}, that set {@code account} and make the role
     * {@code role}, which SageMaker may assume and which may pull images and use S3, and the bucket
     * {@code <bucketPrefix>-<account>}: what a test's training jobs of the tiny image need.
     */
    static List<String> jobRoleAndBucket(String role, String bucketPrefix) {
        return List.of(
                "account = boto3.client('sts').get_caller_identity()['Account']",
                "trust = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'Service': 'sagemaker.amazonaws.com'},",
                "         'Action': 'sts:AssumeRole'}]}",
                "iam = boto3.client('iam')",
                "iam.create_role(RoleName='" + role + "', AssumeRolePolicyDocument=json.dumps(trust))",
                "iam.put_role_policy(RoleName='" + role + "', PolicyName='jobs', PolicyDocument=json.dumps({'Version': '2012-10-17',",
                "    'Statement': [{'Effect': 'Allow', 'Action': ['ecr:BatchGetImage', 's3:*'], 'Resource': '*'}]}))",
                "boto3.client('s3').create_bucket(Bucket='" + bucketPrefix + "-' + account)");
    }

    /** Removes a directory tree (test leftovers). */
    static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
