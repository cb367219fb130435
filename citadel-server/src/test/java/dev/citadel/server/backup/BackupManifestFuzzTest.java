package dev.citadel.server.backup;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target for backup manifests, which a restore reads from a directory the operator names.
 * Corpus: {@code src/test/resources/dev/citadel/server/backup/BackupManifestFuzzTestInputs/parse/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-server -am test -Dtest=BackupManifestFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Parsing either refuses with a {@link BackupException}
 * or gives a manifest that writes and reads back as itself, every path one a backup may hold.
 */
class BackupManifestFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] input) {
        BackupManifest m;
        try {
            m = BackupManifest.parse(input);
        } catch (BackupException refused) {
            return;
        }
        for (BackupManifest.Entry e : m.files()) {
            if (!BackupManifest.isAllowedPath(e.path()) || e.path().contains("..") || e.path().startsWith("/")) {
                throw new AssertionError("a manifest names a path a backup never holds: " + e.path());
            }
        }
        if (!BackupManifest.parse(m.toJson()).equals(m)) {
            throw new AssertionError("a parsed manifest does not read back as itself");
        }
    }
}
