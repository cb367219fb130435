package dev.citadel.auth;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shared test vectors live: {@code ../shared/testdata} next to the project root. */
final class TestData {
    private TestData() {
    }

    static Path root() {
        Path project = Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize();
        Path data = project.resolveSibling("shared").resolve("testdata");
        if (!Files.isDirectory(data)) {
            throw new IllegalStateException("test vectors not found at " + data + " (the project expects ../shared/testdata beside it)");
        }
        return data;
    }
}
