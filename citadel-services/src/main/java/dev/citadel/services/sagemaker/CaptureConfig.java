package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * An endpoint configuration's {@code DataCaptureConfig}, read once when the configuration is
 * deployed so that no invocation has to parse it: whether capture is on ({@code EnableCapture},
 * true when absent, as in SageMaker), the share of invocations captured, where the captures go
 * (the bucket and the key prefix of {@code DestinationS3Uri}), the KMS key they are sealed under,
 * which sides of an invocation are kept ({@code CaptureOptions}: Input, Output or
 * InputAndOutput) and which content types are recorded as text ({@code CaptureContentTypeHeader};
 * every other type is recorded as base64).
 *
 * @param destination the DestinationS3Uri as given, for DescribeEndpoint
 * @param prefix      the key prefix under the bucket, without a leading or trailing slash; may be empty
 * @param csvTypes    media types (lower case, without parameters) recorded with encoding CSV
 * @param jsonTypes   media types (lower case, without parameters) recorded with encoding JSON
 */
record CaptureConfig(boolean enabled, int samplingPercentage, String destination, String bucket, String prefix, Optional<String> kmsKeyId,
        boolean input, boolean output, Set<String> csvTypes, Set<String> jsonTypes) {
    CaptureConfig {
        requireNonNull(destination, "destination is null");
        requireNonNull(bucket, "bucket is null");
        requireNonNull(prefix, "prefix is null");
        requireNonNull(kmsKeyId, "kmsKeyId is null");
        csvTypes = Set.copyOf(csvTypes);
        jsonTypes = Set.copyOf(jsonTypes);
        if (samplingPercentage < 0 || samplingPercentage > 100) {
            throw new IllegalArgumentException("samplingPercentage must be between 0 and 100");
        }
    }

    /** The DataCaptureConfig of an endpoint configuration's body (validated when it was created), or empty when it has none. */
    static Optional<CaptureConfig> of(JsonNode endpointConfig) {
        JsonNode c = endpointConfig.path("DataCaptureConfig");
        if (!c.isObject()) {
            return Optional.empty();
        }
        String destination = c.path("DestinationS3Uri").asText();
        String[] bp = JobRequests.bucketAndPrefix(destination);
        String prefix = bp[1];
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        boolean input = false;
        boolean output = false;
        for (JsonNode o : c.path("CaptureOptions")) {
            String mode = o.path("CaptureMode").asText();
            input |= mode.equals("Input") || mode.equals("InputAndOutput");
            output |= mode.equals("Output") || mode.equals("InputAndOutput");
        }
        Optional<String> key = c.path("KmsKeyId").isTextual() && !c.path("KmsKeyId").asText().isEmpty()
                ? Optional.of(c.path("KmsKeyId").asText()) : Optional.empty();
        return Optional.of(new CaptureConfig(c.path("EnableCapture").asBoolean(true), c.path("InitialSamplingPercentage").asInt(),
                destination, bp[0], prefix, key, input, output, mediaTypes(c.path("CaptureContentTypeHeader").path("CsvContentTypes")),
                mediaTypes(c.path("CaptureContentTypeHeader").path("JsonContentTypes"))));
    }

    private static Set<String> mediaTypes(JsonNode list) {
        Set<String> out = new HashSet<>();
        list.forEach(t -> out.add(mediaType(t.asText())));
        return out;
    }

    /** A Content-Type without its parameters, in lower case: {@code text/csv; charset=utf-8} is {@code text/csv}. */
    static String mediaType(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    }

    /**
     * DescribeEndpoint's {@code DataCaptureConfig} (SageMaker's DataCaptureConfigSummary):
     * CaptureStatus is Started while capture is enabled and the configuration serves, Stopped
     * otherwise; KmsKeyId is left out when none was given.
     */
    ObjectNode summary(boolean serving) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("EnableCapture", enabled);
        out.put("CaptureStatus", enabled && serving ? "Started" : "Stopped");
        out.put("CurrentSamplingPercentage", samplingPercentage);
        out.put("DestinationS3Uri", destination);
        kmsKeyId.ifPresent(k -> out.put("KmsKeyId", k));
        return out;
    }
}
