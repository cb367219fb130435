package dev.citadel.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.citadel.server.config.ServerConfig;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The modules follow the request path: each knows only those before it (ARCHITECTURE.md). */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.citadel");
    }

    @Test
    void coreDependsOnNoOtherModule() {
        noClasses().that().resideInAPackage("dev.citadel.core..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.citadel.wire..", "dev.citadel.auth..", "dev.citadel.metadata..",
                        "dev.citadel.policy..", "dev.citadel.pipeline..", "dev.citadel.services..", "dev.citadel.server..")
                .check(classes);
    }

    @Test
    void wireAuthAndMetadataKnowOnlyCore() {
        noClasses().that().resideInAnyPackage("dev.citadel.wire..", "dev.citadel.auth..", "dev.citadel.metadata..", "dev.citadel.policy..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.citadel.pipeline..", "dev.citadel.services..", "dev.citadel.server..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.citadel.wire..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.citadel.auth..", "dev.citadel.metadata..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.citadel.auth..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.citadel.wire..", "dev.citadel.metadata..")
                .check(classes);
    }

    @Test
    void pipelineKnowsNeitherStorageNorServicesNorServer() {
        noClasses().that().resideInAPackage("dev.citadel.pipeline..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.citadel.metadata..", "dev.citadel.services..", "dev.citadel.server..")
                .check(classes);
    }

    @Test
    void servicesDoNotKnowTheServer() {
        noClasses().that().resideInAPackage("dev.citadel.services..")
                .should().dependOnClassesThat().resideInAPackage("dev.citadel.server..")
                .check(classes);
    }

    @Test
    void theAwsSdkStaysInTheServerModule() {
        noClasses().that().resideOutsideOfPackage("dev.citadel.server..")
                .should().dependOnClassesThat().resideInAPackage("software.amazon.awssdk..")
                .check(classes);
    }

    @Test
    void jettyStaysInTheServerModule() {
        noClasses().that().resideOutsideOfPackage("dev.citadel.server..")
                .should().dependOnClassesThat().resideInAPackage("org.eclipse.jetty..")
                .check(classes);
    }

    @Test
    void micrometerStaysInTheServerModule() {
        noClasses().that().resideOutsideOfPackage("dev.citadel.server..")
                .should().dependOnClassesThat().resideInAPackage("io.micrometer..")
                .check(classes);
    }

    /** The operator listener serves metrics and health only: nothing in it can reach the API's request path. */
    @Test
    void theOperatorListenerNeverReachesTheApi() {
        noClasses().that().resideInAPackage("dev.citadel.server.ops..")
                .should().dependOnClassesThat().belongToAnyOf(dev.citadel.pipeline.RequestPipeline.class, dev.citadel.pipeline.IncomingRequest.class,
                        dev.citadel.server.http.ApiHandler.class)
                .check(classes);
    }

    /**
     * No feature bypasses audit: only {@link Citadel#start} chooses the audit sink. The other
     * sink of {@link Citadel#startWithAuditSink} is the load tool's (citadel-bench, outside the
     * server's modules), to measure what the audit costs.
     */
    @Test
    void onlyStartChoosesTheAuditSink() {
        noClasses().that().doNotBelongToAnyOf(Citadel.class)
                .should().callMethod(Citadel.class, "startWithAuditSink", ServerConfig.class, Supplier.class)
                .check(classes);
    }
}
