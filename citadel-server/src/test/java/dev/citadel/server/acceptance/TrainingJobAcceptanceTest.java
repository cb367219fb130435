package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The training issue's acceptance with boto3: a bring-your-own scikit-learn image pushed with
 * skopeo trains on gzip'd CSV in S3 with no network; model.tar.gz lands sealed under the job's KMS
 * key and the buyer's own check of the model agrees with a processing job that loads it; bad
 * requests, a missing iam:PassRole and a sagemaker:OutputKmsKey condition are refused; a failure
 * file becomes FailureReason, MaxRuntimeInSeconds and StopTrainingJob stop sleeping jobs; and the
 * audit log holds each step, the data moves as the execution role's calls.
 */
@Tag("runs-once")
class TrainingJobAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainEvaluateRefuseFailTimeOutAndStop() throws Exception {
        Path work = Files.createTempDirectory("citadel-training-");
        try (TestServer server = TestServer.start("jobs.stop-grace=5s")) {
            String image = TrainerPush.push(server, work, "sklearn-train");

            JsonNode setup = phase(server, "setup", image);
            String key = setup.path("key").asText();

            JsonNode train = phase(server, "train", image);
            assertThat(train.path("status").toString()).isEqualTo("[\"Completed\",\"Completed\",\"\"]");
            assertThat(train.path("transitions").toString()).isEqualTo("[\"Starting\",\"Downloading\",\"Training\",\"Uploading\",\"Completed\"]");
            assertThat(train.path("artifacts").asText()).endsWith("/output/sklearn-logistic/output/model.tar.gz");
            assertThat(train.path("sse").toString()).isEqualTo("[\"aws:kms\",\"" + key + "\"]");
            assertThat(train.path("members").toString()).isEqualTo("[\"./model.json\",\"./model.pkl\"]");
            assertThat(train.path("isolation").asBoolean()).isTrue();
            assertThat(train.path("times").toString()).isEqualTo("[true,true,true,true]");
            assertThat(train.path("host_accuracy").asDouble()).isGreaterThan(0.9);
            assertThat(train.path("probe").path("interfaces").toString()).as("no network but loopback").isEqualTo("[\"lo\"]");
            List<String> environment = new ArrayList<>();
            train.path("probe").path("environment").forEach(n -> environment.add(n.asText()));
            assertThat(environment).as("no credentials").noneMatch(n -> n.startsWith("AWS_")).contains("TRAINING_JOB_NAME");
            assertThat(train.path("log").toString()).contains("trained on 300 rows");
            assertThat(train.path("processing").toString()).isEqualTo("[\"Completed\",\"\"]");
            assertThat(train.path("container_accuracy").asDouble()).isEqualTo(train.path("host_accuracy").asDouble());
            assertThat(train.path("same_predictions").asBoolean()).isTrue();
            assertThat(train.path("evaluation_sse").asText()).isEqualTo(key);
            assertThat(train.path("listed").toString()).isEqualTo("[\"sklearn-logistic\"]");
            assertThat(train.path("listed_processing").toString()).isEqualTo("[\"evaluate-logistic\"]");

            JsonNode refusals = phase(server, "refusals", image);
            for (String field : List.of("pipe", "vpc", "instance_count", "instance_type", "untrusting_role", "foreign_image", "missing_image",
                    "describe_missing", "stop_missing", "bad_token")) {
                assertThat(refusals.path(field).asText()).as(field).isEqualTo("ValidationException");
            }
            assertThat(refusals.path("no_passrole").asText()).isEqualTo("AccessDeniedException");
            assertThat(refusals.path("kms_condition_without_key").asText()).isEqualTo("AccessDeniedException");
            assertThat(refusals.path("kms_condition_with_key").asText()).isEqualTo("ok");
            assertThat(refusals.path("kms_condition_stop").asText()).isEqualTo("ok");
            assertThat(refusals.path("duplicate").asText()).isEqualTo("ResourceInUse");
            assertThat(refusals.path("refused_jobs").toString()).as("a refused request stores nothing").isEqualTo("[]");
            assertThat(refusals.path("kms_bound_job").get(0).asText()).isEqualTo("Stopped");

            JsonNode ends = phase(server, "ends", image);
            assertThat(ends.path("fails-on-purpose").toString()).isEqualTo("[\"Failed\",\"Failed\","
                    + "\"ValueError: the hyperparameter 'mode' asked this job to fail\"]");
            assertThat(ends.path("runs-too-long").toString()).isEqualTo("[\"Stopped\",\"MaxRuntimeExceeded\",\"\",[\"./stopped.txt\"]]");
            assertThat(ends.path("stopped-by-user").toString()).isEqualTo("[\"Stopped\",\"Stopped\",\"\",[\"./stopped.txt\"]]");
            assertThat(ends.path("not_in_progress").asText()).isEqualTo("ValidationException");
            assertThat(ends.path("all_by_name").toString()).isEqualTo("[\"allowed-with-key\",\"fails-on-purpose\",\"runs-too-long\","
                    + "\"sklearn-logistic\",\"stopped-by-user\"]");
            assertThat(ends.path("failed").toString()).isEqualTo("[\"fails-on-purpose\"]");
            assertThat(ends.path("volume-key-refused").get(0).asText()).isEqualTo("Failed");
            assertThat(ends.path("volume-key-refused").get(1).asText()).startsWith("ClientError: cannot generate the volume's data key under "
                    + "alias/not-for-the-role with the role").contains("is not authorized to perform: kms:GenerateDataKey");

            // Algorithms: validated by their own jobs before use; a job that names one keeps its contract and never shows its image.
            JsonNode algo = phase(server, "algorithm", image);
            assertThat(algo.path("too_early").asText()).as("an algorithm still validating").isEqualTo("ValidationException");
            assertThat(algo.path("logistic").toString()).isEqualTo("[\"Completed\",[{\"Name\":\"small\",\"Status\":\"Completed\"}],true,"
                    + "\"sha256:\",\"logistic regression on two features\"]");
            assertThat(algo.path("failing").get(0).asText()).isEqualTo("Failed");
            assertThat(algo.path("failing").get(1).asText()).isEqualTo("Failed");
            assertThat(algo.path("failing").get(2).asText()).startsWith("The validation training job failing-algo-val-")
                    .endsWith("ended Failed: ValueError: the hyperparameter 'mode' asked this job to fail.");
            assertThat(algo.path("validation_training").toString()).isEqualTo("[\"Completed\",\"Failed\"]");
            assertThat(algo.path("validation_transform").toString()).isEqualTo("[\"Completed\"]");
            assertThat(algo.path("validation_models_left").toString()).isEqualTo("[]");
            assertThat(algo.path("with_algorithm").get(0).asText()).isEqualTo("Completed");
            assertThat(algo.path("with_algorithm").get(1).path("AlgorithmName").asText()).isEqualTo(algo.path("arn").asText());
            assertThat(algo.path("with_algorithm").get(1).has("TrainingImage")).as("the algorithm's image is not shown").isFalse();
            assertThat(algo.path("with_algorithm").get(2).toString()).isEqualTo("{\"C\":\"5\",\"mode\":\"train\"}");
            for (String field : List.of("out_of_range", "undeclared", "instance_type", "failed_algorithm", "missing_algorithm", "bad_default",
                    "certify_unvalidated", "duplicate", "deleted")) {
                assertThat(algo.path(field).asText()).as(field).isEqualTo("ValidationException");
            }
            assertThat(algo.path("listed").toString()).isEqualTo("[\"failing-algo:Failed\",\"logistic-algo:Completed\"]");
            assertThat(algo.path("refused_jobs").toString()).as("a refused request stores nothing").isEqualTo("[]");
            // Model packages: made from the algorithm, validated by a transform, run through CreateModel; versions in a group.
            assertThat(algo.path("package").toString()).isEqualTo("[\"Completed\",\"Completed\",true,\"sha256:\",true]");
            assertThat(algo.path("model_container").toString()).isEqualTo("{\"ModelPackageName\":\"logistic-package\"}");
            assertThat(algo.path("package_batch").asText()).isEqualTo("Completed");
            assertThat(algo.path("package_predictions").get(0).asInt()).isEqualTo(50);
            assertThat(algo.path("versions").toString()).isEqualTo("[[\"registry\",\"1\"],[\"registry\",\"2\"]]");
            assertThat(algo.path("approved").toString()).isEqualTo("[[1,\"Approved\"]]");
            assertThat(algo.path("pending").asText()).isEqualTo("PendingManualApproval");
            assertThat(algo.path("unversioned").toString()).isEqualTo("[\"logistic-package\"]");
            assertThat(algo.path("groups").toString()).isEqualTo("[\"registry\"]");
            assertThat(algo.path("group_not_empty").asText()).isEqualTo("ConflictException");
            for (String field : List.of("wrong_digest", "certify_unvalidated_package", "missing_package", "group_deleted")) {
                assertThat(algo.path(field).asText()).as(field).isEqualTo("ValidationException");
            }

            // The audit log: every call, the refusals, and the data moved as the role's session on SageMaker's behalf.
            List<JsonNode> events = new ArrayList<>();
            for (String line : Files.readAllLines(server.dataDir().resolve("audit/events.jsonl"))) {
                events.add(JSON.readTree(line));
            }
            assertThat(count(events, "CreateTrainingJob", null)).isGreaterThanOrEqualTo(5);
            assertThat(count(events, "CreateTrainingJob", "AccessDeniedException")).isEqualTo(2);
            assertThat(count(events, "StopTrainingJob", null)).isGreaterThanOrEqualTo(2);
            assertThat(count(events, "CreateProcessingJob", null)).isEqualTo(1);
            String session = "assumed-role/CitadelSageMakerRole/SageMaker";
            // The volume's data key: generated by the role under VolumeKmsKeyId, for the job its encryption context names; the key itself is not in the trail.
            List<JsonNode> volumeKeys = events.stream().filter(e -> e.path("eventName").asText().equals("GenerateDataKey")
                    && e.path("requestParameters").toString().contains("\"citadel:sagemaker:volume-of\":\"" + train.path("arn").asText() + "\""))
                    .toList();
            assertThat(volumeKeys).hasSize(1);
            assertThat(volumeKeys.get(0).path("userIdentity").path("arn").asText()).endsWith(session);
            assertThat(volumeKeys.get(0).path("sourceIPAddress").asText()).isEqualTo("sagemaker.amazonaws.com");
            assertThat(volumeKeys.get(0).path("responseElements").path("Plaintext").asText()).isEqualTo("HIDDEN_DUE_TO_SECURITY_REASONS");
            for (String name : List.of("ListObjectsV2", "GetObject", "PutObject", "BatchGetImage")) {
                assertThat(events.stream().filter(e -> e.path("eventName").asText().equals(name)
                        && e.path("sourceIPAddress").asText().equals("sagemaker.amazonaws.com")
                        && e.path("userIdentity").path("arn").asText().endsWith(session)).count()).as(name + " by the role").isPositive();
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static long count(List<JsonNode> events, String name, String error) {
        return events.stream().filter(e -> e.path("eventName").asText().equals(name))
                .filter(e -> error == null ? !e.has("errorCode") : e.path("errorCode").asText().equals(error)).count();
    }

    private static JsonNode phase(TestServer server, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_training.py").toString()));
        command.addAll(List.of(args));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }
}
