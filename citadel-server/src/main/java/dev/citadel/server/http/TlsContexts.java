package dev.citadel.server.http;

import dev.citadel.server.tls.Pem;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The only TLS Citadel speaks: TLS 1.3 and 1.2, with forward-secret AEAD suites only (ECDHE key
 * exchange, AES-GCM or ChaCha20-Poly1305). No CBC, no RSA key exchange, no DHE, no renegotiation.
 */
public final class TlsContexts {
    /** TLS 1.3 suites are all AEAD and forward-secret; the TLS 1.2 ones are listed one by one. */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private TlsContexts() {
    }

    public static SslContextFactory.Server server(Path certificateChain, Path privateKey) {
        List<X509Certificate> chain = Pem.readCertificates(certificateChain);
        PrivateKey key = Pem.readPrivateKey(privateKey);
        char[] password = new char[0];
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("citadel", key, password, chain.toArray(X509Certificate[]::new));
            SslContextFactory.Server factory = new SslContextFactory.Server();
            factory.setKeyStore(store);
            factory.setKeyStorePassword("");
            factory.setIncludeProtocols(PROTOCOLS.toArray(String[]::new));
            factory.setExcludeProtocols("SSLv3", "TLSv1", "TLSv1.1");
            factory.setIncludeCipherSuites(CIPHER_SUITES.toArray(String[]::new));
            factory.setExcludeCipherSuites("^.*_(MD5|SHA|SHA1)$", "^TLS_RSA_.*$", "^TLS_DHE_.*$", "^.*_CBC_.*$", "^.*_NULL_.*$");
            factory.setUseCipherSuitesOrder(true);
            factory.setRenegotiationAllowed(false);
            factory.setSniRequired(false);
            return factory;
        } catch (java.security.GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build the TLS key store", e);
        }
    }
}
