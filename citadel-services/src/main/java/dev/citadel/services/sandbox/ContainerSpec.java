package dev.citadel.services.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a container runs and within which limits.
 *
 * @param image       the image, by manifest digest
 * @param entrypoint  replaces the image's Entrypoint when present (processing jobs' ContainerEntrypoint)
 * @param arguments   replace the image's Cmd and follow the Entrypoint, as {@code docker run IMAGE ARGS}
 *                    does (SageMaker starts training images with {@code train}); empty keeps the image's Cmd
 * @param environment added to (and overriding) the image's environment
 * @param volumePath  where the run's volume appears in the container ({@code /opt/ml}), read-write
 * @param mounts      further host directories to show the container
 * @param limits      CPU, memory, processes and output
 * @param timeLimit   how long it may run: then SIGTERM, and SIGKILL after {@code grace}
 * @param grace       the time between SIGTERM and SIGKILL when the time limit ends it or it is stopped
 */
public record ContainerSpec(Image image, Optional<List<String>> entrypoint, List<String> arguments, Map<String, String> environment,
        String volumePath, List<Mount> mounts, Limits limits, Duration timeLimit, Duration grace) {
    public ContainerSpec {
        Objects.requireNonNull(image, "image");
        entrypoint = entrypoint.map(List::copyOf);
        arguments = List.copyOf(arguments);
        environment = Map.copyOf(environment);
        mounts = List.copyOf(mounts);
        Objects.requireNonNull(limits, "limits");
        if (!volumePath.startsWith("/")) {
            throw new IllegalArgumentException("volumePath must be absolute");
        }
    }

    /**
     * An image. {@code digest} ({@code sha256:…}, of its manifest) identifies it; {@code reference}
     * is how a cluster pulls it ({@code host/repo@sha256:…}); {@code layout} writes it as an OCI
     * image layout for sandboxes that unpack images themselves.
     */
    public record Image(String digest, String reference, LayoutSource layout) {
        public Image {
            if (!digest.matches("sha256:[0-9a-f]{64}")) {
                throw new IllegalArgumentException("bad image digest");
            }
        }
    }

    /** Writes an image as an OCI image layout. */
    @FunctionalInterface
    public interface LayoutSource {
        /** Writes the image into {@code directory} (empty or missing) as an OCI layout whose index tags it {@code tag}. */
        void writeLayout(Path directory, String tag) throws IOException;
    }

    /** A host directory shown inside the container. */
    public record Mount(Path source, String destination, boolean readOnly) {
        public Mount {
            if (!destination.startsWith("/") || destination.contains("..")) {
                throw new IllegalArgumentException("bad mount destination");
            }
        }
    }

    /**
     * @param cpus        CPU time, in CPUs (1.5 = one and a half)
     * @param memoryBytes memory and swap together
     * @param pids        processes and threads
     * @param outputBytes how much output reaches the sink
     */
    public record Limits(double cpus, long memoryBytes, int pids, long outputBytes) {
    }
}
