package dev.citadel.services.sagemaker;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.math.BigDecimal;

/**
 * Fuzz target for an algorithm's TrainingSpecification and a training job that names it (the
 * input is {@code {"spec": …, "job": …}}). Corpus:
 * {@code src/test/resources/dev/citadel/services/sagemaker/AlgorithmSpecsFuzzTestInputs/apply/}. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=AlgorithmSpecsFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Either side is refused with a ValidationException, or
 * the job that comes out keeps the contract: every hyperparameter declared and within its range,
 * every required one present, the image the algorithm's.
 */
class AlgorithmSpecsFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "30s")
    void apply(FuzzedDataProvider data) {
        JsonNode n;
        try {
            n = JSON.readTree(data.consumeRemainingAsBytes());
        } catch (java.io.IOException e) {
            return;
        }
        if (n == null || !(n.path("job") instanceof ObjectNode job)) {
            return;
        }
        try {
            AlgorithmSpecs.Training spec = AlgorithmSpecs.training(n.path("spec"), InstanceTypes.defaults());
            ObjectNode out = AlgorithmSpecs.apply(spec, job, "repo@sha256:" + "0".repeat(64));
            if (!out.path("AlgorithmSpecification").path("TrainingImage").asText().equals("repo@sha256:" + "0".repeat(64))
                    || out.path("AlgorithmSpecification").has("AlgorithmName")) {
                throw new AssertionError("the job does not run the algorithm's image: " + out);
            }
            for (var e : out.path("HyperParameters").properties()) {
                AlgorithmSpecs.Hyperparameter p = spec.hyperparameters().get(e.getKey());
                if (p == null) {
                    throw new AssertionError("an undeclared hyperparameter passed: " + e.getKey());
                }
                if (p.min().isPresent()) {
                    BigDecimal v = new BigDecimal(e.getValue().asText().strip());
                    if (v.compareTo(p.min().get()) < 0 || v.compareTo(p.max().orElseThrow()) > 0) {
                        throw new AssertionError("out of range passed: " + e);
                    }
                }
                if (p.type().equals("Categorical") && !p.values().contains(e.getValue().asText())) {
                    throw new AssertionError("a value outside the categories passed: " + e);
                }
            }
            for (AlgorithmSpecs.Hyperparameter p : spec.hyperparameters().values()) {
                if (p.required() && !out.path("HyperParameters").has(p.name())) {
                    throw new AssertionError("a required hyperparameter is missing: " + p.name());
                }
            }
        } catch (AwsException e) {
            if (!e.code().equals("ValidationException")) {
                throw e;
            }
        }
    }
}
