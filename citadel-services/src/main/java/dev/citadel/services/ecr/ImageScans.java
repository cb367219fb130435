package dev.citadel.services.ecr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.metadata.ecr.EcrRepository;
import dev.citadel.metadata.ecr.EcrRepository.Image;
import dev.citadel.metadata.ecr.EcrRepository.Repo;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Image scans, on push (for repositories that ask) and on demand: one background thread reads the
 * image's layers from the sealed store and hands them to the {@link Scanner}; the image's scan
 * status goes IN_PROGRESS, then COMPLETE with its findings (ECR's basic-scan shape), FAILED with
 * a reason, or UNSUPPORTED_IMAGE when no package database is found (busybox) or the image is an
 * index (multi-platform; its images are scanned one by one), as in ECR.
 */
public final class ImageScans implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ImageScans.class);

    private final dev.citadel.services.ecr.scan.VulnerabilityScanner scanner;
    private final dev.citadel.services.ecr.scan.AdvisorySource advisories;
    private final Clock clock;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ecr-image-scans");
        t.setDaemon(true);
        return t;
    });

    /** @param advisories the vulnerability database (the operator's OSV imports) */
    public ImageScans(dev.citadel.services.ecr.scan.AdvisorySource advisories, Clock clock) {
        this.advisories = advisories;
        this.scanner = new dev.citadel.services.ecr.scan.VulnerabilityScanner(advisories);
        this.clock = clock;
    }

    /** When the vulnerability database last changed (vulnerabilitySourceUpdatedAt). */
    public Optional<Instant> databaseUpdatedAt() {
        return advisories.updatedAt();
    }

    void start(EcrService ecr, Repo repo, Image image) {
        ecr.store.useTransaction(h -> new EcrRepository(h).setScan(repo.accountId(), repo.name(), image.digest(), "IN_PROGRESS",
                "The scan is in progress.", "[]", Optional.empty()));
        executor.execute(() -> run(ecr, repo, image));
    }

    private void run(EcrService ecr, Repo repo, Image image) {
        String status;
        String description;
        String findings = "[]";
        try {
            byte[] manifest = ecr.images.readAll(repo.accountId(), ImageStore.parts(image.manifestParts()), Manifests.MAX_BYTES);
            Manifests.Parsed parsed = Manifests.parse(image.mediaType(), manifest);
            if (parsed.isIndex()) {
                status = "UNSUPPORTED_IMAGE";
                description = "An image index is not scanned; scan the images it lists.";
            } else {
                List<Supplier<InputStream>> layers = new ArrayList<>();
                for (Manifests.Reference layer : parsed.references()) {
                    EcrRepository.Blob blob = ecr.store.read(h -> new EcrRepository(h).blob(repo.accountId(), repo.name(), layer.digest()))
                            .orElseThrow(() -> new IOException("layer " + layer.digest() + " is missing"));
                    layers.add(() -> ecr.images.open(repo.accountId(), ImageStore.parts(blob.parts())));
                }
                dev.citadel.services.ecr.scan.ScanResult result = scanner.scan(layers);
                if (!result.inventory().supported()) {
                    status = "UNSUPPORTED_IMAGE";
                    description = "UnsupportedImageError: The operating system and/or package manager are not supported.";
                } else {
                    findings = json(result.findings()).toString();
                    status = "COMPLETE";
                    description = "The scan was completed successfully.";
                }
            }
        } catch (dev.citadel.services.ecr.scan.ImageScanException e) {
            status = "FAILED";
            description = e.getMessage();
        } catch (IOException | RuntimeException e) {
            LOG.warn("scan of {} in {} failed", image.digest(), repo.arn(), e);
            status = "FAILED";
            description = "The image could not be scanned: its layers could not be read as tar archives.";
        }
        String s = status;
        String d = description;
        String f = findings;
        Instant at = clock.instant();
        ecr.store.useTransaction(h -> new EcrRepository(h).setScan(repo.accountId(), repo.name(), image.digest(), s, d, f,
                s.equals("COMPLETE") ? Optional.of(at) : Optional.empty()));
    }

    private static ArrayNode json(List<dev.citadel.services.ecr.scan.Finding> findings) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (dev.citadel.services.ecr.scan.Finding f : findings) {
            ObjectNode n = out.addObject();
            n.put("name", f.name());
            if (!f.description().isEmpty()) {
                n.put("description", f.description());
            }
            if (!f.uri().isEmpty()) {
                n.put("uri", f.uri());
            }
            n.put("severity", f.severity().name());
            ArrayNode attributes = n.putArray("attributes");
            f.attributes().forEach((k, v) -> attributes.addObject().put("key", k).put("value", v));
        }
        return out;
    }

    /** findingSeverityCounts of a stored findings list. */
    static ObjectNode counts(String findingsJson) {
        Map<String, Integer> counts = new TreeMap<>();
        try {
            for (JsonNode f : EcrService.JSON.readTree(findingsJson)) {
                counts.merge(f.path("severity").asText("UNDEFINED"), 1, Integer::sum);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        counts.forEach(out::put);
        return out;
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
