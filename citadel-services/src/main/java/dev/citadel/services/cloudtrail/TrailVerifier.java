package dev.citadel.services.cloudtrail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.DeliveryRepository;
import dev.citadel.metadata.cloudtrail.SigningKeyRepository;
import dev.citadel.metadata.cloudtrail.TrailRepository;
import dev.citadel.metadata.cloudtrail.TrailRepository.Trail;
import dev.citadel.services.s3.S3Service;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * {@code citadel audit verify}: checks every delivered log and digest file of the trails from the
 * data directory, with no server and no client. It walks each digest chain from its newest digest
 * (the one the metadata names, then any other digest of the trail in the bucket) back to its
 * start, and checks what {@code aws cloudtrail validate-logs} checks (the digest is where it was
 * delivered, its SHA256withRSA signature by the named key, each listed log file's SHA-256) and
 * more: that each digest's record of the previous digest (hash and signature) matches that digest,
 * and that the log files delivered since the last digest still hash as recorded. Findings are
 * printed one per line in validate-logs' shape ({@code Digest file<TAB>s3://b/k<TAB>valid}).
 */
public final class TrailVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What was checked and what failed. */
    public record Report(int digestsValid, int digestsInvalid, int logsValid, int logsInvalid, List<String> lines) {
        public boolean valid() {
            return digestsInvalid == 0 && logsInvalid == 0;
        }
    }

    private final MetadataStore store;
    private final S3Service s3;
    private final List<String> lines = new ArrayList<>();
    private final Set<String> visited = new HashSet<>();
    private final Map<String, byte[]> publicKeys = new HashMap<>();
    private int digestsValid;
    private int digestsInvalid;
    private int logsValid;
    private int logsInvalid;

    public TrailVerifier(MetadataStore store, S3Service s3) {
        this.store = store;
        this.s3 = s3;
    }

    /** Verifies the trails whose ARN is {@code trailArn}, or every trail when it is empty. */
    public Report verify(String trailArn) throws IOException {
        for (Trail t : store.read(h -> new TrailRepository(h).all())) {
            if (trailArn.isEmpty() || t.arn().equals(trailArn)) {
                verify(t);
            }
        }
        return new Report(digestsValid, digestsInvalid, logsValid, logsInvalid, List.copyOf(lines));
    }

    private void verify(Trail t) throws IOException {
        String account = t.accountId();
        String trailName = t.arn().substring(t.arn().lastIndexOf('/') + 1);
        String prefix = (t.s3KeyPrefix().isEmpty() ? "" : t.s3KeyPrefix() + "/") + "AWSLogs/" + account + "/CloudTrail-Digest/";
        List<String> starts = new ArrayList<>();
        for (String region : store.read(h -> new DeliveryRepository(h).chainRegions(t.arn()))) {
            store.read(h -> new DeliveryRepository(h).chainHead(t.arn(), region)).ifPresent(head -> starts.add(head.key()));
        }
        String marker = "_CloudTrail-Digest_";
        List<String> listed = new ArrayList<>(s3.listKeysAsOperator(t.s3Bucket(), prefix).stream()
                .filter(k -> k.endsWith(".json.gz") && k.contains(marker) && k.substring(k.indexOf(marker)).contains("_" + trailName + "_"))
                .toList());
        listed.sort(Comparator.comparing((String k) -> k.substring(k.length() - 24, k.length() - 8)).reversed());
        starts.addAll(listed);
        for (String key : starts) {
            walk(t, key);
        }
        for (String region : store.read(h -> new DeliveryRepository(h).pendingRegions(t.arn()))) {
            for (DeliveryRepository.LogFile f : store.read(h -> new DeliveryRepository(h).pendingLogFiles(t.arn(), region, Instant.parse("9999-12-31T00:00:00Z")))) {
                checkLog(f.bucket(), f.key(), f.hash());
            }
        }
    }

    /** Follows a chain from {@code key} to its starting digest (or to a digest already checked). */
    private void walk(Trail t, String key) throws IOException {
        String bucket = t.s3Bucket();
        while (key != null && visited.add(bucket + "/" + key)) {
            Optional<S3Service.StoredObject> found = s3.readAsOperator(bucket, key);
            if (found.isEmpty()) {
                digest(bucket, key, "INVALID: not found");
                return;
            }
            Checked checked = checkDigest(bucket, key, found.get().body(), found.get().metadata(), this::publicKey);
            digest(bucket, key, checked.status());
            if (checked.digest() == null) {
                return;
            }
            JsonNode d = checked.digest();
            for (JsonNode f : d.path("logFiles")) {
                checkLog(f.path("s3Bucket").asText(""), f.path("s3Object").asText(""), f.path("hashValue").asText(""));
            }
            if (d.path("previousDigestS3Object").isNull() || d.path("previousDigestS3Object").isMissingNode()) {
                return;
            }
            String previousBucket = d.path("previousDigestS3Bucket").asText("");
            String previousKey = d.path("previousDigestS3Object").asText("");
            Optional<S3Service.StoredObject> previous = s3.readAsOperator(previousBucket, previousKey);
            if (previous.isPresent()) {
                String actualHash;
                try {
                    actualHash = TrailDelivery.sha256Hex(gunzip(previous.get().body()));
                } catch (IOException e) {
                    actualHash = "";
                }
                if (!actualHash.equals(d.path("previousDigestHashValue").asText(""))
                        || !previous.get().metadata().getOrDefault("signature", "").equals(d.path("previousDigestSignature").asText(""))) {
                    digest(previousBucket, previousKey, "INVALID: it is not the digest the next digest chained to (hash or signature differs)");
                    visited.add(previousBucket + "/" + previousKey);
                    return;
                }
            }
            bucket = previousBucket;
            key = previousKey;
        }
    }

    /** A digest file's verdict ("valid" or "INVALID: why") and, when valid, its JSON. */
    record Checked(String status, JsonNode digest) {
    }

    /**
     * Checks one digest file as fetched from {@code bucket}/{@code key}: gzip and JSON, the fields
     * validate-logs requires, its location, and its signature (hex in the {@code signature} user
     * metadata) by the public key its fingerprint names. The bytes are untrusted (a bucket owner
     * can write anything there): any input gets a verdict, nothing is thrown.
     */
    static Checked checkDigest(String bucket, String key, byte[] gz, Map<String, String> metadata,
            java.util.function.Function<String, byte[]> publicKeys) {
        byte[] content;
        JsonNode d;
        try {
            content = gunzip(gz);
            d = JSON.readTree(content);
        } catch (IOException | RuntimeException e) {
            return new Checked("INVALID: invalid format", null);
        }
        if (d == null || !d.isObject()) {
            return new Checked("INVALID: invalid format", null);
        }
        for (String field : List.of("digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature", "digestEndTime",
                "digestStartTime")) {
            if (!d.has(field)) {
                return new Checked("INVALID: invalid format", null);
            }
        }
        if (!d.path("digestS3Bucket").asText("").equals(bucket) || !d.path("digestS3Object").asText("").equals(key)) {
            return new Checked("INVALID: has been moved from its original location", null);
        }
        String signature = metadata.get("signature");
        if (signature == null || !metadata.containsKey("signature-algorithm")) {
            return new Checked("INVALID: signature verification failed", null);
        }
        String fingerprint = d.path("digestPublicKeyFingerprint").asText("");
        byte[] publicKey = publicKeys.apply(fingerprint);
        if (publicKey == null) {
            return new Checked("INVALID: public key not found for fingerprint " + fingerprint, null);
        }
        JsonNode previous = d.path("previousDigestSignature");
        byte[] signed = TrailDelivery.stringToSign(d.path("digestEndTime").asText(""), bucket, key, TrailDelivery.sha256Hex(content),
                previous.isNull() ? null : previous.asText());
        byte[] raw;
        try {
            raw = HexFormat.of().parseHex(signature);
        } catch (IllegalArgumentException e) {
            return new Checked("INVALID: signature verification failed", null);
        }
        return DigestSigningKeys.verify(publicKey, signed, raw) ? new Checked("valid", d) : new Checked("INVALID: signature verification failed", null);
    }

    private byte[] publicKey(String fingerprint) {
        if (publicKeys.isEmpty()) {
            store.read(h -> h.createQuery("SELECT DISTINCT region FROM cloudtrail_signing_keys").mapTo(String.class).list()).forEach(region ->
                    store.read(h -> new SigningKeyRepository(h).validBetween(region, Instant.EPOCH, Instant.parse("9999-12-31T00:00:00Z")))
                            .forEach(k -> publicKeys.put(k.fingerprint(), k.publicKey())));
        }
        return publicKeys.get(fingerprint);
    }

    private void checkLog(String bucket, String key, String hash) throws IOException {
        Optional<S3Service.StoredObject> found = s3.readAsOperator(bucket, key);
        String status;
        if (found.isEmpty()) {
            status = "INVALID: not found";
        } else {
            String actual;
            try {
                actual = TrailDelivery.sha256Hex(gunzip(found.get().body()));
            } catch (IOException e) {
                actual = null;
            }
            status = actual == null ? "INVALID: invalid format" : actual.equals(hash) ? "valid" : "INVALID: hash value doesn't match";
        }
        lines.add("Log file\ts3://" + bucket + "/" + key + "\t" + status);
        if (status.equals("valid")) {
            logsValid++;
        } else {
            logsInvalid++;
        }
    }

    private void digest(String bucket, String key, String status) {
        lines.add("Digest file\ts3://" + bucket + "/" + key + "\t" + status);
        if (status.equals("valid")) {
            digestsValid++;
        } else {
            digestsInvalid++;
        }
    }

    /** At most 256 MiB inflated: a file is refused rather than allowed to exhaust memory. */
    private static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            byte[] out = in.readNBytes(256 << 20);
            if (in.read() >= 0) {
                throw new IOException("inflates to more than 256 MiB");
            }
            return out;
        }
    }
}
