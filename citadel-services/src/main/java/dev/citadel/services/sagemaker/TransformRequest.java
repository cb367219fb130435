package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Optional;

/**
 * A CreateTransformJob request, validated: a model's serving container run over the objects under
 * an S3 prefix (or a manifest's), their records sent to {@code POST /invocations} in batches, the
 * answers written beside them under the output path as {@code <key>.out}.
 */
record TransformRequest(String name, String modelName, String s3DataType, String s3Uri, String contentType, String compression,
        String splitType, String outputPath, String accept, String assembleWith, Optional<String> outputKmsKey, Optional<String> volumeKmsKey, String instanceType,
        String batchStrategy, int maxPayloadMb, int maxConcurrent, Map<String, String> environment, Map<String, String> tags) {

    static TransformRequest parse(ObjectNode in, InstanceTypes types) {
        String name = JobRequests.string(in, "TransformJobName", 1, 63, JobRequests.JOB_NAME, true);
        String model = JobRequests.string(in, "ModelName", 1, 63, InferenceService.NAME, true);
        JsonNode input = object(in, "TransformInput");
        JsonNode s3 = object(object(input, "DataSource"), "S3DataSource");
        String type = JobRequests.string(s3, "S3DataType", 1, 32, null, true);
        if (!type.equals("S3Prefix") && !type.equals("ManifestFile")) {
            throw JobRequests.invalid("TransformInput S3DataType must be S3Prefix or ManifestFile.");
        }
        String uri = JobRequests.string(s3, "S3Uri", 1, 1024, null, true);
        if (!uri.startsWith("s3://") || !JobRequests.S3_URI.matcher(uri).matches()) {
            throw JobRequests.invalid("TransformInput S3Uri must be an s3:// URI.");
        }
        String contentType = JobRequests.string(input, "ContentType", 1, 256, null, false);
        String compression = input.path("CompressionType").asText("None");
        if (!compression.equals("None") && !compression.equals("Gzip")) {
            throw JobRequests.invalid("TransformInput CompressionType must be None or Gzip.");
        }
        String split = input.path("SplitType").asText("None");
        if (!split.equals("None") && !split.equals("Line")) {
            throw JobRequests.invalid("TransformInput SplitType " + JobRequests.printable(split) + " is not supported: use None or Line.");
        }
        JsonNode output = object(in, "TransformOutput");
        String outputPath = JobRequests.string(output, "S3OutputPath", 1, 1024, null, true);
        if (!outputPath.startsWith("s3://") || !JobRequests.S3_URI.matcher(outputPath).matches()) {
            throw JobRequests.invalid("TransformOutput S3OutputPath must be an s3:// URI.");
        }
        String accept = JobRequests.string(output, "Accept", 1, 256, null, false);
        String assemble = output.path("AssembleWith").asText("None");
        if (!assemble.equals("None") && !assemble.equals("Line")) {
            throw JobRequests.invalid("TransformOutput AssembleWith must be None or Line.");
        }
        Optional<String> key = output.path("KmsKeyId").isTextual() ? Optional.of(output.path("KmsKeyId").asText()) : Optional.empty();
        JsonNode resources = object(in, "TransformResources");
        String instanceType = JobRequests.string(resources, "InstanceType", 1, 64, null, true);
        if (types.profile(instanceType).isEmpty()) {
            throw JobRequests.invalid("Instance type " + JobRequests.printable(instanceType) + " is not offered here; offered: "
                    + String.join(", ", types.names()) + ".");
        }
        Optional<String> volumeKey = resources.path("VolumeKmsKeyId").isTextual() ? Optional.of(JobRequests.string(resources,
                "VolumeKmsKeyId", 1, 2048, null, true)) : Optional.empty();
        if (resources.path("InstanceCount").asInt(1) != 1) {
            throw JobRequests.invalid("InstanceCount " + resources.path("InstanceCount").asText() + " is not supported yet: Citadel runs each "
                    + "transform job on one instance.");
        }
        String strategy = in.path("BatchStrategy").asText(split.equals("Line") ? "MultiRecord" : "SingleRecord");
        if (!strategy.equals("MultiRecord") && !strategy.equals("SingleRecord")) {
            throw JobRequests.invalid("BatchStrategy must be MultiRecord or SingleRecord.");
        }
        int payload = in.has("MaxPayloadInMB") ? in.path("MaxPayloadInMB").asInt(-1) : 6;
        if (payload < 1 || payload > 6) {
            throw JobRequests.invalid("MaxPayloadInMB must be between 1 and 6 (InvokeEndpoint's limit here).");
        }
        int concurrent = in.has("MaxConcurrentTransforms") ? in.path("MaxConcurrentTransforms").asInt(-1) : 1;
        if (concurrent < 1 || concurrent > 16) {
            throw JobRequests.invalid("MaxConcurrentTransforms must be between 1 and 16.");
        }
        for (String refused : java.util.List.of("DataProcessing", "DataCaptureConfig", "BatchDataCaptureConfig", "ExperimentConfig")) {
            if (in.hasNonNull(refused)) {
                throw JobRequests.invalid(refused + " is not supported yet.");
            }
        }
        Map<String, String> env = new java.util.LinkedHashMap<>();
        JsonNode e = in.path("Environment");
        if (!e.isMissingNode() && !e.isNull()) {
            if (!e.isObject() || e.size() > 16) {
                throw JobRequests.invalid("Environment must be a map of at most 16 entries.");
            }
            for (var entry : e.properties()) {
                if (!entry.getKey().matches("[a-zA-Z_][a-zA-Z0-9_]{0,1023}") || !entry.getValue().isTextual()
                        || entry.getValue().asText().length() > 10240) {
                    throw JobRequests.invalid("Environment[" + JobRequests.printable(entry.getKey()) + "] is not a valid variable.");
                }
                env.put(entry.getKey(), entry.getValue().asText());
            }
        }
        return new TransformRequest(name, model, type, uri, contentType, compression, split, outputPath, accept, assemble, key, volumeKey, instanceType,
                strategy, payload, concurrent, env, JobRequests.tags(in));
    }

    private static JsonNode object(JsonNode in, String member) {
        JsonNode n = in.path(member);
        if (!n.isObject()) {
            throw JobRequests.invalid("1 validation error detected: Value null at '" + Character.toLowerCase(member.charAt(0))
                    + member.substring(1) + "' failed to satisfy constraint: Member must not be null");
        }
        return n;
    }
}
