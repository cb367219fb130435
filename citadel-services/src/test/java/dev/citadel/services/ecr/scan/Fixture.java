package dev.citadel.services.ecr.scan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The OSV fixture: real published advisories for packages of the test images (see osv/README.md beside them). */
final class Fixture {
    private Fixture() {
    }

    static Path dir() {
        try {
            return Path.of(Fixture.class.getResource("osv/README.md").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<OsvAdvisory> advisories() {
        List<OsvAdvisory> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                out.add(OsvAdvisory.parse(Files.readAllBytes(f)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OsvAdvisory.InvalidAdvisoryException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    static OsvAdvisory advisory(String id) {
        return advisories().stream().filter(a -> a.id().equals(id)).findFirst().orElseThrow();
    }
}
