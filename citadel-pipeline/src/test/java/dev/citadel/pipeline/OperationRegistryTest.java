package dev.citadel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.Protocol;
import org.junit.jupiter.api.Test;

class OperationRegistryTest {
    static final ServiceDefinition KMS = new ServiceDefinition("kms", "kms", "kms", Protocol.AWS_JSON_1_1, "TrentService",
            "2014-11-01", "", "kms.amazonaws.com", false);
    static final ServiceDefinition SAGEMAKER = new ServiceDefinition("sagemaker", "sagemaker", "sagemaker", Protocol.AWS_JSON_1_1,
            "SageMaker", "2017-07-24", "", "sagemaker.amazonaws.com", false);
    static final ServiceDefinition RUNTIME = new ServiceDefinition("sagemaker-runtime", "sagemaker", "sagemaker",
            Protocol.REST_JSON_1, "", "2017-05-13", "", "sagemaker.amazonaws.com", false);

    record Op(OperationSpec spec) implements Operation {
        @Override
        public JsonNode handle(RequestContext ctx, ObjectNode input) {
            return input;
        }
    }

    @Test
    void operationWithoutSpecIsRefused() {
        OperationRegistry r = new OperationRegistry().service(KMS);
        assertThatThrownBy(() -> r.register(new Op(null))).hasMessageContaining("has no operation spec");
    }

    @Test
    void specWithoutResourceResolverCannotBeBuilt() {
        assertThatThrownBy(() -> OperationSpec.builder("kms", "Encrypt").build()).hasMessageContaining("has no resource resolver");
    }

    @Test
    void specWithMalformedActionIsRefused() {
        assertThatThrownBy(() -> OperationSpec.builder("kms", "Encrypt").action("kms-encrypt").resources(ResourceResolver.ALL).build())
                .hasMessageContaining("must look like service:Action");
    }

    @Test
    void operationOfUnknownServiceIsRefused() {
        OperationRegistry r = new OperationRegistry().service(KMS);
        Op op = new Op(OperationSpec.builder("s3", "GetObject").resources(ResourceResolver.ALL).build());
        assertThatThrownBy(() -> r.register(op)).hasMessageContaining("unknown service s3");
    }

    @Test
    void actionOutsideTheServiceNamespaceIsRefused() {
        OperationRegistry r = new OperationRegistry().service(KMS);
        Op op = new Op(OperationSpec.builder("kms", "Encrypt").action("s3:GetObject").resources(ResourceResolver.ALL).build());
        assertThatThrownBy(() -> r.register(op)).hasMessageContaining("not in the service's namespace");
    }

    @Test
    void operationRegisteredTwiceIsRefused() {
        OperationRegistry r = new OperationRegistry().service(KMS);
        r.register(new Op(OperationSpec.builder("kms", "Encrypt").resources(ResourceResolver.ALL).build()));
        assertThatThrownBy(() -> r.register(new Op(OperationSpec.builder("kms", "Encrypt").resources(ResourceResolver.ALL).build())))
                .hasMessageContaining("registered twice");
    }

    @Test
    void frozenRegistryRefusesNewOperations() {
        OperationRegistry r = new OperationRegistry().service(KMS);
        r.freeze();
        assertThatThrownBy(() -> r.register(new Op(OperationSpec.builder("kms", "Encrypt").resources(ResourceResolver.ALL).build())))
                .hasMessageContaining("frozen");
    }

    @Test
    void servicesSharingASigningNameAreBothFound() {
        OperationRegistry r = new OperationRegistry().service(SAGEMAKER).service(RUNTIME);
        assertThat(r.servicesSignedAs("sagemaker")).containsExactly(SAGEMAKER, RUNTIME);
        assertThat(r.serviceByTargetPrefix("SageMaker")).contains(SAGEMAKER);
    }
}
