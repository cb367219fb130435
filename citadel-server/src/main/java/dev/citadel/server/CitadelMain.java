package dev.citadel.server;

import dev.citadel.server.config.ConfigException;
import dev.citadel.server.config.ConfigKey;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code citadel} command line. */
@Command(name = "citadel", mixinStandardHelpOptions = true, subcommands = {CitadelMain.Serve.class, CitadelMain.ConfigReference.class, CitadelMain.RewrapRootKey.class, CitadelMain.Audit.class,
        CitadelMain.Vulndb.class},
        description = "A self-hosted machine-learning platform that speaks the SageMaker API.")
public final class CitadelMain {

    public static void main(String[] args) {
        System.exit(new CommandLine(new CitadelMain()).execute(args));
    }

    /** {@code citadel server}: start on embedded defaults, or as configured. */
    @Command(name = "server", mixinStandardHelpOptions = true, description = "Start Citadel.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--data-dir", description = "Data directory (default ./citadel-data).")
        Path dataDir;

        @Option(names = "--listen", description = "host:port of the TLS listener (default 127.0.0.1:8443).")
        String listen;

        @Option(names = "--config", description = "Config file (default <data-dir>/citadel.conf when it exists).")
        Path config;

        @Option(names = "--set", description = "Set any config key: --set KEY=VALUE (repeatable; wins over the file).")
        List<String> overrides = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            ServerConfig cfg;
            try {
                cfg = configure(dataDir, listen, config, overrides);
            } catch (ConfigException e) {
                System.err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            dev.citadel.server.ops.ConsoleLog.use(cfg.logFormat());
            Citadel citadel;
            try {
                citadel = Citadel.start(cfg);
            } catch (ConfigException | IllegalStateException e) {
                System.err.println("citadel: cannot start: " + e.getMessage());
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                citadel.close();
                stopped.countDown();
            }, "citadel-shutdown"));
            System.out.println(citadel.banner());
            stopped.await();
            return 0;
        }
    }

    /** Builds the configuration: defaults, then the file, then --data-dir/--listen, then --set. */
    static ServerConfig configure(Path dataDir, String listen, Path config, List<String> overrides) {
        Settings s = Settings.defaults();
        String dir = dataDir != null ? dataDir.toString() : overrides.stream()
                .filter(o -> o.startsWith(ConfigKey.DATA_DIR.key() + "="))
                .reduce((first, last) -> last)
                .map(o -> o.substring(ConfigKey.DATA_DIR.key().length() + 1))
                .orElse(ConfigKey.DATA_DIR.defaultValue());
        s = s.with(ConfigKey.DATA_DIR, dir);
        Path file = config;
        if (file == null) {
            Path candidate = Path.of(s.get(ConfigKey.DATA_DIR)).resolve("citadel.conf");
            file = Files.exists(candidate) ? candidate : null;
        } else if (!Files.exists(file)) {
            throw new ConfigException("config file " + file + " does not exist");
        }
        if (file != null) {
            s = s.withFile(file);
        }
        if (dataDir != null) {
            s = s.with(ConfigKey.DATA_DIR, dataDir.toString());
        }
        if (listen != null) {
            s = s.with(ConfigKey.LISTEN, listen);
        }
        for (String o : overrides) {
            s = s.with(o);
        }
        return ServerConfig.from(s);
    }

    /**
     * {@code citadel rewrap-root-key --to KEY=VALUE…}: re-seals every stored secret from the root key
     * of the current configuration to the one the {@code --to} settings describe (for example
     * {@code --to root-key.provider=pkcs11 --to root-key.pkcs11-pin-file=/etc/citadel/pin}). Run with
     * the server stopped; afterwards put the same settings in citadel.conf.
     */
    @Command(name = "rewrap-root-key", mixinStandardHelpOptions = true,
            description = "Move every sealed secret to another root key provider (server stopped).")
    static final class RewrapRootKey implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDirOptions data = new DataDirOptions();

        @Option(names = "--to", required = true, description = "A setting of the new root key: --to KEY=VALUE (repeatable).")
        List<String> to = new ArrayList<>();

        @Override
        public Integer call() {
            ServerConfig from;
            ServerConfig target;
            try {
                from = data.configure();
                List<String> all = new ArrayList<>(data.overrides);
                all.addAll(to);
                target = configure(data.dataDir, null, data.config, all);
            } catch (ConfigException e) {
                System.err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            if (from.rootKey().equals(target.rootKey())) {
                System.err.println("citadel: the --to settings name the root key already in use; nothing to do");
                return 2;
            }
            try (dev.citadel.metadata.MetadataStore store = dev.citadel.metadata.MetadataStore.open(from.metadata())) {
                java.security.SecureRandom random = new java.security.SecureRandom();
                var counts = dev.citadel.server.keys.RootKeyRewrap.run(store, Citadel.rootSealer(from, from.dataDir(), random),
                        Citadel.rootSealer(target, target.dataDir(), random));
                System.out.printf("re-sealed %d access keys, %d MFA seeds and %d KMS key versions under the %s root key%n",
                        counts.accessKeys(), counts.mfaSeeds(), counts.kmsKeyVersions(), target.rootKey().provider());
                return 0;
            } catch (IllegalStateException | IllegalArgumentException e) {
                System.err.println("citadel: re-wrap failed, nothing changed: " + e.getMessage());
                return 1;
            }
        }
    }

    /** {@code citadel audit verify}: the delivered CloudTrail log and digest files, checked from the data directory. */
    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Audit trail tools.", subcommands = AuditVerify.class)
    static final class Audit {
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every delivered log and digest file of the trails offline (exit 0: all valid, 1: something is not).")
    static final class AuditVerify implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDirOptions data = new DataDirOptions();

        @Option(names = "--trail-arn", description = "Only this trail (default: every trail of every account).")
        String trailArn = "";

        @Option(names = "--verbose", description = "Also print the files that are valid.")
        boolean verbose;

        @Override
        public Integer call() throws Exception {
            ServerConfig cfg;
            try {
                cfg = data.configure();
            } catch (ConfigException e) {
                System.err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            try (Citadel.Offline offline = Citadel.openOffline(cfg)) {
                var report = new dev.citadel.services.cloudtrail.TrailVerifier(offline.store(), offline.s3()).verify(trailArn);
                for (String line : report.lines()) {
                    if (!line.endsWith("\tvalid")) {
                        System.err.println(line);
                    } else if (verbose) {
                        System.out.println(line);
                    }
                }
                System.out.printf("%d/%d digest files valid%n", report.digestsValid(), report.digestsValid() + report.digestsInvalid());
                System.out.printf("%d/%d log files valid%n", report.logsValid(), report.logsValid() + report.logsInvalid());
                return report.valid() ? 0 : 1;
            }
        }
    }

    /** {@code citadel vulndb import}: the container registry's vulnerability database. */
    @Command(name = "vulndb", mixinStandardHelpOptions = true, description = "The vulnerability database of the registry's image scanner.",
            subcommands = VulndbImport.class)
    static final class Vulndb {
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Import OSV advisories from .json files, .zip archives of them (such as osv.dev's all.zip for an ecosystem),",
                    "or directories holding either. An advisory replaces a stored one with the same id only when it is newer.",
                    "Exit 0: all imported; 1: some were rejected (listed on stderr), the rest imported; 2: configuration error."})
    static final class VulndbImport implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDirOptions data = new DataDirOptions();

        @Parameters(arity = "1..*", paramLabel = "PATH", description = "OSV .json files, .zip archives or directories.")
        List<Path> paths = new ArrayList<>();

        @Override
        public Integer call() {
            ServerConfig cfg;
            try {
                cfg = data.configure();
            } catch (ConfigException e) {
                System.err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            try (dev.citadel.metadata.MetadataStore store = dev.citadel.metadata.MetadataStore.open(cfg.metadata())) {
                var report = dev.citadel.services.ecr.scan.VulnerabilityImport.run(store, paths, java.time.Clock.systemUTC());
                for (String rejected : report.rejected()) {
                    System.err.println("citadel: rejected " + rejected);
                }
                if (report.rejectedCount() > report.rejected().size()) {
                    System.err.printf("citadel: … and %d more rejected%n", report.rejectedCount() - report.rejected().size());
                }
                System.out.printf("%d advisories added, %d updated, %d ignored (the stored ones are as new), %d rejected; %d files read%n",
                        report.added(), report.updated(), report.ignored(), report.rejectedCount(), report.files());
                return report.rejectedCount() == 0 ? 0 : 1;
            }
        }
    }

    /** The options of the commands that open a data directory without serving it: which one, its config file, settings. */
    static final class DataDirOptions {
        @Option(names = "--data-dir", description = "Data directory (default ./citadel-data).")
        Path dataDir;

        @Option(names = "--config", description = "Config file (default <data-dir>/citadel.conf when it exists).")
        Path config;

        @Option(names = "--set", description = "A setting of the configuration: --set KEY=VALUE (repeatable).")
        List<String> overrides = new ArrayList<>();

        ServerConfig configure() {
            return CitadelMain.configure(dataDir, null, config, overrides);
        }
    }

    /** {@code citadel config-reference}: every key, its default and what it does. */
    @Command(name = "config-reference", mixinStandardHelpOptions = true, description = "Print every configuration key.")
    static final class ConfigReference implements Callable<Integer> {
        @Override
        public Integer call() {
            for (ConfigKey key : ConfigKey.values()) {
                System.out.printf("%-26s default: %s%n    %s%n", key.key(),
                        key.defaultValue().isEmpty() ? "(empty)" : key.defaultValue(), key.description());
            }
            return 0;
        }
    }
}
