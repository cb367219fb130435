package dev.citadel.services.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * How {@link KubernetesSandbox} moves files into and out of a run's pod. The container itself has
 * no network, so the files travel through the API server: {@link ExecPodTransfer} streams tar
 * archives over {@code pods/exec} into the stager and out of the collector.
 */
interface PodTransfer {
    /**
     * Copies the tree under {@code local} (regular files and directories only; the relative paths
     * in {@code excluded} and what lies under them are left out) into {@code remoteDir} of the
     * pod's {@code container}.
     */
    void upload(String pod, String container, Path local, Set<Path> excluded, String remoteDir) throws IOException;

    /**
     * Copies the tree under {@code remoteDir} of the pod's {@code container} into {@code local}
     * (which must not exist): regular files and directories only, names that stay inside
     * {@code local}, at most {@code maxBytes} of file contents; anything else fails.
     */
    void download(String pod, String container, String remoteDir, Path local, long maxBytes) throws IOException;

    /** Creates the empty file {@code remotePath} in the pod's {@code container}. */
    void touch(String pod, String container, String remotePath) throws IOException;
}
