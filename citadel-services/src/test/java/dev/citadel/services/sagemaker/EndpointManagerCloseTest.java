package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.iam.IamRepository;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.services.TestSupport;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.iam.PolicyAuthorizer;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * EndpointManager's shutdown: a deployment under way when {@link EndpointManager#close} begins
 * starts no container afterwards and removes the volume it made, close waits for it, and the
 * endpoint keeps its status for the next start. A sandbox that pauses at a chosen step lets the
 * test close the manager exactly there.
 */
class EndpointManagerCloseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private MetadataStore store;
    private Resources resources;
    private PausingSandbox sandbox;
    private EndpointManager manager;
    private ExecutionRoles roles;
    private String account;
    /** ECR's BatchGetImage, as the role pulls the model's image: the image is there. */
    private final JobData.Invoker invoker = (principal, service, operation, input) -> {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("images").addObject();
        return out;
    };

    /** Where the sandbox holds a run until the test lets it go on. */
    enum Pause {
        /** In createVolume, the volume made (mounted, with runc). */
        VOLUME_MADE,
        /** In start, the container started. */
        CONTAINER_STARTED
    }

    /** A sandbox that keeps track of what is present and pauses at one step of the first run. */
    static final class PausingSandbox implements Sandbox {
        final Pause pause;
        final Path root;
        final CountDownLatch paused = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);
        final Set<String> present = ConcurrentHashMap.newKeySet();
        final List<String> started = Collections.synchronizedList(new ArrayList<>());

        PausingSandbox(Pause pause, Path root) {
            this.pause = pause;
            this.root = root;
        }

        @Override
        public Path createVolume(String id, long sizeBytes, byte[] key) throws java.io.IOException {
            present.add(id);
            Path volume = Files.createDirectories(root.resolve(id));
            if (pause == Pause.VOLUME_MADE) {
                hold();
            }
            return volume;
        }

        @Override
        public Execution start(String id, ContainerSpec spec, OutputSink output) {
            started.add(id);
            if (pause == Pause.CONTAINER_STARTED) {
                hold();
            }
            return new Execution() {
                private final CompletableFuture<Exit> exit = new CompletableFuture<>();

                @Override
                public String id() {
                    return id;
                }

                @Override
                public CompletableFuture<Exit> exit() {
                    return exit;
                }

                @Override
                public void stop(Duration grace) {
                    exit.complete(new Exit(143, Reason.STOPPED, Instant.now(), ""));
                }
            };
        }

        private void hold() {
            paused.countDown();
            try {
                proceed.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public Set<String> present() {
            return Set.copyOf(present);
        }

        @Override
        public void remove(String id) {
            present.remove(id);
        }
    }

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        TestSupport.MovableClock clock = new TestSupport.MovableClock();
        TestSupport.MarkingSealer sealer = new TestSupport.MarkingSealer();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        account = directory.resolveAccessKey(directory.createOrganization("ops@example.com", "admin").accessKeyId()).orElseThrow()
                .principal().account().value();
        String trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                + "\"sagemaker.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
        String roleArn = "arn:aws:iam::" + account + ":role/Serving";
        store.useTransaction(h -> new IamRepository(h).insertRole(new IamRole(account, "Serving", "AROAABCDEFGHIJKLMNOP", "/", roleArn, trust,
                "", 3600, clock.instant())));
        resources = new Resources(store, sealer, clock);
        ObjectNode model = JsonNodeFactory.instance.objectNode().put("ExecutionRoleArn", roleArn);
        model.putObject("PrimaryContainer").put("Image", "registry/model:1");
        model.putObject("__image").put("account", account).put("repository", "model").put("digest", "sha256:" + "0".repeat(64));
        insert(Kind.MODEL, "m", "Active", model);
        insert(Kind.ENDPOINT_CONFIG, "cfg", "Active", json("""
                {"ProductionVariants":[{"VariantName":"A","ModelName":"m","InstanceType":"ml.t3.medium","InitialInstanceCount":1}]}"""));
        insert(Kind.ENDPOINT, "ep", "Creating", json("{\"EndpointConfigName\":\"cfg\"}"));
        roles = new ExecutionRoles(directory, new PolicyAuthorizer(directory), clock);
    }

    private EndpointManager manager(Pause pause) {
        sandbox = new PausingSandbox(pause, dir.resolve("runs"));
        DataCapture capture = new DataCapture((t, k, b) -> { }, new DataCapture.Limits(Duration.ofHours(1), 1 << 20), new Random(1));
        manager = new EndpointManager(resources, sandbox, new JobImages(null), roles, invoker, InstanceTypes.defaults(),
                (a, group, stream) -> Sandbox.OutputSink.DISCARD, new EndpointManager.Limits(64, 1 << 20, Duration.ofSeconds(2), 1,
                        Duration.ofSeconds(5)), () -> "localhost", capture);
        return manager;
    }

    @AfterEach
    void tearDown() {
        if (sandbox != null) {
            sandbox.proceed.countDown();
        }
        if (manager != null) {
            manager.close();
        }
        store.close();
    }

    @ParameterizedTest
    @EnumSource(Pause.class)
    void aDeploymentUnderWayWhenCloseBeginsLeavesNothingAndCloseWaitsForIt(Pause pause) throws Exception {
        EndpointManager m = manager(pause);
        Thread deploying = Thread.ofPlatform().start(() -> m.deploy(account, "ep", "cfg", "Creating"));
        assertThat(sandbox.paused.await(30, TimeUnit.SECONDS)).as("the deployment reached the pause").isTrue();

        Thread closing = Thread.ofPlatform().start(m::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closing.getState() != Thread.State.TIMED_WAITING && closing.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        boolean closeWaited = closing.getState() == Thread.State.TIMED_WAITING;
        sandbox.proceed.countDown();
        closing.join(Duration.ofSeconds(60));
        deploying.join(Duration.ofSeconds(60));

        assertThat(closeWaited).as("close waits for the deployment under way").isTrue();
        assertThat(closing.isAlive()).isFalse();
        assertThat(deploying.isAlive()).isFalse();
        if (pause == Pause.VOLUME_MADE) {
            assertThat(sandbox.started).as("no container starts once close has begun").isEmpty();
        }
        assertThat(sandbox.present()).as("what the deployment made is removed").isEmpty();
        assertThat(resources.find(account, Kind.ENDPOINT, "ep").orElseThrow().status()).as("deployed again at the next start")
                .isEqualTo("Creating");
    }

    @Test
    void nothingIsDeployedOrStartedAfterClose() {
        EndpointManager m = manager(Pause.VOLUME_MADE);
        m.close();
        m.deploy(account, "ep", "cfg", "Creating");
        assertThatThrownBy(() -> m.startServing(account, "m", "ml.t3.medium", java.util.Map.of(), "/aws/sagemaker/TransformJobs", "job/",
                java.util.Optional.empty(), "job"))
                .isInstanceOf(EndpointManager.Closing.class);
        assertThat(sandbox.present()).isEmpty();
        assertThat(sandbox.started).isEmpty();
        assertThat(resources.find(account, Kind.ENDPOINT, "ep").orElseThrow().status()).isEqualTo("Creating");
    }

    private void insert(Kind kind, String name, String status, ObjectNode body) {
        Instant now = resources.clock.instant();
        resources.insert(new Resource(account, kind, name, "arn:aws:sagemaker:us-east-1:" + account + ":" + kind.name().toLowerCase() + "/" + name,
                status, Optional.empty(), resources.seal(kind, account, name, body), "{}", now, now));
    }

    private static ObjectNode json(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return (ObjectNode) n;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
