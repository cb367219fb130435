package dev.citadel.services.ecr.scan;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Optional;

/**
 * Fuzz targets for the scanner's parsers of untrusted input: image layers (the tar reader and the
 * overlay merge with everything kept from them), the package databases (dpkg status, apk
 * installed, Python metadata, pom.properties), OSV documents with matching against them, the
 * version orders and CVSS vectors. Corpus:
 * {@code src/test/resources/dev/citadel/services/ecr/scan/ScanParsersFuzzTestInputs/<method>/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=ScanParsersFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Every parser either returns values within its limits
 * or refuses with its own checked exception; nothing else escapes.
 */
class ScanParsersFuzzTest {
    private static final ImageFilesystem.Limits SMALL = new ImageFilesystem.Limits(4, 10_000, 1 << 20, 4 << 20, 1_000, 8 << 20, 16 << 20);

    @FuzzTest(maxDuration = "30s")
    void imageLayer(byte[] layer) {
        ImageFilesystem fs;
        try {
            fs = ImageFilesystem.read(List.of(() -> new ByteArrayInputStream(layer)), SMALL);
        } catch (ImageScanException e) {
            return;
        }
        Inventory inventory = Inventory.of(fs);
        for (Package p : inventory.packages()) {
            if (!Package.plausible(p.name()) || !Package.plausible(p.version())) {
                throw new AssertionError("implausible package " + p);
            }
            if (p.location().isEmpty() || p.location().startsWith("/") || List.of(p.location().split("/")).contains("..")) {
                throw new AssertionError("location outside the image: " + p.location());
            }
        }
    }

    @FuzzTest(maxDuration = "20s")
    void dpkgStatus(byte[] data) {
        for (boolean requireStatus : new boolean[] {true, false}) {
            for (DpkgStatus.Entry e : DpkgStatus.parse(data, requireStatus)) {
                if (!Package.plausible(e.name()) || !Package.plausible(e.version()) || e.sourceName().isPresent() && !Package.plausible(e.sourceName().get())) {
                    throw new AssertionError("implausible entry " + e);
                }
            }
        }
    }

    @FuzzTest(maxDuration = "20s")
    void apkDatabase(byte[] data) {
        ApkDatabase.Result r = ApkDatabase.parse(data);
        for (ApkDatabase.Entry e : r.packages()) {
            if (!Package.plausible(e.name()) || !Package.plausible(e.version())) {
                throw new AssertionError("implausible entry " + e);
            }
        }
        for (String owned : r.ownedLanguageFiles()) {
            if (owned.startsWith("/") || owned.contains("/../") || !ImageFilesystem.languageMarker(owned)) {
                throw new AssertionError("owned file " + owned);
            }
        }
    }

    @FuzzTest(maxDuration = "20s")
    void pythonMetadata(byte[] data) {
        PythonMetadata.parse(data).ifPresent(d -> {
            if (d.name().isEmpty() || d.name().length() > Package.MAX_FIELD || !Package.plausible(d.version())) {
                throw new AssertionError("implausible distribution " + d);
            }
        });
    }

    @FuzzTest(maxDuration = "20s")
    void pomProperties(byte[] data) {
        PomProperties.parse(data).ifPresent(a -> {
            if (a.name().chars().filter(c -> c == ':').count() != 1 || !Package.plausible(a.version())) {
                throw new AssertionError("implausible artifact " + a);
            }
        });
    }

    @FuzzTest(maxDuration = "30s")
    void osvAdvisory(FuzzedDataProvider data) {
        String version = data.consumeString(40);
        OsvAdvisory a;
        try {
            a = OsvAdvisory.parse(data.consumeRemainingAsBytes());
        } catch (OsvAdvisory.InvalidAdvisoryException e) {
            return;
        }
        for (OsvAdvisory.Affected af : a.affected()) {
            Optional<VersionScheme> scheme = VersionScheme.forEcosystem(af.ecosystem());
            scheme.ifPresent(s -> Matching.affects(af, version, s));
            Matching.severity(a, af);
        }
        String uri = Matching.uri(a);
        if (!uri.startsWith("https://") && !uri.startsWith("http://")) {
            throw new AssertionError("uri " + uri);
        }
        if (Matching.findingName(a).isEmpty() || Matching.description(a).length() > Matching.MAX_DESCRIPTION) {
            throw new AssertionError("finding text");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void versionOrders(FuzzedDataProvider data) {
        String a = data.consumeString(30);
        String b = data.consumeString(30);
        String c = data.consumeRemainingAsString();
        for (VersionScheme s : List.of(DebianVersion.SCHEME, ApkVersion.SCHEME, Pep440Version.SCHEME, MavenVersion.SCHEME)) {
            if (s.compare(a, a) != 0) {
                throw new AssertionError("not reflexive: " + a);
            }
            if (Integer.signum(s.compare(a, b)) != -Integer.signum(s.compare(b, a))) {
                throw new AssertionError("not antisymmetric: " + a + " / " + b);
            }
            // Maven's own order is not transitive on odd strings (1..B1-r1 < 1.00 < 1.0_0.1 < 1..B1-r1: normalisation drops a
            // zero from one list and not from the other); the matcher copes with that (Matching.affects never needs a total order)
            if (s != MavenVersion.SCHEME && s.valid(a) && s.valid(b) && s.valid(c) && s.compare(a, b) <= 0 && s.compare(b, c) <= 0
                    && s.compare(a, c) > 0) {
                throw new AssertionError("not transitive: " + a + " / " + b + " / " + c);
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void cvssVector(FuzzedDataProvider data) {
        Cvss3.baseScore(data.consumeRemainingAsString()).ifPresent(score -> {
            if (score < 0 || score > 10 || Math.abs(score * 10 - Math.round(score * 10)) > 1e-9) {
                throw new AssertionError("score " + score);
            }
        });
    }
}
