package dev.citadel.services.logs;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;

/**
 * Fuzz targets for what a Logs client sends that Citadel parses itself: filter patterns and
 * pagination tokens. Corpus: {@code src/test/resources/dev/citadel/services/logs/LogsInputFuzzTestInputs/<method>/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=LogsInputFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Each either refuses with InvalidParameterException or returns a value within bounds.
 */
class LogsInputFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void filterPattern(String pattern) {
        if (pattern == null) {
            return;
        }
        try {
            FilterPattern p = FilterPattern.parse(pattern);
            if (pattern.strip().isEmpty() != p.matchesAll()) {
                throw new AssertionError("an empty pattern must match all, and only it: " + p);
            }
            p.matches(pattern);
            if (p.matchesAll() && !p.matches("anything")) {
                throw new AssertionError("matchesAll but does not match");
            }
        } catch (AwsException e) {
            if (!e.code().equals(LogsService.INVALID)) {
                throw e;
            }
        }
    }

    @FuzzTest(maxDuration = "30s")
    void pageToken(String token) {
        if (token == null) {
            return;
        }
        for (String prefix : new String[] {"", "f/", "b/"}) {
            try {
                PageTokens.Cursor c = PageTokens.decode("scope", prefix, token);
                if (!PageTokens.encode("scope", prefix, c).equals(token)) {
                    throw new AssertionError("a token decoded that is not the encoding of its cursor: " + token);
                }
            } catch (AwsException e) {
                if (!e.code().equals(LogsService.INVALID)) {
                    throw e;
                }
            }
        }
    }
}
