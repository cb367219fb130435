package dev.citadel.services.ecr;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.ecr.EcrRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry as SageMaker's jobs use it: an image URI as a training or processing request
 * names it ({@code <registry-host>/<repository>[:tag|@sha256:…]}, the host being Citadel's own or
 * ECR's {@code <account>.dkr.ecr.<region>.amazonaws.com}) resolved to a stored image, and a stored
 * image written out as an OCI image layout for the sandbox to unpack. Who may pull is decided by
 * the caller (the job's execution role, as in SageMaker), not here.
 */
public final class JobImages {
    private static final Pattern URI = Pattern.compile("([^/]+)/([a-z0-9][a-z0-9._/-]*?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127})|@(sha256:[0-9a-f]{64}))?");

    /** A stored image: its repository's ARN, account and name, and its manifest digest. */
    public record Resolved(String repositoryArn, String account, String repository, String digest) {
    }

    private final EcrService ecr;

    public JobImages(EcrService ecr) {
        this.ecr = ecr;
    }

    /**
     * The image {@code uri} names in this registry, or a ValidationException that says why not
     * (another registry, no such repository, tag or digest, an image index).
     *
     * @param callerAccount the account whose registry a host of Citadel's own names
     */
    public Resolved resolve(String uri, String callerAccount) {
        Matcher m = URI.matcher(uri);
        if (uri.length() > 255 || !m.matches()) {
            throw invalid("The image URI " + printable(uri) + " is not of the form <registry>/<repository>[:tag|@digest].");
        }
        String account;
        Matcher ecrHost = EcrService.ECR_HOST.matcher(m.group(1));
        if (ecrHost.matches()) {
            if (!ecrHost.group(2).equals(ecr.region)) {
                throw invalid("The image " + printable(uri) + " is in another region's registry.");
            }
            account = ecrHost.group(1);
        } else if (m.group(1).equalsIgnoreCase(ecr.registryHost.get())) {
            account = callerAccount;
        } else {
            throw invalid("The image " + printable(uri) + " is not in this Citadel's registry (" + ecr.registryHost.get()
                    + " or <account>.dkr.ecr." + ecr.region + ".amazonaws.com); push it there first.");
        }
        String repository = m.group(2);
        String reference = m.group(4) != null ? m.group(4) : m.group(3) != null ? m.group(3) : "latest";
        Optional<EcrRepository.Image> image = ecr.store.read(h -> {
            EcrRepository repo = new EcrRepository(h);
            if (repo.repository(account, repository).isEmpty()) {
                return Optional.empty();
            }
            Optional<String> digest = reference.startsWith("sha256:") ? Optional.of(reference) : repo.tag(account, repository, reference);
            return digest.flatMap(d -> repo.image(account, repository, d));
        });
        EcrRepository.Image found = image.orElseThrow(() -> invalid("The image " + printable(uri) + " does not exist in the registry."));
        if (Manifests.parse(found.mediaType(), manifest(found)).isIndex()) {
            throw invalid("The image " + printable(uri) + " is an image index; name the single-platform (linux/amd64) image it lists.");
        }
        return new Resolved(EcrService.arn(ecr.region, account, repository), account, repository, found.digest());
    }

    /**
     * Writes the image {@code digest} of a repository into {@code directory} as an OCI image
     * layout whose index tags it {@code tag}; every blob is checked against its digest as it is
     * written.
     */
    public void writeLayout(String account, String repository, String digest, Path directory, String tag) throws IOException {
        EcrRepository.Image image = ecr.store.read(h -> new EcrRepository(h).image(account, repository, digest))
                .orElseThrow(() -> new IOException("the image " + digest + " is no longer in " + repository));
        byte[] manifest = manifest(image);
        Manifests.Parsed parsed = Manifests.parse(image.mediaType(), manifest);
        Path blobs = directory.resolve("blobs").resolve("sha256");
        Files.createDirectories(blobs);
        Files.writeString(directory.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", StandardCharsets.UTF_8);
        Files.write(blobs.resolve(hex(digest)), manifest);
        java.util.List<Manifests.Reference> all = new java.util.ArrayList<>(parsed.references());
        if (parsed.config() != null) {
            all.add(parsed.config());
        }
        for (Manifests.Reference r : all) {
            EcrRepository.Blob blob = ecr.store.read(h -> new EcrRepository(h).blob(account, repository, r.digest()))
                    .orElseThrow(() -> new IOException("the blob " + r.digest() + " of " + digest + " is missing"));
            Path target = blobs.resolve(hex(r.digest()));
            if (Files.exists(target)) {
                continue;
            }
            MessageDigest sha = sha256();
            try (InputStream in = ecr.images.open(account, ImageStore.parts(blob.parts())); OutputStream out = Files.newOutputStream(target)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            }
            if (!("sha256:" + HexFormat.of().formatHex(sha.digest())).equals(r.digest())) {
                throw new IOException("the blob " + r.digest() + " does not match its digest");
            }
        }
        ObjectNode index = JsonNodeFactory.instance.objectNode().put("schemaVersion", 2);
        index.put("mediaType", Manifests.OCI_INDEX);
        ObjectNode entry = index.putArray("manifests").addObject();
        entry.put("mediaType", image.mediaType()).put("digest", digest).put("size", manifest.length);
        entry.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        Files.writeString(directory.resolve("index.json"), index.toString(), StandardCharsets.UTF_8);
    }

    /** What the registry's scan found in an image: its scan status and how many findings are CRITICAL. */
    public record ScanVerdict(String status, int critical) {
    }

    /** The scan verdict of an image, or empty when the image is no longer in the registry. */
    public Optional<ScanVerdict> scan(String account, String repository, String digest) {
        return ecr.store.read(h -> new EcrRepository(h).image(account, repository, digest)).map(i -> {
            int critical = 0;
            try {
                for (com.fasterxml.jackson.databind.JsonNode f : EcrService.JSON.readTree(i.scanFindings())) {
                    if (f.path("severity").asText().equals("CRITICAL")) {
                        critical++;
                    }
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            return new ScanVerdict(i.scanStatus(), critical);
        });
    }

    private byte[] manifest(EcrRepository.Image image) {
        try {
            return ecr.images.readAll(image.accountId(), ImageStore.parts(image.manifestParts()), Manifests.MAX_BYTES);
        } catch (IOException e) {
            throw new AwsException("InternalFailure", 500, "The image manifest could not be read.");
        }
    }

    private static String hex(String digest) {
        return digest.substring("sha256:".length());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static AwsException invalid(String message) {
        return new AwsException("ValidationException", 400, message);
    }

    private static String printable(String s) {
        String cut = s.length() > 300 ? s.substring(0, 300) + "…" : s;
        return "'" + cut.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }
}
