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
@Command(name = "citadel", mixinStandardHelpOptions = true, versionProvider = CitadelVersion.class, subcommands = {CitadelMain.Serve.class,
        CitadelMain.ConfigReference.class, CitadelMain.RewrapRootKey.class, CitadelMain.Audit.class, CitadelMain.Vulndb.class,
        CitadelMain.Backup.class, CitadelMain.Restore.class},
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

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            java.io.PrintWriter out = spec.commandLine().getOut();
            java.io.PrintWriter err = spec.commandLine().getErr();
            ServerConfig cfg;
            try {
                cfg = data.configure();
            } catch (ConfigException e) {
                err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            try (Citadel.Offline offline = Citadel.openOffline(cfg)) {
                var report = new dev.citadel.services.cloudtrail.TrailVerifier(offline.store(), offline.s3()).verify(trailArn);
                for (String line : report.lines()) {
                    if (!line.endsWith("\tvalid")) {
                        err.println(line);
                    } else if (verbose) {
                        out.println(line);
                    }
                }
                out.printf("%d/%d digest files valid%n", report.digestsValid(), report.digestsValid() + report.digestsInvalid());
                out.printf("%d/%d log files valid%n", report.logsValid(), report.logsValid() + report.logsInvalid());
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

    /**
     * {@code citadel backup --to DIR}: a consistent copy of the data directory (metadata, sealed
     * blobs, audit log, configuration, sealed TLS keys and client credentials) while the server
     * runs or not; the root key stays out unless {@code --include-root-key}. See docs/BACKUP.md.
     */
    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = {"Copy the data directory consistently into a new directory, while the server runs or not (see docs/BACKUP.md).",
                    "The copy is as encrypted as the data directory; the root key is not in it unless --include-root-key.",
                    "Exit 0: backed up; 1: refused or failed (nothing kept); 2: configuration error."})
    static final class Backup implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDirOptions data = new DataDirOptions();

        @Option(names = "--to", required = true, paramLabel = "DIR", description = "A new (or empty) directory that receives the backup.")
        Path to;

        @Option(names = "--include-root-key", description = "Also put the root key file in the backup (then the backup alone opens everything: "
                + "keep it as safe as the key). By default the key is left out and must be kept apart.")
        boolean includeRootKey;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            java.io.PrintWriter out = spec.commandLine().getOut();
            java.io.PrintWriter err = spec.commandLine().getErr();
            ServerConfig cfg;
            try {
                cfg = data.configure();
            } catch (ConfigException e) {
                err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            try {
                dev.citadel.server.backup.DataDirectoryBackup.requireEmbedded(cfg);
                java.util.Optional<Path> configFile = data.config != null ? java.util.Optional.of(data.config)
                        : java.util.Optional.of(cfg.dataDir().resolve("citadel.conf")).filter(Files::isRegularFile);
                var request = new dev.citadel.server.backup.DataDirectoryBackup.Request(cfg, configFile, to,
                        includeRootKey ? java.util.Optional.of(Citadel.rootKeyFile(cfg.dataDir())) : java.util.Optional.empty(),
                        Citadel.existingRootSealer(cfg, new java.security.SecureRandom()), CitadelVersion.current());
                var result = dev.citadel.server.backup.DataDirectoryBackup.take(request, java.time.Clock.systemUTC());
                out.printf("backed up %s into %s: schema version %d, %d object blobs, %d image blobs, %d files, %d bytes (%d snapshot%s)%n",
                        cfg.dataDir(), result.directory(), result.schemaVersion(), result.objectBlobs(), result.imageBlobs(), result.files(),
                        result.bytes(), result.snapshots(), result.snapshots() == 1 ? "" : "s");
                if (result.rootKeyIncluded()) {
                    out.println("the root key is in the backup: whoever reads the backup can open everything in it");
                } else if (cfg.rootKey().provider().equals("file")) {
                    out.println("the root key is not in the backup: keep " + Citadel.rootKeyFile(cfg.dataDir())
                            + " apart from it; a restore needs it (--root-key)");
                } else {
                    out.println("the root key stays in the PKCS#11 token; a restore needs that token");
                }
                return 0;
            } catch (dev.citadel.server.backup.BackupException | IllegalStateException | java.io.UncheckedIOException e) {
                err.println("citadel: backup failed, nothing kept: " + e.getMessage());
                return 1;
            }
        }
    }

    /**
     * {@code citadel restore --from DIR --data-dir NEW}: a backup into a new or empty data
     * directory, everything verified before the first write. See docs/BACKUP.md.
     */
    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Restore a backup into a new or empty data directory; every file is verified before anything is written.",
                    "The backup's citadel.conf is the configuration (with --set on top); the root key is --root-key, or the backup's own.",
                    "Exit 0: restored; 1: refused or failed (nothing written); 2: configuration error."})
    static final class Restore implements Callable<Integer> {
        @Option(names = "--from", required = true, paramLabel = "DIR", description = "The backup directory (citadel backup --to).")
        Path from;

        @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The new (or empty) data directory to restore into.")
        Path dataDir;

        @Option(names = "--root-key", paramLabel = "FILE", description = "The root key file (keys/root.key) of the data directory that was "
                + "backed up, for a backup without it. Not for a PKCS#11 root key, which the token holds.")
        Path rootKey;

        @Option(names = "--set", description = "A setting on top of the backup's citadel.conf: --set KEY=VALUE (repeatable; not written to the "
                + "restored citadel.conf).")
        List<String> overrides = new ArrayList<>();

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            java.io.PrintWriter out = spec.commandLine().getOut();
            java.io.PrintWriter err = spec.commandLine().getErr();
            Path backupConfig = from.resolve(dev.citadel.server.backup.BackupManifest.CONFIG);
            ServerConfig cfg;
            try {
                cfg = configure(dataDir, null, Files.isRegularFile(backupConfig, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? backupConfig : null,
                        overrides);
            } catch (ConfigException e) {
                err.println("citadel: configuration error: " + e.getMessage());
                return 2;
            }
            try {
                dev.citadel.server.backup.DataDirectoryRestore.requireEmptyTargets(from, cfg);
                var manifest = dev.citadel.server.backup.DataDirectoryRestore.readManifest(from);
                var result = dev.citadel.server.backup.DataDirectoryRestore.restore(new dev.citadel.server.backup.DataDirectoryRestore.Request(from,
                        cfg), manifest, rootKey(cfg));
                out.printf("restored the backup of %s (Citadel %s, schema version %d, %d files, %d bytes) into %s%n",
                        result.manifest().createdAt(), result.manifest().citadelVersion(), result.manifest().schemaVersion(),
                        result.manifest().files().size(), result.bytes(), result.dataDir());
                if (!overrides.isEmpty()) {
                    out.println("start the server with the same --set settings: they are not in the restored citadel.conf");
                }
                return 0;
            } catch (dev.citadel.server.backup.BackupException | IllegalStateException | java.io.UncheckedIOException e) {
                err.println("citadel: restore failed, nothing written: " + e.getMessage());
                return 1;
            }
        }

        /** The key the backup is sealed under: the given file, the backup's own, or the configured PKCS#11 token's. */
        private dev.citadel.server.backup.DataDirectoryRestore.RootKey rootKey(ServerConfig cfg) {
            java.security.SecureRandom random = new java.security.SecureRandom();
            if (cfg.rootKey().provider().equals("pkcs11")) {
                if (rootKey != null) {
                    throw new dev.citadel.server.backup.BackupException("--root-key applies to a root key file; this configuration keeps the "
                            + "root key in a PKCS#11 token, which the restore uses");
                }
                ServerConfig.RootKeyConfig root = cfg.rootKey();
                return new dev.citadel.server.backup.DataDirectoryRestore.RootKey(dev.citadel.server.keys.Pkcs11SecretSealer.openExisting(
                        root.library(), root.slotIndex(), root.pinFile().orElseThrow(), root.keyLabel(), random), java.util.Optional.empty());
            }
            Path file = rootKey;
            if (file == null) {
                Path inBackup = from.resolve(dev.citadel.server.backup.BackupManifest.ROOT_KEY);
                if (!Files.isRegularFile(inBackup, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new dev.citadel.server.backup.BackupException("the root key is missing: this backup does not hold it (citadel backup "
                            + "leaves it out unless --include-root-key), so give the root key file of the data directory that was backed up "
                            + "with --root-key FILE");
                }
                file = inBackup;
            }
            dev.citadel.core.SecretBytes key = dev.citadel.server.keys.RootKeyFile.load(file);
            return new dev.citadel.server.backup.DataDirectoryRestore.RootKey(new dev.citadel.server.keys.AesGcmSecretSealer(key, random),
                    java.util.Optional.of(key));
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
