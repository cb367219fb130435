package dev.citadel.services.sagemaker;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;

/**
 * Fuzz targets for CreateTrainingJob and CreateProcessingJob bodies. Corpus:
 * {@code src/test/resources/dev/citadel/services/sagemaker/JobRequestsFuzzTestInputs/<method>/}. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=JobRequestsFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Each body is refused with a ValidationException or
 * read into a request whose paths stay in the container's directories and whose sizes are in range.
 */
class JobRequestsFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JobRequests REQUESTS = new JobRequests(InstanceTypes.defaults(), 100);

    @FuzzTest(maxDuration = "30s")
    void training(FuzzedDataProvider data) {
        check(data.consumeRemainingAsBytes(), true);
    }

    @FuzzTest(maxDuration = "30s")
    void processing(FuzzedDataProvider data) {
        check(data.consumeRemainingAsBytes(), false);
    }

    private static void check(byte[] body, boolean training) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (java.io.IOException e) {
            return;
        }
        if (!(n instanceof ObjectNode in)) {
            return;
        }
        try {
            JobRequest r = training ? REQUESTS.training(in) : REQUESTS.processing(in);
            if (r.instanceCount() != 1 || r.volumeSizeGb() < 1 || r.volumeSizeGb() > 100 || r.maxRuntimeSeconds() < 1) {
                throw new AssertionError("accepted out of range: " + r);
            }
            for (JobRequest.Input i : r.inputs()) {
                if (!i.localPath().startsWith(training ? "/opt/ml/input/data/" : "/opt/ml/processing/") || i.localPath().contains("..")) {
                    throw new AssertionError("an input outside its directory: " + i.localPath());
                }
            }
            for (JobRequest.Output o : r.outputs()) {
                if (!o.localPath().startsWith("/opt/ml/processing/") || o.localPath().contains("..")) {
                    throw new AssertionError("an output outside its directory: " + o.localPath());
                }
            }
        } catch (AwsException e) {
            if (!e.code().equals("ValidationException")) {
                throw e;
            }
        }
    }
}
