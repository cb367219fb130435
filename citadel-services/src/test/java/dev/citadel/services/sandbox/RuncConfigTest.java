package dev.citadel.services.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The runtime configuration RuncSandbox writes, without running it (RuncSandboxTest in citadel-server runs it). */
class RuncConfigTest {
    private static final ContainerSpec.Image IMAGE = new ContainerSpec.Image("sha256:" + "a".repeat(64), "r@sha256:" + "a".repeat(64),
            (dir, tag) -> {
                throw new UnsupportedOperationException();
            });
    private static final ImageRoots.ImageConfig PYTHON = new ImageRoots.ImageConfig(List.of("python3"), List.of("-c", "print(1)"),
            List.of("PATH=/usr/bin:/bin", "LANG=C.UTF-8"), "/opt/ml/code", "1000:2000");

    private static ContainerSpec spec(Optional<List<String>> entrypoint, List<String> arguments, Map<String, String> env) {
        return new ContainerSpec(IMAGE, entrypoint, arguments, env, "/opt/ml", List.of(), new ContainerSpec.Limits(1.5, 1L << 30, 100, 1000),
                Duration.ofMinutes(1), Duration.ofSeconds(5));
    }

    @Test
    void argumentsFollowDockerRun() throws Exception {
        assertThat(RuncSandbox.arguments(spec(Optional.empty(), List.of(), Map.of()), PYTHON)).containsExactly("python3", "-c", "print(1)");
        assertThat(RuncSandbox.arguments(spec(Optional.empty(), List.of("train"), Map.of()), PYTHON)).containsExactly("python3", "train");
        // A new entrypoint drops the image's Cmd, as docker run --entrypoint does.
        assertThat(RuncSandbox.arguments(spec(Optional.of(List.of("/bin/sh", "-c")), List.of(), Map.of()), PYTHON))
                .containsExactly("/bin/sh", "-c");
        assertThat(RuncSandbox.arguments(spec(Optional.of(List.of("/bin/sh")), List.of("-c", "true"), Map.of()), PYTHON))
                .containsExactly("/bin/sh", "-c", "true");
        assertThatThrownBy(() -> RuncSandbox.arguments(spec(Optional.of(List.of()), List.of(), Map.of()), PYTHON))
                .isInstanceOf(SandboxException.class);
    }

    @Test
    void theSpecsEnvironmentOverlaysTheImagesAndPathHasADefault() {
        assertThat(RuncSandbox.environment(spec(Optional.empty(), List.of(), Map.of("LANG", "en_US.UTF-8", "X", "1")), PYTHON))
                .containsExactlyInAnyOrderEntriesOf(Map.of("PATH", "/usr/bin:/bin", "LANG", "en_US.UTF-8", "X", "1"));
        ImageRoots.ImageConfig bare = new ImageRoots.ImageConfig(List.of(), List.of("/bin/sh"), List.of(), "", "");
        assertThat(RuncSandbox.environment(spec(Optional.empty(), List.of(), Map.of()), bare))
                .containsEntry("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    }

    @Test
    void onlyNumericUsersAreTakenAndAnythingElseIsRootInTheNamespace() {
        assertThat(RuncSandbox.user("1000:2000")).containsExactly(1000, 2000);
        assertThat(RuncSandbox.user("1000")).containsExactly(1000, 0);
        assertThat(RuncSandbox.user("nobody")).containsExactly(0, 0);
        assertThat(RuncSandbox.user("")).containsExactly(0, 0);
        assertThat(RuncSandbox.user("70000")).containsExactly(0, 0);
    }

    @Test
    void theConfigurationHoldsTheIsolation() throws Exception {
        ImageRoots.Root root = new ImageRoots.Root("a".repeat(64), Path.of("/srv/sandbox/images/" + "a".repeat(64) + "/rootfs"), PYTHON);
        ObjectNode c = RuncSandbox.config("run-1", spec(Optional.empty(), List.of("train"), Map.of()), root, Path.of("/srv/sandbox/runs/run-1/volume"));
        assertThat(c.at("/root/path").asText()).isEqualTo(root.rootfs().toString());
        assertThat(c.at("/root/readonly").asBoolean()).isTrue();
        assertThat(c.at("/process/user/uid").asInt()).isEqualTo(1000);
        assertThat(c.at("/process/user/gid").asInt()).isEqualTo(2000);
        assertThat(c.at("/process/cwd").asText()).isEqualTo("/opt/ml/code");
        assertThat(c.at("/process/noNewPrivileges").asBoolean()).isTrue();
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            assertThat(c.at("/process/capabilities/" + set)).isEmpty();
        }
        List<String> namespaces = new ArrayList<>();
        c.at("/linux/namespaces").forEach(n -> namespaces.add(n.path("type").asText()));
        assertThat(namespaces).containsExactlyInAnyOrder("pid", "network", "ipc", "uts", "mount", "user", "cgroup");
        assertThat(c.at("/linux/uidMappings/0/hostID").asInt()).isEqualTo(RuncSandbox.HOST_ID_BASE);
        assertThat(c.at("/linux/resources/cpu/quota").asLong()).isEqualTo(150_000);
        assertThat(c.at("/linux/resources/cpu/period").asLong()).isEqualTo(100_000);
        assertThat(c.at("/linux/resources/memory/limit").asLong()).isEqualTo(1L << 30);
        assertThat(c.at("/linux/resources/pids/limit").asInt()).isEqualTo(100);
        JsonNode volume = null;
        for (JsonNode m : c.at("/mounts")) {
            if (m.path("destination").asText().equals("/opt/ml")) {
                volume = m;
            }
        }
        assertThat(volume).isNotNull();
        assertThat(volume.path("source").asText()).isEqualTo("/srv/sandbox/runs/run-1/volume");
        assertThat(volume.path("options").toString()).contains("\"rw\"", "\"nosuid\"", "\"nodev\"");
        assertThat(c.at("/linux/seccomp/defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
    }

    @Test
    void theSeccompAllowlistLeavesOutWhatAnEscapeNeeds() {
        assertThat(SeccompProfile.ALLOWED).doesNotContainAnyElementsOf(SeccompProfile.DENIED).doesNotHaveDuplicates();
        assertThat(SeccompProfile.DENIED).contains("mount", "umount2", "pivot_root", "ptrace", "kexec_load", "bpf", "perf_event_open", "keyctl",
                "add_key", "request_key", "unshare", "setns", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
                "open_by_handle_at", "userfaultfd");
        assertThat(SeccompProfile.ALLOWED).doesNotContain("clone", "clone3", "socket", "personality");
        JsonNode json = SeccompProfile.json();
        assertThat(json.path("defaultErrnoRet").asInt()).isEqualTo(1);
        JsonNode clone = null;
        for (JsonNode rule : json.path("syscalls")) {
            if (rule.path("names").get(0).asText().equals("clone")) {
                clone = rule;
            }
        }
        assertThat(clone).isNotNull();
        assertThat(clone.at("/args/0/op").asText()).isEqualTo("SCMP_CMP_MASKED_EQ");
        assertThat(clone.at("/args/0/value").asLong() & 0x10000000L).as("CLONE_NEWUSER is in the mask").isNotZero();
        assertThat(clone.at("/args/0/valueTwo").asLong()).isZero();
    }
}
