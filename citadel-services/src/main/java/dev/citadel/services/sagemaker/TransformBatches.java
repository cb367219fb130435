package dev.citadel.services.sagemaker;

import dev.citadel.core.AwsException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A transform job's input object cut into the request bodies its container receives: the whole
 * object (SplitType None), or its lines (SplitType Line) one per request (SingleRecord) or as many
 * as fit in MaxPayloadInMB (MultiRecord). A record that alone exceeds the limit fails the job.
 */
final class TransformBatches {
    private TransformBatches() {
    }

    static List<byte[]> split(Path input, String splitType, String strategy, long maxBytes) throws IOException {
        List<byte[]> out = new ArrayList<>();
        if (splitType.equals("None")) {
            if (Files.size(input) > maxBytes) {
                throw tooLarge(maxBytes);
            }
            out.add(Files.readAllBytes(input));
            return out;
        }
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(input), 1 << 16)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            boolean more = true;
            while (more) {
                b = in.read();
                more = b >= 0;
                if (more && b != '\n') {
                    line.write(b);
                    if (line.size() > maxBytes) {
                        throw tooLarge(maxBytes);
                    }
                    continue;
                }
                if (line.size() == 0) {
                    continue;
                }
                line.write('\n');
                if (strategy.equals("SingleRecord")) {
                    out.add(line.toByteArray());
                } else {
                    if (batch.size() + line.size() > maxBytes && batch.size() > 0) {
                        out.add(batch.toByteArray());
                        batch.reset();
                    }
                    line.writeTo(batch);
                }
                line.reset();
            }
        }
        if (batch.size() > 0) {
            out.add(batch.toByteArray());
        }
        return out;
    }

    private static AwsException tooLarge(long max) {
        return new AwsException("ClientError", 400, "ClientError: a record is larger than MaxPayloadInMB (" + (max >> 20) + " MB).");
    }
}
