package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.core.AwsException;
import dev.citadel.services.ecr.JobImages;
import java.util.List;
import java.util.Optional;

/**
 * The {@code ImageScanStatuses} of DescribeAlgorithm and DescribeModelPackage: one
 * AlgorithmStatusItem / ModelPackageStatusItem named after the product, its status read from the
 * registry's scans of every image the product runs (an algorithm's training image and inference
 * containers, a package's containers), the marketplace's listing rule in SageMaker's vocabulary:
 *
 * <ul>
 * <li>{@code Failed}, with a FailureReason naming the image, when an image is no longer in the
 * registry, its scan failed or is unsupported, or it has a CRITICAL finding;
 * <li>otherwise {@code NotStarted} when an image was never scanned;
 * <li>otherwise {@code InProgress} while a scan runs;
 * <li>{@code Completed} when every image's scan is complete without a CRITICAL finding.
 * </ul>
 */
final class ImageScanStatus {
    /** An image a product runs, as pinned in its body: {@code where} names it in a FailureReason. */
    record Image(String account, String repository, String digest) {
        Image {
            requireNonNull(account, "account is null");
            requireNonNull(repository, "repository is null");
            requireNonNull(digest, "digest is null");
        }

        /** The image of a pinned-image node ({@code {"account", "repository", "digest"}}). */
        static Image of(JsonNode pinned) {
            return new Image(pinned.path("account").asText(), pinned.path("repository").asText(), pinned.path("digest").asText());
        }
    }

    /** What the registry says of one image ({@code where} names it): its scan, or empty when it is no longer there. */
    record Scanned(String where, Optional<JobImages.ScanVerdict> verdict) {
        Scanned {
            requireNonNull(where, "where is null");
            requireNonNull(verdict, "verdict is null");
        }
    }

    private ImageScanStatus() {
    }

    /** What the registry says now of a pinned image. */
    static Scanned scanned(JobImages images, Image image) {
        return new Scanned(image.repository() + "@" + image.digest(), images.scan(image.account(), image.repository(), image.digest()));
    }

    /** What the registry says now of an image named by URI (an algorithm's inference container); one that no longer resolves is missing. */
    static Scanned scanned(JobImages images, String uri, String account) {
        JobImages.Resolved r;
        try {
            r = images.resolve(uri, account);
        } catch (AwsException e) {
            return new Scanned(JobRequests.printable(uri), Optional.empty());
        }
        return scanned(images, new Image(r.account(), r.repository(), r.digest()));
    }

    /** The status list of product {@code name} from the scans of its images: one item, none for a product without images. */
    static ArrayNode statuses(String name, List<Scanned> scans) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        if (scans.isEmpty()) {
            return out;
        }
        String status = "Completed";
        for (Scanned s : scans) {
            Optional<String> failure = failure(s);
            if (failure.isPresent()) {
                out.addObject().put("Name", name).put("Status", "Failed").put("FailureReason", failure.get());
                return out;
            }
            String scan = s.verdict().orElseThrow().status();
            if (scan.isEmpty()) {
                status = "NotStarted";
            } else if (!scan.equals("COMPLETE") && !status.equals("NotStarted")) {
                status = "InProgress";
            }
        }
        out.addObject().put("Name", name).put("Status", status);
        return out;
    }

    private static Optional<String> failure(Scanned s) {
        if (s.verdict().isEmpty()) {
            return Optional.of("The image " + s.where() + " is no longer in the registry.");
        }
        JobImages.ScanVerdict v = s.verdict().get();
        return switch (v.status()) {
            case "FAILED" -> Optional.of("The scan of the image " + s.where() + " failed; rescan it (StartImageScan).");
            case "UNSUPPORTED_IMAGE" -> Optional.of("The registry cannot scan the image " + s.where() + " (UNSUPPORTED_IMAGE).");
            default -> v.critical() > 0 ? Optional.of("The image " + s.where() + " has " + v.critical() + " unresolved CRITICAL finding"
                    + (v.critical() == 1 ? "" : "s") + ".") : Optional.empty();
        };
    }
}
