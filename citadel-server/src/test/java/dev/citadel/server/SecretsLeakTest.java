package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The audit issue's search: after the admin's secret key, a session token and its secret, a KMS
 * plaintext and a data key have passed through the server (and a refused call carried the
 * plaintext), no file under the data directory — metadata, audit log, sealed blobs, the event
 * history — holds any of them, in text, base64 or hex, and neither does any log file delivered to
 * the operator trail's bucket. (The client files hold the admin's own
 * credentials by design and are left out of the search.)
 */
class SecretsLeakTest {
    @Test
    @org.junit.jupiter.api.Tag("runs-once")
    void noSecretIsWrittenAnywhereUnderTheDataDirectory() throws Exception {
        try (TestServer server = TestServer.start("audit.delivery-interval=1s", "audit.digest-interval=2s")) {
            ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3",
                    ClientEnvironment.resourceFile("/acceptance/secrets_leak_probe.py").toString()));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode out = new ObjectMapper().readTree(r.stdout());
            // LookupEvents reads the audit log into the event history: make it do so, so the index is searched too.
            ClientEnvironment.Result lookup = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c",
                    "import boto3; boto3.client('cloudtrail').lookup_events(MaxResults=50)"));
            assertThat(lookup.exitCode()).as(lookup.stderr()).isZero();

            // Every event is delivered to the operator trail's bucket: fetch the log files, decompressed, to search them too.
            Thread.sleep(3_000);
            Path delivered = Files.createTempDirectory("citadel-delivered-");
            ClientEnvironment.Result fetch = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n",
                    "import boto3, gzip, sys, os",
                    "s3 = boto3.client('s3')",
                    "acct = boto3.client('sts').get_caller_identity()['Account']",
                    "bucket = 'citadel-audit-' + acct",
                    "for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):",
                    "    for o in page.get('Contents', []):",
                    "        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read())",
                    "        open(os.path.join(sys.argv[1], o['Key'].replace('/', '_')), 'wb').write(body)"), delivered.toString()));
            assertThat(fetch.exitCode()).as(fetch.stderr()).isZero();

            Map<String, List<byte[]>> needles = new java.util.LinkedHashMap<>();
            for (String name : List.of("admin_secret", "session_token", "session_secret", "kms_plaintext")) {
                String value = out.path(name).asText();
                assertThat(value).isNotEmpty();
                needles.put(name, forms(value.getBytes(StandardCharsets.UTF_8)));
            }
            needles.put("data_key", forms(Base64.getDecoder().decode(out.path("data_key_b64").asText())));

            Path clientDir = server.clientFiles().directory();
            List<Path> files = new ArrayList<>();
            try (var walk = Files.walk(server.dataDir())) {
                walk.filter(Files::isRegularFile).filter(p -> !p.startsWith(clientDir)).forEach(files::add);
            }
            List<Path> logs;
            try (var walk = Files.list(delivered)) {
                logs = walk.toList();
            }
            // The delivered log files hold the probe's calls (so the search covers them), and the digests name them.
            assertThat(logs).anyMatch(p -> p.getFileName().toString().contains("_CloudTrail-Digest_"));
            assertThat(logs).filteredOn(p -> p.getFileName().toString().contains("_CloudTrail_"))
                    .anyMatch(p -> readQuietly(p).contains("\"GenerateDataKey\"")).anyMatch(p -> readQuietly(p).contains("\"GetSessionToken\""));
            files.addAll(logs);
            // The search is over the audit log, the metadata and the sealed blobs; and it would find a secret where one is (the client files).
            assertThat(files).anyMatch(p -> p.endsWith("events.jsonl")).anyMatch(p -> p.toString().contains("metadata"));
            assertThat(Files.readString(server.clientFiles().credentialsFile())).contains(out.path("admin_secret").asText());
            for (Path f : files) {
                String raw = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                needles.forEach((name, forms) -> {
                    for (byte[] form : forms) {
                        assertThat(raw).as("%s holds the %s", f, name).doesNotContain(new String(form, StandardCharsets.ISO_8859_1));
                    }
                });
            }
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The value as bytes, and its base64, URL-safe base64 and hex spellings. */
    private static List<byte[]> forms(byte[] value) {
        List<byte[]> out = new ArrayList<>();
        out.add(value);
        out.add(Base64.getEncoder().withoutPadding().encode(value));
        out.add(Base64.getUrlEncoder().withoutPadding().encode(value));
        out.add(HexFormat.of().formatHex(value).getBytes(StandardCharsets.US_ASCII));
        out.add(HexFormat.of().withUpperCase().formatHex(value).getBytes(StandardCharsets.US_ASCII));
        return out;
    }
}
