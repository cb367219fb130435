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
 * status goes IN_PROGRESS, then COMPLETE with its findings (ECR's basic-scan shape) or FAILED with
 * a reason. An index (multi-platform image) is not scanned itself (UNSUPPORTED_IMAGE), as in ECR.
 */
public final class ImageScans implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ImageScans.class);

    /** A vulnerability finding as DescribeImageScanFindings lists it. */
    public record Finding(String name, String description, String uri, String severity, Map<String, String> attributes) {
    }

    /** What finds vulnerabilities in an image's layers (tar or gzip'd tar streams, base layer first). */
    public interface Scanner {
        List<Finding> scan(List<Supplier<InputStream>> layers) throws IOException;

        /** When the vulnerability database was last updated (vulnerabilitySourceUpdatedAt), if it ever was. */
        Optional<Instant> databaseUpdatedAt();
    }

    private final Scanner scanner;
    private final Clock clock;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ecr-image-scans");
        t.setDaemon(true);
        return t;
    });

    public ImageScans(Scanner scanner, Clock clock) {
        this.scanner = scanner;
        this.clock = clock;
    }

    public Optional<Instant> databaseUpdatedAt() {
        return scanner.databaseUpdatedAt();
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
                findings = json(scanner.scan(layers)).toString();
                status = "COMPLETE";
                description = "The scan was completed successfully.";
            }
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

    private static ArrayNode json(List<Finding> findings) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (Finding f : findings) {
            ObjectNode n = out.addObject();
            n.put("name", f.name());
            if (!f.description().isEmpty()) {
                n.put("description", f.description());
            }
            if (!f.uri().isEmpty()) {
                n.put("uri", f.uri());
            }
            n.put("severity", f.severity());
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

    /** No database imported: every scan completes with no findings. */
    public static Scanner none() {
        return new Scanner() {
            @Override
            public List<Finding> scan(List<Supplier<InputStream>> layers) {
                return List.of();
            }

            @Override
            public Optional<Instant> databaseUpdatedAt() {
                return Optional.empty();
            }
        };
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
