package dev.citadel.services.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ContainerResource;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Moves files through {@code pods/exec}: {@code tar -x} reads an archive Citadel writes to its
 * standard input (so nothing is spooled inside the pod and the emptyDir holds each byte once), and
 * {@code tar -c} writes one Citadel reads from its standard output, keeping only regular files and
 * directories whose names stay below the target, and no more bytes than the caller allows: the
 * archive comes from a container's volume and is untrusted. The stager and collector images need
 * {@code tar} and {@code touch} (busybox has both).
 */
final class ExecPodTransfer implements PodTransfer {
    private static final int ERROR_BYTES = 4096;

    private final KubernetesClient client;
    private final String namespace;
    private final Duration timeout;

    ExecPodTransfer(KubernetesClient client, String namespace, Duration timeout) {
        this.client = client;
        this.namespace = namespace;
        this.timeout = timeout;
    }

    @Override
    public void upload(String pod, String container, Path local, Set<Path> excluded, String remoteDir) throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (ExecWatch watch = in(pod, container).redirectingInput().writingOutput(OutputStream.nullOutputStream()).writingError(limited(err))
                .exec("tar", "-C", remoteDir, "-xf", "-")) {
            CompletableFuture<Void> watchdog = closeAfterTimeout(watch);
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(watch.getInput())) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                addTree(tar, local, local, excluded);
            }
            await(watch, "tar -x", err);
            watchdog.cancel(false);
        } catch (KubernetesClientException e) {
            throw new IOException("upload to " + pod + "/" + container + " failed: " + e.getMessage(), e);
        }
    }

    private static void addTree(TarArchiveOutputStream tar, Path root, Path dir, Set<Path> excluded) throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.sorted().toList()) {
                Path relative = root.relativize(child);
                if (excluded.contains(relative)) {
                    continue;
                }
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    tar.putArchiveEntry(new TarArchiveEntry(child, relative + "/", LinkOption.NOFOLLOW_LINKS));
                    tar.closeArchiveEntry();
                    addTree(tar, root, child, excluded);
                } else if (Files.isRegularFile(child, LinkOption.NOFOLLOW_LINKS)) {
                    tar.putArchiveEntry(new TarArchiveEntry(child, relative.toString(), LinkOption.NOFOLLOW_LINKS));
                    Files.copy(child, tar);
                    tar.closeArchiveEntry();
                }
                // Links and special files are Citadel's own making or none; they never travel.
            }
        }
    }

    @Override
    public void download(String pod, String container, String remoteDir, Path local, long maxBytes) throws IOException {
        Files.createDirectory(local);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (ExecWatch watch = in(pod, container).redirectingOutput().writingError(limited(err)).exec("tar", "-C", remoteDir, "-cf", "-", ".")) {
            CompletableFuture<Void> watchdog = closeAfterTimeout(watch);
            try (TarArchiveInputStream tar = new TarArchiveInputStream(watch.getOutput())) {
                extract(tar, local, maxBytes);
            }
            await(watch, "tar -c", err);
            watchdog.cancel(false);
        } catch (KubernetesClientException e) {
            throw new IOException("download from " + pod + "/" + container + " failed: " + e.getMessage(), e);
        }
    }

    /** Writes the regular files and directories of an untrusted archive below {@code local}. */
    static void extract(TarArchiveInputStream tar, Path local, long maxBytes) throws IOException {
        long total = 0;
        byte[] buffer = new byte[64 * 1024];
        for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
            String name = entry.getName();
            Path target = local.resolve(name).normalize();
            if (name.startsWith("/") || !target.startsWith(local)) {
                throw new IOException("the archive names a path outside the volume");
            }
            if (target.equals(local)) {
                continue;
            }
            if (entry.isDirectory()) {
                Files.createDirectories(target);
            } else if (entry.getLinkFlag() == TarConstants.LF_NORMAL || entry.getLinkFlag() == TarConstants.LF_OLDNORM) {
                Files.createDirectories(target.getParent());
                try (OutputStream out = Files.newOutputStream(target, java.nio.file.StandardOpenOption.CREATE_NEW)) {
                    for (int n; (n = tar.read(buffer)) > 0; ) {
                        total += n;
                        if (total > maxBytes) {
                            throw new IOException("the volume holds more than its size");
                        }
                        out.write(buffer, 0, n);
                    }
                }
            }
            // Links, devices and fifos a container made are dropped: Citadel follows none of them.
        }
    }

    @Override
    public void touch(String pod, String container, String remotePath) throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (ExecWatch watch = in(pod, container).writingOutput(OutputStream.nullOutputStream()).writingError(limited(err))
                .exec("touch", remotePath)) {
            await(watch, "touch", err);
        } catch (KubernetesClientException e) {
            throw new IOException("touch in " + pod + "/" + container + " failed: " + e.getMessage(), e);
        }
    }

    private ContainerResource in(String pod, String container) {
        return client.pods().inNamespace(namespace).withName(pod).inContainer(container);
    }

    private CompletableFuture<Void> closeAfterTimeout(ExecWatch watch) {
        return CompletableFuture.runAsync(watch::close, CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS));
    }

    private void await(ExecWatch watch, String what, ByteArrayOutputStream err) throws IOException {
        Integer code;
        try {
            code = watch.exitCode().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException(what + " did not finish", e);
        }
        if (code == null || code != 0) {
            throw new IOException(what + " exited with " + code + ": " + err.toString(java.nio.charset.StandardCharsets.UTF_8).strip());
        }
    }

    /** Keeps the first bytes of a stream, drops the rest (error text of a tool, for the operator's log). */
    private static OutputStream limited(ByteArrayOutputStream into) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                if (into.size() < ERROR_BYTES) {
                    into.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                into.write(b, off, Math.max(0, Math.min(len, ERROR_BYTES - into.size())));
            }
        };
    }

    static long treeBytes(Path root, Set<Path> excluded) throws IOException {
        long total = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                Path relative = root.relativize(p);
                if (excluded.stream().anyMatch(relative::startsWith)) {
                    continue;
                }
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    total += Files.size(p);
                }
            }
        }
        return total;
    }
}
