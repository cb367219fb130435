package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads CreateTrainingJob and CreateProcessingJob requests into {@link JobRequest}s, refusing
 * with SageMaker's ValidationException whatever is malformed, out of range or not supported
 * here, before anything is written. Messages name the member and never echo an Environment or
 * HyperParameters value, which may be secret.
 */
public final class JobRequests {
    static final String INVALID = "ValidationException";
    static final Pattern JOB_NAME = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    static final Pattern ROLE_ARN = Pattern.compile("arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    static final Pattern S3_URI = Pattern.compile("(https|s3)://([^/]+)/?(.*)");
    private static final Pattern CHANNEL = Pattern.compile("[A-Za-z0-9.\\-_]+");
    private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern TAG_KEY = Pattern.compile("([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)");
    private static final Pattern LOCAL_PATH = Pattern.compile("/opt/ml/processing/[A-Za-z0-9._\\-/]+");
    static final int MAX_RUNTIME_SECONDS = 432_000;

    private final InstanceTypes instanceTypes;
    private final int maxVolumeGb;

    /** @param maxVolumeGb the largest VolumeSizeInGB this installation grants */
    public JobRequests(InstanceTypes instanceTypes, int maxVolumeGb) {
        this.instanceTypes = instanceTypes;
        this.maxVolumeGb = maxVolumeGb;
    }

    // ---- training ----

    public JobRequest training(ObjectNode in) {
        String name = string(in, "TrainingJobName", 1, 63, JOB_NAME, true);
        JsonNode algo = object(in, "AlgorithmSpecification", true);
        if (algo.has("AlgorithmName")) {
            throw invalid("AlgorithmSpecification.AlgorithmName is not supported yet; name a TrainingImage of this Citadel's registry.");
        }
        String image = string(algo, "TrainingImage", 1, 255, null, true);
        String mode = string(algo, "TrainingInputMode", 1, 16, null, true);
        requireFileMode("AlgorithmSpecification.TrainingInputMode", mode);
        if (algo.has("TrainingImageConfig")) {
            throw invalid("AlgorithmSpecification.TrainingImageConfig (a private Docker registry) is not supported: images come from this "
                    + "Citadel's registry.");
        }
        Optional<List<String>> entrypoint = stringList(algo, "ContainerEntrypoint", 100, 256);
        List<String> arguments = stringList(algo, "ContainerArguments", 100, 256).orElse(List.of("train"));
        Map<String, String> hyper = map(in, "HyperParameters", 100, 256, 2500, null, "HyperParameters");
        List<JobRequest.Input> inputs = channels(in);
        JsonNode out = object(in, "OutputDataConfig", true);
        String outputPath = s3Uri(out, "S3OutputPath", true);
        Optional<String> outputKey = optionalString(out, "KmsKeyId", 2048);
        if (!out.path("CompressionType").asText("GZIP").equals("GZIP")) {
            throw invalid("OutputDataConfig.CompressionType NONE is not supported yet: model artifacts are delivered as model.tar.gz.");
        }
        JsonNode res = object(in, "ResourceConfig", true);
        if (res.has("InstanceGroups")) {
            throw invalid("ResourceConfig.InstanceGroups (heterogeneous clusters) is not supported.");
        }
        String instanceType = instanceType(string(res, "InstanceType", 1, 64, null, true));
        int count = integer(res, "InstanceCount", 1, 100, 1);
        int volume = integer(res, "VolumeSizeInGB", 1, 16384, -1);
        if (volume < 0) {
            throw invalid("ResourceConfig.VolumeSizeInGB is required.");
        }
        Optional<String> volumeKey = optionalString(res, "VolumeKmsKeyId", 2048);
        int maxRuntime = stopping(in);
        boolean isolation = bool(in, "EnableNetworkIsolation");
        if (in.hasNonNull("VpcConfig")) {
            throw invalid("VpcConfig is not supported: Citadel has no networks to attach a job to, and every job runs without network access.");
        }
        if (bool(in, "EnableManagedSpotTraining")) {
            throw invalid("EnableManagedSpotTraining is not supported: Citadel has no spot capacity.");
        }
        if (in.hasNonNull("CheckpointConfig")) {
            throw invalid("CheckpointConfig is not supported yet.");
        }
        Map<String, String> env = map(in, "Environment", 100, 512, 512, ENV_KEY, "Environment");
        String role = string(in, "RoleArn", 20, 2048, ROLE_ARN, true);
        Map<String, String> tags = tags(in);
        checkCount(count);
        checkVolume(volume);
        return new JobRequest(Kind.TRAINING, name, image, entrypoint, arguments, hyper, inputs, List.of(), outputPath, outputKey, instanceType,
                count, volume, volumeKey, maxRuntime, isolation, env, role, tags);
    }

    private List<JobRequest.Input> channels(ObjectNode in) {
        JsonNode list = in.path("InputDataConfig");
        List<JobRequest.Input> out = new ArrayList<>();
        if (list.isMissingNode() || list.isNull()) {
            return out;
        }
        if (!list.isArray() || list.size() > 20) {
            throw invalid("InputDataConfig must be a list of at most 20 channels.");
        }
        Set<String> names = new HashSet<>();
        for (JsonNode c : list) {
            String channel = string(c, "ChannelName", 1, 64, CHANNEL, true);
            if (!names.add(channel)) {
                throw invalid("Channel names must be unique: " + channel + " appears twice in InputDataConfig.");
            }
            if (c.has("InputMode")) {
                requireFileMode("InputDataConfig." + channel + ".InputMode", c.path("InputMode").asText(""));
            }
            JsonNode source = object(c, "DataSource", true);
            if (!source.has("S3DataSource")) {
                throw invalid("Channel " + channel + ": only S3DataSource is supported (FileSystemDataSource is not).");
            }
            JsonNode s3 = source.path("S3DataSource");
            String type = string(s3, "S3DataType", 1, 32, null, true);
            if (!type.equals("S3Prefix") && !type.equals("ManifestFile")) {
                throw invalid("Channel " + channel + ": S3DataType must be S3Prefix or ManifestFile (" + printable(type) + " is not supported).");
            }
            String uri = s3Uri(s3, "S3Uri", true);
            String distribution = s3.path("S3DataDistributionType").asText("FullyReplicated");
            if (!distribution.equals("FullyReplicated") && !distribution.equals("ShardedByS3Key")) {
                throw invalid("Channel " + channel + ": S3DataDistributionType must be FullyReplicated or ShardedByS3Key.");
            }
            if (s3.has("AttributeNames") || s3.has("InstanceGroupNames")) {
                throw invalid("Channel " + channel + ": AttributeNames and InstanceGroupNames are not supported.");
            }
            String compression = c.path("CompressionType").asText("None");
            if (!compression.equals("None") && !compression.equals("Gzip")) {
                throw invalid("Channel " + channel + ": CompressionType must be None or Gzip.");
            }
            if (!c.path("RecordWrapperType").asText("None").equals("None")) {
                throw invalid("Channel " + channel + ": RecordWrapperType RecordIO is not supported.");
            }
            if (c.has("ShuffleConfig")) {
                throw invalid("Channel " + channel + ": ShuffleConfig applies to Pipe mode, which is not supported.");
            }
            String contentType = optionalString(c, "ContentType", 256).orElse("");
            out.add(new JobRequest.Input(channel, type, uri, distribution, contentType, compression, "/opt/ml/input/data/" + channel));
        }
        return out;
    }

    // ---- processing ----

    public JobRequest processing(ObjectNode in) {
        String name = string(in, "ProcessingJobName", 1, 63, JOB_NAME, true);
        JsonNode app = object(in, "AppSpecification", true);
        String image = string(app, "ImageUri", 1, 255, null, true);
        Optional<List<String>> entrypoint = stringList(app, "ContainerEntrypoint", 100, 256);
        List<String> arguments = stringList(app, "ContainerArguments", 100, 256).orElse(List.of());
        List<JobRequest.Input> inputs = new ArrayList<>();
        JsonNode list = in.path("ProcessingInputs");
        Set<String> names = new HashSet<>();
        Set<String> paths = new HashSet<>();
        if (!list.isMissingNode() && !list.isNull()) {
            if (!list.isArray() || list.size() > 10) {
                throw invalid("ProcessingInputs must be a list of at most 10 inputs.");
            }
            for (JsonNode i : list) {
                String inputName = string(i, "InputName", 1, 256, null, true);
                if (!names.add(inputName)) {
                    throw invalid("Input names must be unique: " + printable(inputName) + " appears twice.");
                }
                if (i.has("DatasetDefinition")) {
                    throw invalid("Input " + printable(inputName) + ": DatasetDefinition is not supported; use S3Input.");
                }
                JsonNode s3 = object(i, "S3Input", true);
                String uri = s3Uri(s3, "S3Uri", true);
                String local = localPath(s3, paths);
                String type = string(s3, "S3DataType", 1, 32, null, true);
                if (!type.equals("S3Prefix") && !type.equals("ManifestFile")) {
                    throw invalid("Input " + printable(inputName) + ": S3DataType must be S3Prefix or ManifestFile.");
                }
                requireFileMode("Input " + printable(inputName) + " S3InputMode", s3.path("S3InputMode").asText("File"));
                String distribution = s3.path("S3DataDistributionType").asText("FullyReplicated");
                if (!distribution.equals("FullyReplicated") && !distribution.equals("ShardedByS3Key")) {
                    throw invalid("Input " + printable(inputName) + ": S3DataDistributionType must be FullyReplicated or ShardedByS3Key.");
                }
                String compression = s3.path("S3CompressionType").asText("None");
                if (!compression.equals("None") && !compression.equals("Gzip")) {
                    throw invalid("Input " + printable(inputName) + ": S3CompressionType must be None or Gzip.");
                }
                inputs.add(new JobRequest.Input(inputName, type, uri, distribution, "", compression, local));
            }
        }
        List<JobRequest.Output> outputs = new ArrayList<>();
        Optional<String> outputKey = Optional.empty();
        JsonNode config = in.path("ProcessingOutputConfig");
        if (!config.isMissingNode() && !config.isNull()) {
            outputKey = optionalString(config, "KmsKeyId", 2048);
            JsonNode outs = config.path("Outputs");
            if (!outs.isArray() || outs.isEmpty() || outs.size() > 10) {
                throw invalid("ProcessingOutputConfig.Outputs must list 1 to 10 outputs.");
            }
            Set<String> outNames = new HashSet<>();
            for (JsonNode o : outs) {
                String outputName = string(o, "OutputName", 1, 256, null, true);
                if (!outNames.add(outputName)) {
                    throw invalid("Output names must be unique: " + printable(outputName) + " appears twice.");
                }
                if (o.has("FeatureStoreOutput") || bool(o, "AppManaged")) {
                    throw invalid("Output " + printable(outputName) + ": only S3Output is supported.");
                }
                JsonNode s3 = object(o, "S3Output", true);
                String uri = s3Uri(s3, "S3Uri", true);
                String local = localPath(s3, paths);
                if (!s3.path("S3UploadMode").asText("EndOfJob").equals("EndOfJob")) {
                    throw invalid("Output " + printable(outputName) + ": S3UploadMode must be EndOfJob (Continuous is not supported).");
                }
                outputs.add(new JobRequest.Output(outputName, local, uri));
            }
        }
        JsonNode cluster = object(object(in, "ProcessingResources", true), "ClusterConfig", true);
        String instanceType = instanceType(string(cluster, "InstanceType", 1, 64, null, true));
        int count = integer(cluster, "InstanceCount", 1, 100, -1);
        int volume = integer(cluster, "VolumeSizeInGB", 1, 16384, -1);
        if (count < 0 || volume < 0) {
            throw invalid("ProcessingResources.ClusterConfig needs InstanceCount and VolumeSizeInGB.");
        }
        Optional<String> volumeKey = optionalString(cluster, "VolumeKmsKeyId", 2048);
        int maxRuntime = in.has("StoppingCondition") ? integer(object(in, "StoppingCondition", true), "MaxRuntimeInSeconds", 1, 777_600, 86_400)
                : 86_400;
        JsonNode network = in.path("NetworkConfig");
        boolean isolation = network.path("EnableNetworkIsolation").asBoolean(false);
        if (network.hasNonNull("VpcConfig")) {
            throw invalid("NetworkConfig.VpcConfig is not supported: Citadel has no networks to attach a job to, and every job runs without "
                    + "network access.");
        }
        Map<String, String> env = map(in, "Environment", 100, 256, 256, ENV_KEY, "Environment");
        String role = string(in, "RoleArn", 20, 2048, ROLE_ARN, true);
        Map<String, String> tags = tags(in);
        checkCount(count);
        checkVolume(volume);
        return new JobRequest(Kind.PROCESSING, name, image, entrypoint, arguments, Map.of(), inputs, outputs, "", outputKey, instanceType,
                count, volume, volumeKey, maxRuntime, isolation, env, role, tags);
    }

    private static String localPath(JsonNode s3, Set<String> taken) {
        String local = string(s3, "LocalPath", 1, 256, null, true);
        if (!LOCAL_PATH.matcher(local).matches() || local.contains("..") || local.contains("//")) {
            throw invalid("LocalPath " + printable(local) + " must be a path under /opt/ml/processing/.");
        }
        String normal = local.replaceAll("/+$", "");
        for (String other : taken) {
            if (other.equals(normal) || other.startsWith(normal + "/") || normal.startsWith(other + "/")) {
                throw invalid("LocalPath " + printable(local) + " overlaps another input's or output's LocalPath.");
            }
        }
        taken.add(normal);
        return normal;
    }

    // ---- shared parts ----

    private int stopping(ObjectNode in) {
        JsonNode s = object(in, "StoppingCondition", true);
        int max = integer(s, "MaxRuntimeInSeconds", 1, MAX_RUNTIME_SECONDS, 86_400);
        if (s.has("MaxWaitTimeInSeconds")) {
            throw invalid("StoppingCondition.MaxWaitTimeInSeconds applies to managed spot training, which is not supported.");
        }
        return max;
    }

    private String instanceType(String type) {
        if (instanceTypes.profile(type).isEmpty()) {
            throw invalid("Instance type " + printable(type) + " is not offered here; offered: " + String.join(", ", instanceTypes.names()) + ".");
        }
        return type;
    }

    private static void checkCount(int count) {
        if (count != 1) {
            throw invalid("InstanceCount " + count + " is not supported yet: Citadel runs each job on one instance.");
        }
    }

    private void checkVolume(int gb) {
        if (gb > maxVolumeGb) {
            throw invalid("VolumeSizeInGB " + gb + " exceeds this installation's largest volume, " + maxVolumeGb + " GB.");
        }
    }

    private static void requireFileMode(String member, String mode) {
        switch (mode) {
            case "File" -> {
            }
            case "Pipe", "FastFile" -> throw invalid(member + " " + mode + " is not supported: Citadel copies input data into the job "
                    + "before it starts (File mode); use File.");
            default -> throw invalid(member + " must be File, Pipe or FastFile.");
        }
    }

    static Map<String, String> tags(ObjectNode in) {
        JsonNode list = in.path("Tags");
        Map<String, String> out = new LinkedHashMap<>();
        if (list.isMissingNode() || list.isNull()) {
            return out;
        }
        if (!list.isArray() || list.size() > 50) {
            throw invalid("Tags must be a list of at most 50 tags.");
        }
        for (JsonNode t : list) {
            String key = string(t, "Key", 1, 128, TAG_KEY, true);
            String value = t.path("Value").isTextual() ? t.path("Value").asText() : "";
            if (value.length() > 256) {
                throw invalid("Tag values are at most 256 characters.");
            }
            if (key.toLowerCase(java.util.Locale.ROOT).startsWith("aws:")) {
                throw invalid("Tag keys cannot start with the reserved prefix 'aws:'.");
            }
            if (out.put(key, value) != null) {
                throw invalid("Tag keys must be unique: " + printable(key) + " appears twice.");
            }
        }
        return out;
    }

    private static Map<String, String> map(JsonNode in, String member, int maxEntries, int maxKey, int maxValue, Pattern keyPattern,
            String label) {
        JsonNode m = in.path(member);
        Map<String, String> out = new LinkedHashMap<>();
        if (m.isMissingNode() || m.isNull()) {
            return out;
        }
        if (!m.isObject() || m.size() > maxEntries) {
            throw invalid(label + " must be a map of at most " + maxEntries + " entries.");
        }
        for (var e : m.properties()) {
            String key = e.getKey();
            if (key.isEmpty() || key.length() > maxKey || (keyPattern != null && !keyPattern.matcher(key).matches())) {
                throw invalid(label + " has a key that is empty, longer than " + maxKey + " characters or not of the form "
                        + (keyPattern == null ? "required" : keyPattern.pattern()) + ".");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().length() > maxValue) {
                // the value is not shown: it may be a secret
                throw invalid(label + "[" + printable(key) + "] must be a string of at most " + maxValue + " characters.");
            }
            out.put(key, e.getValue().asText());
        }
        return out;
    }

    private static JsonNode object(JsonNode in, String member, boolean required) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            if (required) {
                throw invalid("1 validation error detected: Value null at '" + lowerFirst(member) + "' failed to satisfy constraint: Member "
                        + "must not be null");
            }
            return n;
        }
        if (!n.isObject()) {
            throw invalid(member + " must be a structure.");
        }
        return n;
    }

    static String string(JsonNode in, String member, int min, int max, Pattern pattern, boolean required) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            if (required) {
                throw invalid("1 validation error detected: Value null at '" + lowerFirst(member) + "' failed to satisfy constraint: Member "
                        + "must not be null");
            }
            return "";
        }
        if (!n.isTextual()) {
            throw invalid(member + " must be a string.");
        }
        String v = n.asText();
        if (v.length() < min || v.length() > max) {
            throw invalid("1 validation error detected: Value at '" + lowerFirst(member) + "' failed to satisfy constraint: Member must have "
                    + "length between " + min + " and " + max);
        }
        if (pattern != null && !pattern.matcher(v).matches()) {
            throw invalid("1 validation error detected: Value " + printable(v) + " at '" + lowerFirst(member) + "' failed to satisfy "
                    + "constraint: Member must satisfy regular expression pattern: " + pattern.pattern());
        }
        return v;
    }

    private static Optional<String> optionalString(JsonNode in, String member, int max) {
        String v = string(in, member, 1, max, null, false);
        return v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    private static Optional<List<String>> stringList(JsonNode in, String member, int maxItems, int maxLength) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isArray() || n.isEmpty() || n.size() > maxItems) {
            throw invalid(member + " must be a list of 1 to " + maxItems + " strings.");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : n) {
            if (!s.isTextual() || s.asText().length() > maxLength) {
                throw invalid(member + " must be a list of strings of at most " + maxLength + " characters.");
            }
            out.add(s.asText());
        }
        return Optional.of(List.copyOf(out));
    }

    private static int integer(JsonNode in, String member, int min, int max, int otherwise) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            return otherwise;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            throw invalid("1 validation error detected: Value '" + n.asText() + "' at '" + lowerFirst(member) + "' failed to satisfy "
                    + "constraint: Member must have value between " + min + " and " + max);
        }
        return n.intValue();
    }

    private static boolean bool(JsonNode in, String member) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw invalid(member + " must be a boolean.");
        }
        return n.booleanValue();
    }

    private static String s3Uri(JsonNode in, String member, boolean required) {
        String uri = string(in, member, 1, 1024, null, required);
        java.util.regex.Matcher m = S3_URI.matcher(uri);
        if (!m.matches() || !m.group(1).equals("s3")) {
            throw invalid(member + " " + printable(uri) + " must be an S3 URI, s3://bucket/prefix.");
        }
        return uri;
    }

    /** The bucket and key prefix of an {@code s3://} URI that {@link #s3Uri} accepted. */
    static String[] bucketAndPrefix(String uri) {
        java.util.regex.Matcher m = S3_URI.matcher(uri);
        if (!m.matches()) {
            throw invalid("Not an S3 URI: " + printable(uri));
        }
        return new String[] {m.group(2), m.group(3)};
    }

    static AwsException invalid(String message) {
        return new AwsException(INVALID, 400, message);
    }

    static String printable(String s) {
        String cut = s.length() > 200 ? s.substring(0, 200) + "…" : s;
        return "'" + cut.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
