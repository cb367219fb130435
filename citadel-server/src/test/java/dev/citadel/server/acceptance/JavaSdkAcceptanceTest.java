package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.server.TestServer;
import dev.citadel.server.bootstrap.ClientFiles;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.TlsTrustManagersProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.organizations.model.Account;
import software.amazon.awssdk.services.organizations.model.CreateAccountState;
import software.amazon.awssdk.services.organizations.model.CreateAccountStatus;
import software.amazon.awssdk.services.organizations.model.CreateAccountStatusNotFoundException;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * The AWS SDK for Java v2 against a running Citadel, configured only from the files the first
 * start wrote: the profile file (credentials, region, endpoint_url) and the CA certificate.
 */
class JavaSdkAcceptanceTest {
    private static TestServer server;
    private static SdkHttpClient http;
    private static ProfileFile profiles;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        ClientFiles files = server.clientFiles();
        http = ApacheHttpClient.builder()
                .tlsTrustManagersProvider(() -> ClientEnvironment.trustManagers(files.caFile()))
                .build();
        profiles = ProfileFile.aggregator()
                .addFile(ProfileFile.builder().content(files.configFile()).type(ProfileFile.Type.CONFIGURATION).build())
                .addFile(ProfileFile.builder().content(files.credentialsFile()).type(ProfileFile.Type.CREDENTIALS).build())
                .build();
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    private static ClientOverrideConfiguration profileOverrides() {
        return ClientOverrideConfiguration.builder()
                .defaultProfileFile(profiles)
                .defaultProfileName(ClientFiles.PROFILE)
                .build();
    }

    private static Region profileRegion() {
        return Region.of(profiles.profile(ClientFiles.PROFILE).orElseThrow().property("region").orElseThrow());
    }

    private static StsClient sts() {
        return StsClient.builder()
                .httpClient(http)
                .overrideConfiguration(profileOverrides())
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                .region(profileRegion())
                .build();
    }

    private static OrganizationsClient organizations() {
        return OrganizationsClient.builder()
                .httpClient(http)
                .overrideConfiguration(profileOverrides())
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                .region(profileRegion())
                .build();
    }

    @Test
    void managementAssumesTheAccessRoleOfAMemberAccountAndSignsWithTheSessionCredentials() {
        String member;
        try (OrganizationsClient org = organizations()) {
            String requestId = org.createAccount(b -> b.accountName("sdk-member").email("sdk-member@example.com")).createAccountStatus().id();
            member = org.describeCreateAccountStatus(b -> b.createAccountRequestId(requestId)).createAccountStatus().accountId();
        }
        software.amazon.awssdk.services.sts.model.Credentials c;
        try (StsClient sts = sts()) {
            c = sts.assumeRole(b -> b.roleArn("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole").roleSessionName("sdk"))
                    .credentials();
            assertThat(c.accessKeyId()).startsWith("ASIA");
            software.amazon.awssdk.services.sts.model.StsException refused = org.assertj.core.api.Assertions.catchThrowableOfType(
                    software.amazon.awssdk.services.sts.model.StsException.class,
                    () -> sts.assumeRole(b -> b.roleArn("arn:aws:iam::" + member + ":role/NoSuchRole").roleSessionName("sdk")));
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
        }
        try (StsClient asMember = StsClient.builder().httpClient(http).overrideConfiguration(profileOverrides()).region(profileRegion())
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken())))
                .build()) {
            GetCallerIdentityResponse me = asMember.getCallerIdentity();
            assertThat(me.account()).isEqualTo(member);
            assertThat(me.arn()).isEqualTo("arn:aws:sts::" + member + ":assumed-role/OrganizationAccountAccessRole/sdk");
            assertThat(me.userId()).startsWith("AROA").endsWith(":sdk");
        }
    }

    @Test
    void kmsEnvelopeEncryptionWithAnEncryptionContext() {
        try (software.amazon.awssdk.services.kms.KmsClient kms = software.amazon.awssdk.services.kms.KmsClient.builder().httpClient(http)
                .overrideConfiguration(profileOverrides())
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                .region(profileRegion()).build()) {
            String keyId = kms.createKey(b -> b.description("sdk")).keyMetadata().keyId();
            java.util.Map<String, String> context = java.util.Map.of("dataset", "imagenet");
            var dataKey = kms.generateDataKey(b -> b.keyId(keyId).keySpec("AES_256").encryptionContext(context));
            assertThat(dataKey.plaintext().asByteArray()).hasSize(32);
            var opened = kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob()).encryptionContext(context));
            assertThat(opened.plaintext().asByteArray()).isEqualTo(dataKey.plaintext().asByteArray());
            assertThat(opened.keyId()).endsWith(":key/" + keyId);
            var refused = org.assertj.core.api.Assertions.catchThrowableOfType(
                    software.amazon.awssdk.services.kms.model.InvalidCiphertextException.class,
                    () -> kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob()).encryptionContext(java.util.Map.of("dataset", "other"))));
            assertThat(refused.statusCode()).isEqualTo(400);
        }
    }

    @Test
    void getCallerIdentityNamesTheAdminOfTheManagementAccount() {
        try (StsClient sts = sts()) {
            GetCallerIdentityResponse me = sts.getCallerIdentity();
            assertThat(me.account()).matches("\\d{12}");
            assertThat(me.arn()).isEqualTo("arn:aws:iam::" + me.account() + ":user/admin");
            assertThat(me.userId()).startsWith("AIDA").hasSize(20);
        }
    }

    @Test
    void createAccountThenListAndDescribeIt() {
        try (OrganizationsClient org = organizations()) {
            CreateAccountStatus status = org.createAccount(r -> r.accountName("sdk-research").email("sdk-research@example.com"))
                    .createAccountStatus();
            assertThat(status.id()).matches("car-[a-z0-9]{8,32}");
            CreateAccountStatus done = org.describeCreateAccountStatus(r -> r.createAccountRequestId(status.id())).createAccountStatus();
            assertThat(done.state()).isEqualTo(CreateAccountState.SUCCEEDED);
            assertThat(done.accountId()).matches("\\d{12}");

            Map<String, Account> byId = new java.util.HashMap<>();
            org.listAccountsPaginator(r -> r.maxResults(1)).forEach(page -> page.accounts().forEach(a -> byId.put(a.id(), a)));
            assertThat(byId).containsKey(done.accountId());
            Account created = byId.get(done.accountId());
            assertThat(created.name()).isEqualTo("sdk-research");
            assertThat(created.email()).isEqualTo("sdk-research@example.com");
            assertThat(created.arn()).matches("arn:aws:organizations::\\d{12}:account/o-[a-z0-9]{10,32}/" + done.accountId());

            assertThat(org.describeAccount(r -> r.accountId(done.accountId())).account().name()).isEqualTo("sdk-research");
            assertThat(org.describeOrganization().organization().masterAccountId())
                    .isEqualTo(sts().getCallerIdentity().account());
        }
    }

    @Test
    void unknownCreateAccountStatusIsNotFound() {
        try (OrganizationsClient org = organizations()) {
            assertThatThrownBy(() -> org.describeCreateAccountStatus(r -> r.createAccountRequestId("car-" + "0".repeat(32))))
                    .isInstanceOf(CreateAccountStatusNotFoundException.class);
        }
    }
}
