package dev.citadel.services.sagemaker;

import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A training or processing job's request, validated: what the scheduler needs to run it. Both
 * kinds share the shape; the parts one kind lacks are empty.
 *
 * @param image            the image URI as given
 * @param entrypoint       replaces the image's Entrypoint (ContainerEntrypoint)
 * @param arguments        replace the image's Cmd: {@code train} for training, ContainerArguments when given
 * @param hyperParameters  training only, written to {@code /opt/ml/input/config/hyperparameters.json}
 * @param inputs           data to put into the container before it starts
 * @param outputs          what to take out of it after (processing; training's model and output
 *                         data are fixed by the contract)
 * @param outputPath       training's S3OutputPath; empty for processing
 * @param outputKmsKey     the key outputs are sealed under (OutputDataConfig / ProcessingOutputConfig KmsKeyId)
 * @param volumeKmsKey     VolumeKmsKeyId, as given
 * @param networkIsolation EnableNetworkIsolation as given (Citadel isolates every job anyway)
 */
public record JobRequest(Kind kind, String name, String image, Optional<List<String>> entrypoint, List<String> arguments,
        Map<String, String> hyperParameters, List<Input> inputs, List<Output> outputs, String outputPath, Optional<String> outputKmsKey,
        String instanceType, int instanceCount, int volumeSizeGb, Optional<String> volumeKmsKey, int maxRuntimeSeconds,
        boolean networkIsolation, Map<String, String> environment, String roleArn, Map<String, String> tags) {

    /**
     * Data from S3 for the container.
     *
     * @param name         the channel (training) or input name (processing)
     * @param s3DataType   S3Prefix or ManifestFile
     * @param s3Uri        {@code s3://bucket/prefix}
     * @param distribution FullyReplicated or ShardedByS3Key
     * @param contentType  training channels' ContentType, or empty
     * @param compression  None or Gzip
     * @param localPath    where it appears in the container
     */
    public record Input(String name, String s3DataType, String s3Uri, String distribution, String contentType, String compression,
            String localPath) {
    }

    /** What a processing job hands back: the files under {@code localPath}, to {@code s3Uri}. */
    public record Output(String name, String localPath, String s3Uri) {
    }
}
