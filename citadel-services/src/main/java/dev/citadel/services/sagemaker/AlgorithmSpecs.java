package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An algorithm's declared contract (CreateAlgorithm's TrainingSpecification), validated, and what
 * it demands of a training job that names the algorithm: the hyperparameters it declares (types,
 * ranges, required ones, defaults filled in), the channels it declares (required ones, content
 * types, compression, input modes) and the instance types it supports. A job that does not keep
 * the contract is refused with a ValidationException before anything is stored, as SageMaker
 * refuses it.
 */
final class AlgorithmSpecs {
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    private static final Pattern CHANNEL = Pattern.compile("[A-Za-z0-9.\\-_]{1,64}");
    private static final Set<String> TYPES = Set.of("Integer", "Continuous", "Categorical", "FreeText");
    private static final Set<String> INPUT_MODES = Set.of("File", "Pipe", "FastFile");
    private static final Set<String> COMPRESSIONS = Set.of("None", "Gzip");
    static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    /** One declared hyperparameter. For Integer and Continuous, {@code min}/{@code max}; for Categorical, {@code values}. */
    record Hyperparameter(String name, String type, Optional<BigDecimal> min, Optional<BigDecimal> max, List<String> values, boolean required,
            Optional<String> defaultValue) {
    }

    /** One declared channel. */
    record Channel(String name, boolean required, List<String> contentTypes, List<String> compressions, List<String> inputModes) {
    }

    /** A TrainingSpecification, validated. */
    record Training(String image, Optional<String> imageDigest, Map<String, Hyperparameter> hyperparameters, List<String> instanceTypes,
            Map<String, Channel> channels) {
    }

    private AlgorithmSpecs() {
    }

    /** Reads and checks a TrainingSpecification; {@code offered} says which instance types this Citadel has. */
    static Training training(JsonNode spec, InstanceTypes offered) {
        if (!spec.isObject()) {
            throw JobRequests.invalid("TrainingSpecification is required.");
        }
        String image = JobRequests.string(spec, "TrainingImage", 1, 255, null, true);
        Optional<String> digest = Optional.of(JobRequests.string(spec, "TrainingImageDigest", 1, 72, DIGEST,
                false)).filter(d -> !d.isEmpty());
        Map<String, Hyperparameter> hyper = new LinkedHashMap<>();
        JsonNode declared = spec.path("SupportedHyperParameters");
        if (!declared.isMissingNode() && !declared.isNull()) {
            if (!declared.isArray() || declared.size() > 100) {
                throw JobRequests.invalid("SupportedHyperParameters must be a list of at most 100 hyperparameters.");
            }
            for (JsonNode h : declared) {
                Hyperparameter p = hyperparameter(h);
                if (hyper.putIfAbsent(p.name(), p) != null) {
                    throw JobRequests.invalid("SupportedHyperParameters declares " + JobRequests.printable(p.name()) + " twice.");
                }
            }
        }
        List<String> types = strings(spec, "SupportedTrainingInstanceTypes", 1, 64, 64, true);
        for (String t : types) {
            if (offered.profile(t).isEmpty()) {
                throw JobRequests.invalid("SupportedTrainingInstanceTypes: " + JobRequests.printable(t) + " is not offered here; offered: "
                        + String.join(", ", offered.names()) + ".");
            }
        }
        if (spec.path("SupportsDistributedTraining").asBoolean(false)) {
            throw JobRequests.invalid("SupportsDistributedTraining is not supported: Citadel runs each training job on one instance.");
        }
        JsonNode metrics = spec.path("MetricDefinitions");
        if (!metrics.isMissingNode() && !metrics.isNull()) {
            if (!metrics.isArray() || metrics.size() > 40) {
                throw JobRequests.invalid("MetricDefinitions must be a list of at most 40 metrics.");
            }
            for (JsonNode m : metrics) {
                JobRequests.string(m, "Name", 1, 255, null, true);
                String regex = JobRequests.string(m, "Regex", 1, 500, null, true);
                try {
                    Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    throw JobRequests.invalid("MetricDefinitions: the Regex of " + JobRequests.printable(m.path("Name").asText())
                            + " is not a regular expression.");
                }
            }
        }
        JsonNode channelList = spec.path("TrainingChannels");
        if (!channelList.isArray() || channelList.isEmpty() || channelList.size() > 8) {
            throw JobRequests.invalid("TrainingChannels must list 1 to 8 channels.");
        }
        Map<String, Channel> channels = new LinkedHashMap<>();
        for (JsonNode c : channelList) {
            String name = JobRequests.string(c, "Name", 1, 64, CHANNEL, true);
            JobRequests.string(c, "Description", 0, 1024, null, false);
            List<String> content = strings(c, "SupportedContentTypes", 0, 30, 256, true);
            List<String> compression = strings(c, "SupportedCompressionTypes", 0, 2, 8, false);
            for (String z : compression) {
                if (!COMPRESSIONS.contains(z)) {
                    throw JobRequests.invalid("SupportedCompressionTypes of channel " + name + ": " + JobRequests.printable(z)
                            + " is not None or Gzip.");
                }
            }
            List<String> modes = strings(c, "SupportedInputModes", 1, 3, 16, true);
            for (String m : modes) {
                if (!INPUT_MODES.contains(m)) {
                    throw JobRequests.invalid("SupportedInputModes of channel " + name + ": " + JobRequests.printable(m)
                            + " is not File, Pipe or FastFile.");
                }
            }
            if (!modes.contains("File")) {
                throw JobRequests.invalid("SupportedInputModes of channel " + name + " must include File: Citadel delivers input as files.");
            }
            Channel channel = new Channel(name, c.path("IsRequired").asBoolean(false), content, compression, modes);
            if (channels.putIfAbsent(name, channel) != null) {
                throw JobRequests.invalid("TrainingChannels declares " + name + " twice.");
            }
        }
        return new Training(image, digest, hyper, types, channels);
    }

    private static Hyperparameter hyperparameter(JsonNode h) {
        if (!h.isObject()) {
            throw JobRequests.invalid("Each of SupportedHyperParameters is a structure.");
        }
        String name = JobRequests.string(h, "Name", 1, 256, null, true);
        JobRequests.string(h, "Description", 0, 1024, null, false);
        String type = JobRequests.string(h, "Type", 1, 16, null, true);
        if (!TYPES.contains(type)) {
            throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name) + ": Type must be Integer, Continuous, Categorical or "
                    + "FreeText.");
        }
        JsonNode range = h.path("Range");
        Optional<BigDecimal> min = Optional.empty();
        Optional<BigDecimal> max = Optional.empty();
        List<String> values = List.of();
        switch (type) {
            case "Integer", "Continuous" -> {
                String member = type.equals("Integer") ? "IntegerParameterRangeSpecification" : "ContinuousParameterRangeSpecification";
                JsonNode r = range.path(member);
                if (!r.isObject()) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name) + " of type " + type + " needs Range." + member
                            + ".");
                }
                min = Optional.of(number(name, type, JobRequests.string(r, "MinValue", 1, 256, null, true)));
                max = Optional.of(number(name, type, JobRequests.string(r, "MaxValue", 1, 256, null, true)));
                if (min.get().compareTo(max.get()) > 0) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name) + ": MinValue is above MaxValue.");
                }
            }
            case "Categorical" -> {
                JsonNode r = range.path("CategoricalParameterRangeSpecification");
                if (!r.isObject()) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name)
                            + " of type Categorical needs Range.CategoricalParameterRangeSpecification.");
                }
                values = strings(r, "Values", 1, 30, 256, true);
            }
            default -> {
                if (!range.isMissingNode() && !range.isNull()) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name) + " of type FreeText has no Range.");
                }
            }
        }
        Optional<String> defaultValue = Optional.of(JobRequests.string(h, "DefaultValue", 0, 2500, null, false)).filter(d -> !d.isEmpty());
        Hyperparameter p = new Hyperparameter(name, type, min, max, values, h.path("IsRequired").asBoolean(false), defaultValue);
        defaultValue.ifPresent(d -> check(p, d, "its DefaultValue"));
        return p;
    }

    private static BigDecimal number(String name, String type, String text) {
        try {
            BigDecimal n = new BigDecimal(text);
            if (type.equals("Integer") && n.stripTrailingZeros().scale() > 0) {
                throw new NumberFormatException();
            }
            if (n.abs().compareTo(BigDecimal.TEN.pow(40)) > 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException | ArithmeticException e) {
            throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(name) + ": " + JobRequests.printable(text) + " is not "
                    + (type.equals("Integer") ? "an integer." : "a number."));
        }
    }

    /** Refuses {@code value} (what {@code what} is) unless it is of the hyperparameter's type and within its range. */
    private static void check(Hyperparameter p, String value, String what) {
        String problem = switch (p.type()) {
            case "Integer", "Continuous" -> {
                BigDecimal n;
                try {
                    n = number(p.name(), p.type(), value.strip());
                } catch (RuntimeException e) {
                    yield "is not " + (p.type().equals("Integer") ? "an integer" : "a number");
                }
                yield n.compareTo(p.min().orElseThrow()) < 0 || n.compareTo(p.max().orElseThrow()) > 0
                        ? "is outside the range " + p.min().get().toPlainString() + " to " + p.max().get().toPlainString() : null;
            }
            case "Categorical" -> p.values().contains(value) ? null : "is not one of " + String.join(", ", p.values());
            default -> null;
        };
        if (problem != null) {
            throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(p.name()) + ": " + what + " " + JobRequests.printable(value) + " "
                    + problem + ".");
        }
    }

    /**
     * What a CreateTrainingJob naming the algorithm runs: the request with the algorithm's image as
     * its TrainingImage and the declared hyperparameters' defaults filled in, once the request
     * has been checked against the algorithm's contract.
     *
     * @param imageReference the algorithm's image, pinned to the digest it was created with
     */
    static ObjectNode apply(Training spec, ObjectNode request, String imageReference) {
        ObjectNode job = request.deepCopy();
        if (!(job.path("AlgorithmSpecification") instanceof ObjectNode a)) {
            throw JobRequests.invalid("AlgorithmSpecification must be a structure that names the AlgorithmName.");
        }
        JsonNode algo = a;
        if (algo.has("TrainingImage")) {
            throw JobRequests.invalid("AlgorithmSpecification names both an AlgorithmName and a TrainingImage; name one.");
        }
        for (String member : List.of("ContainerEntrypoint", "ContainerArguments")) {
            if (algo.has(member)) {
                throw JobRequests.invalid("AlgorithmSpecification." + member + " cannot be given with an AlgorithmName: the algorithm decides "
                        + "how its container starts.");
            }
        }
        a.remove("AlgorithmName");
        a.put("TrainingImage", imageReference);
        // Hyperparameters: each known, of its type and in range; the required ones given; defaults for the rest.
        JsonNode given = job.path("HyperParameters");
        ObjectNode hyper = job.putObject("HyperParameters");
        if (given.isObject()) {
            for (var e : given.properties()) {
                Hyperparameter p = spec.hyperparameters().get(e.getKey());
                if (p == null) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(e.getKey()) + " is not one the algorithm supports.");
                }
                if (!e.getValue().isTextual()) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(e.getKey()) + " must be a string.");
                }
                check(p, e.getValue().asText(), "the value");
                hyper.put(e.getKey(), e.getValue().asText());
            }
        } else if (!given.isMissingNode() && !given.isNull()) {
            throw JobRequests.invalid("HyperParameters must be a map.");
        }
        for (Hyperparameter p : spec.hyperparameters().values()) {
            if (!hyper.has(p.name())) {
                if (p.required()) {
                    throw JobRequests.invalid("Hyperparameter " + JobRequests.printable(p.name()) + " is required by the algorithm.");
                }
                p.defaultValue().ifPresent(d -> hyper.put(p.name(), d));
            }
        }
        // Channels: each declared, required ones present, content type, compression and input mode supported.
        Set<String> present = new HashSet<>();
        String jobMode = algo.path("TrainingInputMode").asText("File");
        for (JsonNode c : job.path("InputDataConfig")) {
            String name = c.path("ChannelName").asText();
            Channel declared = spec.channels().get(name);
            if (declared == null) {
                throw JobRequests.invalid("Channel " + JobRequests.printable(name) + " is not one the algorithm supports (it supports "
                        + String.join(", ", spec.channels().keySet()) + ").");
            }
            present.add(name);
            String type = c.path("ContentType").asText("");
            if (!type.isEmpty() && !declared.contentTypes().isEmpty() && !declared.contentTypes().contains(type)) {
                throw JobRequests.invalid("Channel " + name + ": content type " + JobRequests.printable(type) + " is not supported by the "
                        + "algorithm (it supports " + String.join(", ", declared.contentTypes()) + ").");
            }
            String compression = c.path("CompressionType").asText("None");
            if (!declared.compressions().isEmpty() && !declared.compressions().contains(compression)) {
                throw JobRequests.invalid("Channel " + name + ": compression " + JobRequests.printable(compression) + " is not supported by "
                        + "the algorithm.");
            }
            String mode = c.path("InputMode").asText(jobMode);
            if (!declared.inputModes().contains(mode)) {
                throw JobRequests.invalid("Channel " + name + ": input mode " + JobRequests.printable(mode) + " is not supported by the "
                        + "algorithm.");
            }
        }
        for (Channel c : spec.channels().values()) {
            if (c.required() && !present.contains(c.name())) {
                throw JobRequests.invalid("Channel " + c.name() + " is required by the algorithm.");
            }
        }
        String type = job.path("ResourceConfig").path("InstanceType").asText("");
        if (!type.isEmpty() && !spec.instanceTypes().contains(type)) {
            throw JobRequests.invalid("Instance type " + JobRequests.printable(type) + " is not supported by the algorithm (it supports "
                    + String.join(", ", spec.instanceTypes()) + ").");
        }
        return job;
    }

    /**
     * Checks an InferenceSpecification (of an algorithm or a model package): 1–15 containers, each
     * with an Image, an optional ImageDigest, an optional s3:// ModelDataUrl and an optional
     * Environment (as CreateModel's); the content and MIME types; instance types this Citadel
     * offers. Returns the containers.
     */
    static JsonNode inference(JsonNode spec, InstanceTypes offered) {
        if (!spec.isObject()) {
            throw JobRequests.invalid("InferenceSpecification must be a structure.");
        }
        JsonNode containers = spec.path("Containers");
        if (!containers.isArray() || containers.isEmpty() || containers.size() > 15) {
            throw JobRequests.invalid("InferenceSpecification.Containers must list 1 to 15 containers.");
        }
        for (JsonNode c : containers) {
            JobRequests.string(c, "Image", 1, 255, null, true);
            JobRequests.string(c, "ImageDigest", 0, 72, DIGEST, false);
            String url = JobRequests.string(c, "ModelDataUrl", 0, 1024, null, false);
            if (!url.isEmpty() && !url.startsWith("s3://")) {
                throw JobRequests.invalid("InferenceSpecification: ModelDataUrl must be an s3:// URI.");
            }
            // The container's Environment reaches every model made from the product (ModelPackageService.container).
            InferenceService.checkEnvironment(c.path("Environment"));
        }
        strings(spec, "SupportedContentTypes", 0, 30, 256, true);
        strings(spec, "SupportedResponseMIMETypes", 0, 30, 1024, true);
        for (String member : List.of("SupportedTransformInstanceTypes", "SupportedRealtimeInferenceInstanceTypes")) {
            for (String t : strings(spec, member, 1, 64, 64, false)) {
                if (offered.profile(t).isEmpty()) {
                    throw JobRequests.invalid("InferenceSpecification." + member + ": " + JobRequests.printable(t) + " is not offered here.");
                }
            }
        }
        return containers;
    }

    /** A product's tags as the JSON object the store keeps. */
    static String tagJson(Map<String, String> tags) {
        ObjectNode t = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        tags.forEach(t::put);
        return t.toString();
    }

    /** A list of strings of {@code min}–{@code max} items, each at most {@code maxLength} characters. */
    static List<String> strings(JsonNode in, String member, int min, int max, int maxLength, boolean required) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            if (required) {
                throw JobRequests.invalid(member + " is required.");
            }
            return List.of();
        }
        if (!n.isArray() || n.size() < min || n.size() > max) {
            throw JobRequests.invalid(member + " must be a list of " + min + " to " + max + " strings.");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : n) {
            if (!s.isTextual() || s.asText().isEmpty() || s.asText().length() > maxLength) {
                throw JobRequests.invalid(member + " holds an item that is not a string of 1 to " + maxLength + " characters.");
            }
            out.add(s.asText());
        }
        return List.copyOf(out);
    }
}
