package dev.citadel.server.acceptance;

import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** What a user gets from the first start: the variables of {@code client/env} and a trust store of {@code client/ca.pem}. */
public final class ClientEnvironment {
    private ClientEnvironment() {
    }

    /** Parses the {@code export NAME='value'} lines of client/env. */
    public static Map<String, String> variables(ClientFiles files) {
        Map<String, String> vars = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(files.envFile(), StandardCharsets.UTF_8)) {
                if (!line.startsWith("export ")) {
                    continue;
                }
                String assignment = line.substring("export ".length());
                int eq = assignment.indexOf('=');
                String value = assignment.substring(eq + 1);
                if (value.startsWith("'")) {
                    value = value.substring(1, value.indexOf('\'', 1));
                }
                vars.put(assignment.substring(0, eq), value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return vars;
    }

    public static TrustManager[] trustManagers(Path caPem) {
        try (InputStream in = Files.newInputStream(caPem)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int i = 0;
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + i++, (X509Certificate) cert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return tmf.getTrustManagers();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs a command with the environment a user gets by sourcing client/env; returns exit code, stdout and stderr. */
    public static Result run(ClientFiles files, List<String> command) {
        return run(files, command, Map.of());
    }

    /** As {@link #run(ClientFiles, List)}, with some variables changed ("" removes one). */
    public static Result run(ClientFiles files, List<String> command, Map<String, String> changes) {
        return run(files, command, changes, java.time.Duration.ofSeconds(120));
    }

    /** As {@link #run(ClientFiles, List, Map)}, with its own time limit. */
    public static Result run(ClientFiles files, List<String> command, Map<String, String> changes, java.time.Duration limit) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        pb.environment().putAll(variables(files));
        changes.forEach((k, v) -> {
            if (v.isEmpty()) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        try {
            Path out = Files.createTempFile("citadel-cmd", ".out");
            Path err = Files.createTempFile("citadel-cmd", ".err");
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("command timed out: " + command);
            }
            Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command + " (is it installed? ./citadel test installs awscli and python3 packages)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A test resource copied to a temporary file (deleted when the JVM exits), for commands that take a script path. */
    public static Path resourceFile(String resource) {
        try {
            Path script = Files.createTempFile("citadel-script", ".py");
            try (InputStream in = ClientEnvironment.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("no test resource " + resource);
                }
                Files.write(script, in.readAllBytes());
            }
            script.toFile().deleteOnExit();
            return script;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a Python script from the test resources with the machine's python3 and the environment of client/env. */
    public static Result runPythonResource(ClientFiles files, String resource) {
        try {
            Path script = Files.createTempFile("citadel-script", ".py");
            try (InputStream in = ClientEnvironment.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("no test resource " + resource);
                }
                Files.write(script, in.readAllBytes());
            }
            try {
                return run(files, List.of("python3", script.toString()));
            } finally {
                Files.deleteIfExists(script);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public record Result(int exitCode, String stdout, String stderr) {
    }
}
