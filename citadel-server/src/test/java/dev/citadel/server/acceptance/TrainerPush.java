package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import dev.citadel.server.images.TrainerImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Builds the trainer image (TrainerImage) and pushes it with skopeo into a new repository of a test server's admin. */
final class TrainerPush {
    private TrainerPush() {
    }

    /** Returns the image URI ({@code localhost:<port>/<repository>:v1}); {@code work} receives the layout and the CA. */
    static String push(TestServer server, Path work, String repository) throws Exception {
        Path layout = TrainerImage.build(work.resolve("trainer"));
        Path certs = work.resolve("certs");
        Files.createDirectories(certs);
        Files.copy(server.clientFiles().caFile(), certs.resolve("ca.crt"));
        String host = "localhost:" + server.port();
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n",
                "import base64, boto3",
                "ecr = boto3.client('ecr')",
                "ecr.create_repository(repositoryName='" + repository + "')",
                "t = ecr.get_authorization_token()['authorizationData'][0]['authorizationToken']",
                "print(base64.b64decode(t).decode().split(':', 1)[1])")));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        EcrAcceptanceTest.Skopeo push = EcrAcceptanceTest.skopeo(certs, "--dest-creds", "AWS:" + r.stdout().trim(),
                "oci:" + layout + ":" + TrainerImage.TAG, "docker://" + host + "/" + repository + ":v1");
        assertThat(push.exitCode()).as(push.output()).isZero();
        return host + "/" + repository + ":v1";
    }
}
