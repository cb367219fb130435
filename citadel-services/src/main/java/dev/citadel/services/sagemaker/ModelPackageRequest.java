package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A CreateModelPackage request checked whole from its input alone, before the store is read or
 * anything written (ModelPackageService then resolves images, the source algorithm, the group and
 * the ValidationRole's PassRole): exactly one of ModelPackageName (unversioned) and
 * ModelPackageGroupName (a version), the description, the approval status (versions only), an
 * InferenceSpecification ({@link AlgorithmSpecs#inference}: containers with their Environment,
 * content types, instance types) or a SourceAlgorithmSpecification (one algorithm and an s3://
 * ModelDataUrl) or both, a ValidationSpecification (the role's ARN, one profile, its
 * TransformJobDefinition as a transform job), CertifyForMarketplace only for a validated
 * unversioned package, and the tags.
 *
 * @param name the unversioned package's name, or empty for a version
 * @param group the group of a version, or empty
 * @param approval the version's ModelApprovalStatus ({@code PendingManualApproval} by default), empty when unversioned
 * @param source the SourceAlgorithmSpecification's algorithm, when given
 * @param validationRole the ValidationSpecification's role, when given
 */
record ModelPackageRequest(Optional<String> name, Optional<String> group, String approval, Optional<SourceAlgorithm> source,
        Optional<String> validationRole, boolean certify, Map<String, String> tags) {
    static final Set<String> APPROVALS = Set.of("Approved", "Rejected", "PendingManualApproval");

    /** The one algorithm of a SourceAlgorithmSpecification: its name or ARN as given, and the artifact it serves. */
    record SourceAlgorithm(String algorithmName, String modelDataUrl) {
        SourceAlgorithm {
            requireNonNull(algorithmName, "algorithmName is null");
            requireNonNull(modelDataUrl, "modelDataUrl is null");
        }
    }

    ModelPackageRequest {
        requireNonNull(name, "name is null");
        requireNonNull(group, "group is null");
        requireNonNull(approval, "approval is null");
        requireNonNull(source, "source is null");
        requireNonNull(validationRole, "validationRole is null");
        tags = Map.copyOf(tags);
    }

    boolean versioned() {
        return group.isPresent();
    }

    boolean validates() {
        return validationRole.isPresent();
    }

    /** Checks the request; a ValidationException says what is wrong. */
    static ModelPackageRequest parse(ObjectNode in, InstanceTypes types) {
        boolean versioned = in.hasNonNull("ModelPackageGroupName");
        if (versioned == in.hasNonNull("ModelPackageName")) {
            throw JobRequests.invalid("Give exactly one of ModelPackageName (an unversioned package) and ModelPackageGroupName (a version in "
                    + "a group).");
        }
        Optional<String> group = versioned ? Optional.of(ModelPackageService.groupName(JobRequests.string(in, "ModelPackageGroupName", 1,
                170, null, true))) : Optional.empty();
        Optional<String> name = versioned ? Optional.empty() : Optional.of(JobRequests.string(in, "ModelPackageName", 1, 63,
                AlgorithmSpecs.NAME, true));
        JobRequests.string(in, "ModelPackageDescription", 0, 1024, null, false);
        if (!versioned && in.has("ModelApprovalStatus")) {
            throw JobRequests.invalid("ModelApprovalStatus belongs to versioned model packages (in a ModelPackageGroupName).");
        }
        String approval = "";
        if (versioned) {
            approval = in.hasNonNull("ModelApprovalStatus") ? JobRequests.string(in, "ModelApprovalStatus", 1, 32, null, true)
                    : "PendingManualApproval";
            if (!APPROVALS.contains(approval)) {
                throw JobRequests.invalid("ModelApprovalStatus must be Approved, Rejected or PendingManualApproval.");
            }
        }
        JsonNode inference = in.path("InferenceSpecification");
        boolean hasInference = !inference.isMissingNode() && !inference.isNull();
        if (hasInference) {
            AlgorithmSpecs.inference(inference, types);
        }
        Optional<SourceAlgorithm> source = source(in.path("SourceAlgorithmSpecification"));
        if (!hasInference && source.isEmpty()) {
            throw JobRequests.invalid("A model package needs an InferenceSpecification or a SourceAlgorithmSpecification.");
        }
        Optional<String> role = validation(in.path("ValidationSpecification"), types);
        boolean certify = certify(in);
        if (certify && (role.isEmpty() || versioned)) {
            throw JobRequests.invalid("CertifyForMarketplace needs an unversioned package with a ValidationSpecification: a product is "
                    + "validated before it is listed.");
        }
        return new ModelPackageRequest(name, group, approval, source, role, certify, JobRequests.tags(in));
    }

    private static Optional<SourceAlgorithm> source(JsonNode spec) {
        if (spec.isMissingNode() || spec.isNull()) {
            return Optional.empty();
        }
        JsonNode list = spec.path("SourceAlgorithms");
        if (!spec.isObject() || !list.isArray() || list.size() != 1 || !list.get(0).isObject()) {
            throw JobRequests.invalid("SourceAlgorithmSpecification.SourceAlgorithms must hold exactly one algorithm.");
        }
        JsonNode s = list.get(0);
        String url = JobRequests.string(s, "ModelDataUrl", 1, 1024, null, true);
        if (!url.startsWith("s3://")) {
            throw JobRequests.invalid("SourceAlgorithms ModelDataUrl must be an s3:// URI.");
        }
        return Optional.of(new SourceAlgorithm(JobRequests.string(s, "AlgorithmName", 1, 170, null, true), url));
    }

    /** The ValidationSpecification's role, after its one profile's transform job is checked as one. */
    private static Optional<String> validation(JsonNode spec, InstanceTypes types) {
        if (spec.isMissingNode() || spec.isNull()) {
            return Optional.empty();
        }
        if (!spec.isObject()) {
            throw JobRequests.invalid("ValidationSpecification must be a structure.");
        }
        String role = JobRequests.string(spec, "ValidationRole", 20, 2048, JobRequests.ROLE_ARN, true);
        JsonNode profiles = spec.path("ValidationProfiles");
        if (!profiles.isArray() || profiles.size() != 1 || !profiles.get(0).isObject()) {
            throw JobRequests.invalid("ValidationSpecification.ValidationProfiles must hold exactly one profile.");
        }
        JsonNode profile = profiles.get(0);
        JobRequests.string(profile, "ProfileName", 1, 63, AlgorithmSpecs.NAME, true);
        JsonNode transform = profile.path("TransformJobDefinition");
        if (!transform.isObject()) {
            throw JobRequests.invalid("The validation profile needs a TransformJobDefinition.");
        }
        TransformRequest.parse(ProductValidation.validationTransform("check", "check", transform), types);
        return Optional.of(role);
    }

    private static boolean certify(ObjectNode in) {
        JsonNode n = in.path("CertifyForMarketplace");
        if (n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw JobRequests.invalid("CertifyForMarketplace must be a boolean.");
        }
        return n.booleanValue();
    }
}
