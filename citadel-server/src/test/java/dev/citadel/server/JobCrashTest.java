package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * No container outlives a kill -9 of the server unnoticed: a training job's container keeps
 * running after the server is killed, and the next start removes it and fails the job with the
 * reason.
 */
@Tag("runs-once")
class JobCrashTest {
    @Test
    void aKilledServersContainerIsReapedAtStartAndItsJobFailsWithTheReason() throws Exception {
        Path root = Files.createTempDirectory("citadel-job-crash-");
        // containers reach their root file system through the data directory's parents
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path dataDir = root.resolve("data");
        int port = ChildServer.freePort();
        Process server = ChildServer.start(dataDir, port);
        try {
            ClientFiles files = new ClientFiles(dataDir);
            ChildServer.pushTinyImage(dataDir, port, "tiny", root);

            ClientEnvironment.Result started = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                    "import json, time, boto3",
                    String.join("\n", ChildServer.jobRoleAndBucket("Jobs", "out")),
                    "sm = boto3.client('sagemaker')",
                    "sm.create_training_job(TrainingJobName='outlives', RoleArn='arn:aws:iam::%s:role/Jobs' % account,",
                    "    AlgorithmSpecification={'TrainingImage': 'localhost:" + port + "/tiny:v1', 'TrainingInputMode': 'File',",
                    "        'ContainerEntrypoint': ['/bin/sh', '-c'], 'ContainerArguments': ['echo started; sleep 600']},",
                    "    OutputDataConfig={'S3OutputPath': 's3://out-%s/x' % account},",
                    "    ResourceConfig={'InstanceType': 'ml.t3.medium', 'InstanceCount': 1, 'VolumeSizeInGB': 1},",
                    "    StoppingCondition={'MaxRuntimeInSeconds': 900})",
                    "deadline = time.time() + 120",
                    "while sm.describe_training_job(TrainingJobName='outlives')['SecondaryStatus'] != 'Training' and time.time() < deadline:",
                    "    time.sleep(0.5)",
                    "print(sm.describe_training_job(TrainingJobName='outlives')['SecondaryStatus'])")));
            assertThat(started.exitCode()).as(started.stderr()).isZero();
            assertThat(started.stdout().trim()).isEqualTo("Training");
            Thread.sleep(2000); // the container is past runc's start

            server.destroyForcibly().waitFor();
            assertThat(runcList(dataDir)).as("the container outlived the server").contains("running");

            server = ChildServer.start(dataDir, port);
            assertThat(runcList(dataDir)).as("reaped at start").doesNotContain("running");
            ClientEnvironment.Result after = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                    "import boto3",
                    "d = boto3.client('sagemaker').describe_training_job(TrainingJobName='outlives')",
                    "print(d['TrainingJobStatus']); print(d['FailureReason'])")));
            assertThat(after.exitCode()).as(after.stderr()).isZero();
            assertThat(after.stdout()).startsWith("Failed\nInternalServerError: Citadel stopped while the job was running");
            try (var runs = Files.list(dataDir.resolve("sandbox/runs"))) {
                assertThat(runs.toList()).as("no run directory is left").isEmpty();
            }
        } finally {
            server.destroyForcibly().waitFor();
            ChildServer.deleteTree(root);
        }
    }

    private static String runcList(Path dataDir) throws Exception {
        Process p = new ProcessBuilder("runc", "--root", dataDir.resolve("sandbox/state").toString(), "list").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
