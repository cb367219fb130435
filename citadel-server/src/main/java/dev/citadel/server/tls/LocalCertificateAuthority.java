package dev.citadel.server.tls;

import dev.citadel.server.fs.SecureFiles;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The embedded mode's own certificate authority. On first start it creates an ECDSA P-256 CA
 * ({@code tls/ca.pem}, key {@code tls/ca-key.pem}, mode 0600) and a server certificate
 * ({@code tls/server.pem}, {@code tls/server-key.pem}) whose subject alternative names are
 * localhost, 127.0.0.1, ::1 and the configured names. Later starts reuse both; the server
 * certificate is re-issued when the wanted names change or it is within 30 days of expiry.
 */
public final class LocalCertificateAuthority {
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration SERVER_LIFETIME = Duration.ofDays(397);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private final Path dir;
    private final SecureRandom random;

    public LocalCertificateAuthority(Path tlsDir, SecureRandom random) {
        this.dir = tlsDir;
        this.random = random;
    }

    public Path caCertificateFile() {
        return dir.resolve("ca.pem");
    }

    public Path serverCertificateFile() {
        return dir.resolve("server.pem");
    }

    public Path serverKeyFile() {
        return dir.resolve("server-key.pem");
    }

    /** Ensures a CA and a server certificate for {@code hostnames} exist; returns whether anything was issued. */
    public boolean ensure(List<String> hostnames) {
        SecureFiles.createPrivateDirectory(dir);
        boolean issued = false;
        if (!Files.exists(caCertificateFile()) || !Files.exists(dir.resolve("ca-key.pem"))) {
            issueCa();
            issued = true;
        }
        Set<String> wanted = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        wanted.addAll(hostnames);
        if (issued || !Files.exists(serverCertificateFile()) || !Files.exists(serverKeyFile()) || !current(wanted)) {
            issueServer(wanted);
            issued = true;
        }
        return issued;
    }

    private boolean current(Set<String> wanted) {
        X509Certificate cert = Pem.readCertificates(serverCertificateFile()).getFirst();
        if (cert.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
            return false;
        }
        Set<String> have = new LinkedHashSet<>();
        try {
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> n : names) {
                    have.add(normalize(String.valueOf(n.get(1))));
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            return false;
        }
        for (String w : wanted) {
            if (!have.contains(normalize(w))) {
                return false;
            }
        }
        return true;
    }

    private static String normalize(String name) {
        if (isIpLiteral(name)) {
            try {
                return InetAddress.getByName(name).getHostAddress();
            } catch (java.net.UnknownHostException e) {
                return name;
            }
        }
        return name.toLowerCase(java.util.Locale.ROOT);
    }

    private void issueCa() {
        try {
            KeyPair ca = newKeyPair();
            X500Name name = new X500Name("CN=Citadel local CA " + Long.toHexString(random.nextLong() & 0xffffffffL) + ",O=Citadel");
            Instant now = Instant.now();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(300)),
                    Date.from(now.plus(CA_LIFETIME)), name, ca.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(ca.getPublic()));
            X509Certificate cert = sign(builder, ca.getPrivate());
            SecureFiles.writePrivate(dir.resolve("ca-key.pem"), Pem.encode(ca.getPrivate()));
            SecureFiles.writePrivate(caCertificateFile(), Pem.encode(cert));
        } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException("cannot issue the local CA certificate", e);
        }
    }

    private void issueServer(Set<String> names) {
        try {
            X509Certificate caCert = Pem.readCertificates(caCertificateFile()).getFirst();
            PrivateKey caKey = Pem.readPrivateKey(dir.resolve("ca-key.pem"));
            KeyPair server = newKeyPair();
            Instant now = Instant.now();
            List<GeneralName> sans = new ArrayList<>();
            for (String n : names) {
                sans.add(new GeneralName(isIpLiteral(n) ? GeneralName.iPAddress : GeneralName.dNSName, n));
            }
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCert, serial(), Date.from(now.minusSeconds(300)),
                    Date.from(now.plus(SERVER_LIFETIME)), new X500Name("CN=localhost,O=Citadel"), server.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(server.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
            X509Certificate cert = sign(builder, caKey);
            SecureFiles.writePrivate(serverKeyFile(), Pem.encode(server.getPrivate()));
            SecureFiles.writePrivate(serverCertificateFile(), Pem.encode(cert) + Pem.encode(caCert));
        } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException("cannot issue the server certificate", e);
        }
    }

    private X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), random);
        return gen.generateKeyPair();
    }

    private BigInteger serial() {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static boolean isIpLiteral(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }
}
