package dev.citadel.server.bootstrap;

import dev.citadel.core.SecretBytes;
import dev.citadel.server.fs.SecureFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files with which the AWS CLI, boto3 and the AWS SDKs reach Citadel without further set-up,
 * all mode 0600 in {@code <data-dir>/client}:
 * <ul>
 *   <li>{@code ca.pem}: the CA that issued the server certificate;</li>
 *   <li>{@code credentials}: the admin's access key, profile {@code citadel} (written once, when the key is made);</li>
 *   <li>{@code config}: profile {@code citadel} with {@code region}, {@code endpoint_url}, {@code ca_bundle};</li>
 *   <li>{@code env}: {@code export} lines for AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CA_BUNDLE,
 *       AWS_PROFILE, AWS_ENDPOINT_URL and AWS_DEFAULT_REGION;</li>
 *   <li>{@code awscli-plugins/citadel_endpoint.py}: AWS CLI releases before 2.13 (Debian 12 ships 2.9)
 *       ignore {@code endpoint_url} in the config file; this plugin, named in the config's
 *       {@code [plugins]} section, applies it when no {@code --endpoint-url} was given. {@code env}
 *       puts its folder on {@code PYTHONPATH}, and {@code cli_legacy_plugin_path} names the module
 *       rather than the folder, because AWS CLI v1 imports every value of that section as a module
 *       and would fail on a path.</li>
 * </ul>
 * The config and env files are rewritten on every start so that they follow the endpoint.
 */
public final class ClientFiles {
    public static final String PROFILE = "citadel";
    private static final String PLUGIN = """
            # Written by Citadel. AWS CLI releases before 2.13 do not read endpoint_url from the
            # config file or AWS_ENDPOINT_URL; this plugin applies it when --endpoint-url is absent.
            import os


            def awscli_initialize(cli):
                cli.register('top-level-args-parsed', _use_configured_endpoint)


            def _use_configured_endpoint(parsed_args, session, **kwargs):
                if getattr(parsed_args, 'endpoint_url', None):
                    return
                url = os.environ.get('AWS_ENDPOINT_URL')
                if not url:
                    profile = getattr(parsed_args, 'profile', None) or os.environ.get('AWS_PROFILE') or 'default'
                    url = session.full_config.get('profiles', {}).get(profile, {}).get('endpoint_url')
                if url:
                    parsed_args.endpoint_url = url
            """;

    private final Path dir;

    public ClientFiles(Path dataDir) {
        this.dir = dataDir.resolve("client").toAbsolutePath();
    }

    public Path directory() {
        return dir;
    }

    public Path credentialsFile() {
        return dir.resolve("credentials");
    }

    public Path configFile() {
        return dir.resolve("config");
    }

    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    public Path envFile() {
        return dir.resolve("env");
    }

    public boolean hasCredentials() {
        return Files.exists(credentialsFile());
    }

    public void writeCredentials(String accessKeyId, SecretBytes secretAccessKey) {
        SecureFiles.createPrivateDirectory(dir);
        SecureFiles.writePrivate(credentialsFile(), "[" + PROFILE + "]\n"
                + "aws_access_key_id = " + accessKeyId + "\n"
                + "aws_secret_access_key = " + secretAccessKey.revealUtf8() + "\n");
    }

    /** Rewrites ca.pem, config, env and the CLI plugin for the current endpoint. */
    public void writeEndpointFiles(URI endpoint, String region, Path caCertificate) {
        SecureFiles.createPrivateDirectory(dir);
        Path plugins = dir.resolve("awscli-plugins");
        SecureFiles.createPrivateDirectory(plugins);
        try {
            SecureFiles.writePrivate(caFile(), Files.readAllBytes(caCertificate));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + caCertificate, e);
        }
        SecureFiles.writePrivate(plugins.resolve("citadel_endpoint.py"), PLUGIN.getBytes(StandardCharsets.UTF_8));
        SecureFiles.writePrivate(configFile(), "[profile " + PROFILE + "]\n"
                + "region = " + region + "\n"
                + "endpoint_url = " + endpoint + "\n"
                + "ca_bundle = " + caFile() + "\n"
                + "\n"
                + "[plugins]\n"
                + "cli_legacy_plugin_path = citadel_endpoint\n"
                + "citadel_endpoint = citadel_endpoint\n");
        SecureFiles.writePrivate(envFile(), "# Source this file: . " + envFile() + "\n"
                + "export AWS_CONFIG_FILE=" + quote(configFile().toString()) + "\n"
                + "export AWS_SHARED_CREDENTIALS_FILE=" + quote(credentialsFile().toString()) + "\n"
                + "export AWS_CA_BUNDLE=" + quote(caFile().toString()) + "\n"
                + "export AWS_PROFILE=" + PROFILE + "\n"
                + "export AWS_ENDPOINT_URL=" + quote(endpoint.toString()) + "\n"
                + "export AWS_DEFAULT_REGION=" + region + "\n"
                + "export PYTHONPATH=" + quote(plugins.toString()) + "${PYTHONPATH:+:$PYTHONPATH}\n");
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }
}
