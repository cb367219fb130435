package dev.citadel.services.s3;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;

/**
 * Fuzz target for the Range header of GetObject. Corpus:
 * {@code src/test/resources/dev/citadel/services/s3/S3RangeFuzzTestInputs/parse/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=S3RangeFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * A range is ignored (null), refused with InvalidRange, or lies inside the object.
 */
class S3RangeFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(FuzzedDataProvider data) {
        long size = data.consumeLong(1, Long.MAX_VALUE / 2);
        String header = data.consumeRemainingAsString();
        try {
            long[] r = S3Service.parseRange(header, size);
            if (r != null && (r[0] < 0 || r[0] > r[1] || r[1] >= size)) {
                throw new AssertionError("range " + r[0] + "-" + r[1] + " outside an object of " + size + " bytes");
            }
        } catch (AwsException e) {
            if (!e.code().equals("InvalidRange")) {
                throw e;
            }
        }
    }
}
