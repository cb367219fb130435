package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** CreateTrainingJob and CreateProcessingJob requests: what is read, and what is refused with which message. */
class JobRequestsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JobRequests requests = new JobRequests(InstanceTypes.defaults(), 100);

    static ObjectNode training() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"TrainingJobName": "job-1",
                 "AlgorithmSpecification": {"TrainingImage": "localhost:8443/algo:v1", "TrainingInputMode": "File"},
                 "RoleArn": "arn:aws:iam::111122223333:role/SageMaker",
                 "HyperParameters": {"C": "10"},
                 "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv", "CompressionType": "Gzip",
                   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train/",
                                                   "S3DataDistributionType": "ShardedByS3Key"}}}],
                 "OutputDataConfig": {"S3OutputPath": "s3://b/out", "KmsKeyId": "alias/out"},
                 "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
                 "StoppingCondition": {"MaxRuntimeInSeconds": 60},
                 "Environment": {"TOKEN": "s3cr3t-value"},
                 "Tags": [{"Key": "team", "Value": "ml"}]}""");
    }

    static ObjectNode processing() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"ProcessingJobName": "p-1",
                 "AppSpecification": {"ImageUri": "localhost:8443/algo:v1", "ContainerEntrypoint": ["python3", "x.py"]},
                 "ProcessingInputs": [{"InputName": "in", "S3Input": {"S3Uri": "s3://b/in/", "LocalPath": "/opt/ml/processing/in",
                    "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
                 "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {"S3Uri": "s3://b/out",
                    "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
                 "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 1}},
                 "RoleArn": "arn:aws:iam::111122223333:role/SageMaker"}""");
    }

    @Test
    void aTrainingRequestIsReadWhole() throws Exception {
        JobRequest r = requests.training(training());
        assertThat(r.arguments()).containsExactly("train");
        assertThat(r.entrypoint()).isEmpty();
        assertThat(r.inputs()).singleElement().satisfies(i -> {
            assertThat(i.localPath()).isEqualTo("/opt/ml/input/data/train");
            assertThat(i.compression()).isEqualTo("Gzip");
            assertThat(i.distribution()).isEqualTo("ShardedByS3Key");
        });
        assertThat(r.outputKmsKey()).contains("alias/out");
        assertThat(r.volumeSizeGb()).isEqualTo(5);
        assertThat(r.maxRuntimeSeconds()).isEqualTo(60);
        assertThat(r.tags()).containsEntry("team", "ml");
    }

    @Test
    void aProcessingRequestIsReadWhole() throws Exception {
        JobRequest r = requests.processing(processing());
        assertThat(r.entrypoint()).contains(List.of("python3", "x.py"));
        assertThat(r.arguments()).isEmpty();
        assertThat(r.inputs()).singleElement().satisfies(i -> assertThat(i.localPath()).isEqualTo("/opt/ml/processing/in"));
        assertThat(r.outputs()).singleElement().satisfies(o -> assertThat(o.s3Uri()).isEqualTo("s3://b/out"));
        assertThat(r.maxRuntimeSeconds()).isEqualTo(86_400);
    }

    private void refusedTraining(Consumer<ObjectNode> change, String message) throws Exception {
        ObjectNode in = training();
        change.accept(in);
        assertThatThrownBy(() -> requests.training(in)).isInstanceOfSatisfying(AwsException.class, e -> {
            assertThat(e.code()).isEqualTo("ValidationException");
            assertThat(e.getMessage()).contains(message).doesNotContain("s3cr3t");
        });
    }

    @Test
    void unsupportedAndMalformedTrainingRequestsAreRefusedClearly() throws Exception {
        refusedTraining(in -> ((ObjectNode) in.get("AlgorithmSpecification")).put("TrainingInputMode", "Pipe"), "Pipe is not supported");
        refusedTraining(in -> ((ObjectNode) in.get("AlgorithmSpecification")).put("TrainingInputMode", "FastFile"), "FastFile is not supported");
        refusedTraining(in -> in.putObject("VpcConfig"), "VpcConfig is not supported");
        refusedTraining(in -> ((ObjectNode) in.get("ResourceConfig")).put("InstanceCount", 2), "InstanceCount 2 is not supported");
        refusedTraining(in -> ((ObjectNode) in.get("ResourceConfig")).put("InstanceType", "ml.p5.48xlarge"), "is not offered here");
        refusedTraining(in -> ((ObjectNode) in.get("ResourceConfig")).put("VolumeSizeInGB", 500), "exceeds this installation's largest");
        refusedTraining(in -> ((ObjectNode) in.get("OutputDataConfig")).put("S3OutputPath", "https://b/out"), "must be an S3 URI");
        refusedTraining(in -> in.put("TrainingJobName", "bad_name"), "trainingJobName");
        refusedTraining(in -> in.remove("RoleArn"), "Value null at 'roleArn'");
        refusedTraining(in -> ((ObjectNode) in.get("Environment")).put("TOKEN", "s3cr3t-value" + "x".repeat(600)), "Environment['TOKEN']");
        refusedTraining(in -> ((ObjectNode) in.get("Environment")).put("1BAD", "s3cr3t-value"), "Environment has a key");
        refusedTraining(in -> in.withArray("InputDataConfig").add(in.withArray("InputDataConfig").get(0).deepCopy()), "appears twice");
        refusedTraining(in -> in.withArray("Tags").addObject().put("Key", "aws:x").put("Value", "y"), "reserved prefix");
        refusedTraining(in -> ((ObjectNode) in.get("StoppingCondition")).put("MaxRuntimeInSeconds", 0), "maxRuntimeInSeconds");
        refusedTraining(in -> ((ObjectNode) in.get("AlgorithmSpecification")).put("AlgorithmName", "arn:x"), "AlgorithmName is not supported");
    }

    @Test
    void processingLocalPathsStayUnderOptMlProcessingAndApart() throws Exception {
        ObjectNode outside = processing();
        ((ObjectNode) outside.at("/ProcessingInputs/0/S3Input")).put("LocalPath", "/etc/passwd");
        assertThatThrownBy(() -> requests.processing(outside)).hasMessageContaining("must be a path under /opt/ml/processing/");
        ObjectNode traversal = processing();
        ((ObjectNode) traversal.at("/ProcessingInputs/0/S3Input")).put("LocalPath", "/opt/ml/processing/../../../etc");
        assertThatThrownBy(() -> requests.processing(traversal)).hasMessageContaining("must be a path under /opt/ml/processing/");
        ObjectNode overlap = processing();
        ((ObjectNode) overlap.at("/ProcessingOutputConfig/Outputs/0/S3Output")).put("LocalPath", "/opt/ml/processing/in/sub");
        assertThatThrownBy(() -> requests.processing(overlap)).hasMessageContaining("overlaps");
    }
}
