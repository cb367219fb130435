package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import dev.citadel.services.sandbox.ContainerHttp;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a serving container is, for endpoints and transform jobs alike: the model's image started
 * with {@code serve}, the run's volume at {@code /opt/ml}, the unpacked model artifact over it at
 * {@code /opt/ml/model}, read-only, the instance type's CPUs and memory, and no time limit (ten
 * seconds from SIGTERM to SIGKILL when it is stopped); Citadel reaches its port {@value #PORT}
 * only through the sandbox's channel. The sandbox tests start hostile serving containers from
 * exactly this spec.
 */
public final class ServingContainer {
    /** The port SageMaker's inference contract listens on ({@code GET /ping}, {@code POST /invocations}). */
    public static final int PORT = 8080;
    /** Connections to one container kept open between calls. */
    static final int IDLE_CONNECTIONS = 16;

    private ServingContainer() {
    }

    /**
     * @param modelDirectory the host directory holding the unpacked model artifact (inside the run's volume)
     * @param pids           processes and threads the container may have
     * @param outputBytes    how much of its output reaches its log
     */
    public static ContainerSpec spec(ContainerSpec.Image image, Map<String, String> environment, Path modelDirectory,
            InstanceTypes.Profile profile, int pids, long outputBytes) {
        requireNonNull(modelDirectory, "modelDirectory is null");
        requireNonNull(profile, "profile is null");
        return new ContainerSpec(image, Optional.empty(), List.of("serve"), environment, "/opt/ml",
                List.of(new ContainerSpec.Mount(modelDirectory, "/opt/ml/model", true)),
                new ContainerSpec.Limits(profile.cpus(), profile.memoryBytes(), pids, outputBytes), Duration.ofDays(3650),
                Duration.ofSeconds(10));
    }

    /** The client Citadel calls a started serving container's port {@value #PORT} with. */
    public static ContainerHttp http(Execution execution) {
        return new ContainerHttp(execution, PORT, IDLE_CONNECTIONS);
    }
}
