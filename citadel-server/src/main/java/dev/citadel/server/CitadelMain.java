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

/** The {@code citadel} command line. */
@Command(name = "citadel", mixinStandardHelpOptions = true, subcommands = {CitadelMain.Serve.class, CitadelMain.ConfigReference.class},
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
