package dev.citadel.services.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * Where job containers run (DESIGN.md §6): {@code runc} on this machine, or Jobs on a Kubernetes
 * cluster. Whatever the implementation, a container has no network, no credentials, no privilege
 * and no way to outlive its limits; what it may touch is its image (read-only), its volume and the
 * mounts it is given.
 *
 * <p>A run goes: {@link #createVolume} (a directory of a fixed size that becomes the container's
 * working tree, SageMaker's {@code /opt/ml}; the caller fills it with inputs), {@link #start}, wait
 * for {@link Execution#exit()}, read the outputs back from the volume, {@link #remove}. Ids are
 * the caller's (lower-case letters, digits and dashes, at most 63), unique among present runs.
 */
public interface Sandbox extends AutoCloseable {
    /** What a container id must look like. */
    java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    /** How long a volume key is, in bytes. */
    int VOLUME_KEY_BYTES = 64;

    /**
     * Makes the volume of run {@code id}: an empty host directory that holds at most
     * {@code sizeBytes} (writes beyond it fail with ENOSPC, inside the container and for the
     * caller filling it alike). Only Citadel and the container can read it. What is written to it
     * reaches the disk encrypted under {@code key} ({@value #VOLUME_KEY_BYTES} bytes: a data key
     * from the job's VolumeKmsKeyId, or random), and the key is forgotten when the run is
     * {@linkplain #remove removed}; the caller may wipe its copy as soon as this returns.
     */
    Path createVolume(String id, long sizeBytes, byte[] key) throws IOException;

    /** {@link #createVolume(String, long, byte[])} under a random key that nobody keeps. */
    default Path createVolume(String id, long sizeBytes) throws IOException {
        byte[] key = new byte[VOLUME_KEY_BYTES];
        RANDOM.nextBytes(key);
        try {
            return createVolume(id, sizeBytes, key);
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }

    /** Where random volume keys come from. */
    java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /**
     * Starts run {@code id}'s container. The returned execution ends when the container's last
     * process has; its output lines go to {@code output} as they come, up to the spec's limit.
     *
     * @throws SandboxException when the container cannot be started (bad image, no capacity); nothing is left running
     */
    Execution start(String id, ContainerSpec spec, OutputSink output) throws IOException;

    /**
     * The ids of every run this sandbox holds (containers and volumes), including those a
     * previous process of Citadel left behind after a crash.
     */
    Set<String> present() throws IOException;

    /** Kills whatever runs under {@code id} and deletes its volume and files. Idempotent. */
    void remove(String id) throws IOException;

    /**
     * Why no container can run here (the runtime missing, a data directory containers cannot
     * reach), or empty when containers can run. Citadel then serves everything but jobs and
     * endpoints, and its readiness reports the sandbox as degraded.
     */
    default java.util.Optional<String> unavailable() {
        return java.util.Optional.empty();
    }

    @Override
    default void close() {
    }

    /** Where a container's output lines go. Called from one thread per run. */
    interface OutputSink {
        /** One line of the container's standard output or error, without its line break. */
        void line(java.time.Instant at, String line);

        /** The output limit was reached; no more lines follow. Called at most once. */
        default void truncated() {
        }

        OutputSink DISCARD = (at, line) -> {
        };
    }
}
