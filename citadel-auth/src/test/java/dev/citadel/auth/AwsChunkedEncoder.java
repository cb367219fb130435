package dev.citadel.auth;

import dev.citadel.core.Hex;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Test-side client encoding of aws-chunked bodies, as the AWS SDKs produce them. */
final class AwsChunkedEncoder {
    private AwsChunkedEncoder() {
    }

    /** Encodes {@code data} in chunks of {@code chunkSize}; signs when {@code key} is given; adds {@code trailerLine} ("name:value") if not null. */
    static byte[] encode(byte[] data, int chunkSize, byte[] key, String amzDate, String scope, String seed, String trailerLine) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String previous = seed;
        int offset = 0;
        while (true) {
            int n = Math.min(chunkSize, data.length - offset);
            byte[] chunk = Arrays.copyOfRange(data, offset, offset + n);
            String header = Integer.toHexString(n);
            if (key != null) {
                String sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n" + SigV4.EMPTY_SHA256 + "\n"
                        + SigV4.sha256Hex(chunk);
                previous = SigV4.signatureHex(key, sts);
                header += ";chunk-signature=" + previous;
            }
            out.writeBytes((header + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (n == 0) {
                break;
            }
            out.writeBytes(chunk);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            offset += n;
        }
        if (trailerLine != null) {
            out.writeBytes((trailerLine + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (key != null) {
                String sts = "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                        + SigV4.sha256Hex((trailerLine + "\n").getBytes(StandardCharsets.US_ASCII));
                out.writeBytes(("x-amz-trailer-signature:" + SigV4.signatureHex(key, sts) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static String hex(byte[] b) {
        return Hex.encode(b);
    }
}
