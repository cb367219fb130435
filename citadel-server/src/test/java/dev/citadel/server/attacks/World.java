package dev.citadel.server.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.auth.SigV4;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.TestServer;
import dev.citadel.server.attacks.Wire.Identity;
import dev.citadel.server.attacks.Wire.Reply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * What the attack catalogue attacks: one server with a management account (its administrator and
 * two IAM users, mallory the attacker and victim), a member account reached through its
 * OrganizationAccountAccessRole, roles to pass, a bucket with an object, KMS keys with a
 * ciphertext and a constrained grant, ECR repositories with an image, and a trail bucket whose
 * policy names the management trail. Each {@code *State} method reads, as the administrator, what
 * an attack aims at, so that a test can compare it before and after.
 */
final class World {
    static final String BUCKET = "victim-bucket";
    static final String OBJECT = "secret.txt";
    static final byte[] OBJECT_BYTES = "the victim's secret, version 1\n".getBytes(StandardCharsets.UTF_8);
    static final String MEMBER_BUCKET = "member-bucket";
    static final String TRAIL_BUCKET = "trail-bucket";
    static final String REPO = "victim-repo";
    static final String FROZEN = "frozen-repo";
    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

    final TestServer server;
    final Wire wire;
    final Identity admin;
    final String account;
    Identity mallory;
    Identity mallorySession;
    Identity member;
    String memberAccount;
    String keyId;
    String otherKeyId;
    String ciphertext;
    String secretsKeyId;
    String registryAuth;
    String malloryRegistryAuth;
    String memberRegistryAuth;
    byte[] config;
    byte[] layer;
    String manifest;

    World(TestServer server) {
        this.server = server;
        this.wire = new Wire(server);
        try {
            List<String> lines = Files.readAllLines(server.clientFiles().credentialsFile());
            admin = new Identity("admin", value(lines, "aws_access_key_id"), SecretBytes.ofUtf8(value(lines, "aws_secret_access_key")), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        account = ok(wire.sts(admin, "GetCallerIdentity")).xml("Account");
    }

    private static String value(List<String> lines, String key) {
        return lines.stream().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf('=') + 1).strip()).findFirst().orElseThrow();
    }

    static Reply ok(Reply r) {
        assertThat(r.status()).as(r.body()).isBetween(200, 299);
        return r;
    }

    String role(String name) {
        return "arn:aws:iam::" + account + ":role/" + name;
    }

    void build() throws Exception {
        iam();
        member();
        s3();
        kms();
        ecr();
    }

    private void iam() {
        String trustSageMaker = trust("{\"Service\":\"sagemaker.amazonaws.com\"}");
        ok(wire.iam(admin, "CreateRole", "RoleName", "admin-role", "AssumeRolePolicyDocument", trustSageMaker));
        ok(wire.iam(admin, "AttachRolePolicy", "RoleName", "admin-role", "PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"));
        ok(wire.iam(admin, "CreateRole", "RoleName", "ec2-only", "AssumeRolePolicyDocument", trustSageMaker));
        ok(wire.iam(admin, "CreateRole", "RoleName", "untrusted", "AssumeRolePolicyDocument", trust("{\"Service\":\"ec2.amazonaws.com\"}")));
        ok(wire.iam(admin, "CreateUser", "UserName", "victim", "Tags.member.1.Key", "team", "Tags.member.1.Value", "admin"));
        ok(wire.iam(admin, "CreateUser", "UserName", "mallory", "Tags.member.1.Key", "team", "Tags.member.1.Value", "mallory"));
        ok(wire.iam(admin, "PutUserPolicy", "UserName", "mallory", "PolicyName", "powers", "PolicyDocument", """
                {"Version":"2012-10-17","Statement":[
                 {"Effect":"Allow","Action":["sagemaker:*","sts:AssumeRole","sts:GetCallerIdentity","ecr:GetAuthorizationToken",
                   "iam:GetUser","iam:ListUsers","s3:ListAllMyBuckets"],"Resource":"*"},
                 {"Effect":"Allow","Action":"iam:PassRole","Resource":"%s",
                   "Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}},
                 {"Effect":"Allow","Action":"iam:PassRole","Resource":"%s"},
                 {"Effect":"Allow","Action":["iam:TagUser","iam:UntagUser"],"Resource":"*",
                   "Condition":{"StringEquals":{"aws:ResourceTag/team":"mallory"}}}]}""".formatted(role("ec2-only"), role("untrusted"))));
        Reply k = ok(wire.iam(admin, "CreateAccessKey", "UserName", "mallory"));
        mallory = new Identity("mallory", k.xml("AccessKeyId"), SecretBytes.ofUtf8(k.xml("SecretAccessKey")), "");
        ok(wire.iam(admin, "CreateRole", "RoleName", "reader", "AssumeRolePolicyDocument",
                trust("{\"AWS\":\"arn:aws:iam::" + account + ":user/mallory\"}")));
        ok(wire.iam(admin, "PutRolePolicy", "RoleName", "reader", "PolicyName", "read", "PolicyDocument",
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iam:Get*\",\"iam:List*\"],\"Resource\":\"*\"}]}"));
        Reply s = ok(wire.sts(mallory, "AssumeRole", "RoleArn", role("reader"), "RoleSessionName", "mallory"));
        mallorySession = new Identity("mallory's reader session", s.xml("AccessKeyId"), SecretBytes.ofUtf8(s.xml("SecretAccessKey")),
                s.xml("SessionToken"));
        String doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";
        ok(wire.iam(admin, "CreatePolicy", "PolicyName", "five", "PolicyDocument", doc));
        for (int i = 0; i < 4; i++) {
            ok(wire.iam(admin, "CreatePolicyVersion", "PolicyArn", "arn:aws:iam::" + account + ":policy/five", "PolicyDocument", doc));
        }
    }

    static String trust(String principal) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":" + principal + ",\"Action\":\"sts:AssumeRole\"}]}";
    }

    private void member() throws InterruptedException {
        Reply created = ok(wire.json(admin, "organizations", "AWSOrganizationsV20161128.CreateAccount",
                "{\"AccountName\":\"member\",\"Email\":\"member@example.com\"}"));
        String request = created.json().path("CreateAccountStatus").path("Id").asText();
        for (int i = 0; i < 100 && memberAccount == null; i++) {
            JsonNode st = ok(wire.json(admin, "organizations", "AWSOrganizationsV20161128.DescribeCreateAccountStatus",
                    "{\"CreateAccountRequestId\":\"" + request + "\"}")).json().path("CreateAccountStatus");
            if (st.path("State").asText().equals("SUCCEEDED")) {
                memberAccount = st.path("AccountId").asText();
            } else {
                Thread.sleep(100);
            }
        }
        assertThat(memberAccount).isNotNull();
        Reply s = ok(wire.sts(admin, "AssumeRole", "RoleArn", "arn:aws:iam::" + memberAccount + ":role/OrganizationAccountAccessRole",
                "RoleSessionName", "ops"));
        member = new Identity("member account's administrator", s.xml("AccessKeyId"), SecretBytes.ofUtf8(s.xml("SecretAccessKey")),
                s.xml("SessionToken"));
        ok(wire.iam(member, "CreateRole", "RoleName", "member-sagemaker", "AssumeRolePolicyDocument", trust("{\"Service\":\"sagemaker.amazonaws.com\"}")));
        // A role of the management account that trusts the member account only with an external id.
        ok(wire.iam(admin, "CreateRole", "RoleName", "partner", "AssumeRolePolicyDocument", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                + "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" + memberAccount + ":root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":"
                + "{\"StringEquals\":{\"sts:ExternalId\":\"only-the-partner-knows\"}}}]}"));
    }

    private void s3() {
        ok(wire.signed(admin, "s3", "PUT", "/" + BUCKET, "", Map.of(), new byte[0]));
        ok(wire.signed(admin, "s3", "PUT", "/" + BUCKET + "/" + OBJECT, "", Map.of(), OBJECT_BYTES));
        ok(wire.signed(admin, "s3", "PUT", "/" + BUCKET, "tagging", Map.of(),
                "<Tagging><TagSet><Tag><Key>owner</Key><Value>victim</Value></Tag></TagSet></Tagging>".getBytes(StandardCharsets.UTF_8)));
        ok(wire.signed(member, "s3", "PUT", "/" + MEMBER_BUCKET, "", Map.of(), new byte[0]));
        ok(wire.signed(admin, "s3", "PUT", "/" + TRAIL_BUCKET, "", Map.of(), new byte[0]));
        String trail = "arn:aws:cloudtrail:us-east-1:" + account + ":trail/management";
        ok(wire.signed(admin, "s3", "PUT", "/" + TRAIL_BUCKET, "policy", Map.of(), ("{\"Version\":\"2012-10-17\",\"Statement\":["
                + "{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:GetBucketAcl\",\"Resource\":"
                + "\"arn:aws:s3:::" + TRAIL_BUCKET + "\",\"Condition\":{\"StringEquals\":{\"aws:SourceArn\":\"" + trail + "\"}}},"
                + "{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:PutObject\",\"Resource\":"
                + "\"arn:aws:s3:::" + TRAIL_BUCKET + "/AWSLogs/*\",\"Condition\":{\"StringEquals\":{\"aws:SourceArn\":\"" + trail + "\"}}}]}")
                .getBytes(StandardCharsets.UTF_8)));
        ok(wire.json(admin, "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail",
                "{\"Name\":\"management\",\"S3BucketName\":\"" + TRAIL_BUCKET + "\"}"));
    }

    private void kms() {
        keyId = ok(wire.json(admin, "kms", "TrentService.CreateKey", "{\"Description\":\"victim\"}")).json().path("KeyMetadata").path("KeyId").asText();
        otherKeyId = ok(wire.json(admin, "kms", "TrentService.CreateKey", "{\"Description\":\"other\"}")).json().path("KeyMetadata").path("KeyId")
                .asText();
        ciphertext = ok(wire.json(admin, "kms", "TrentService.Encrypt", "{\"KeyId\":\"" + keyId + "\",\"Plaintext\":\""
                + java.util.Base64.getEncoder().encodeToString(OBJECT_BYTES) + "\",\"EncryptionContext\":{\"purpose\":\"a\"}}")).json()
                .path("CiphertextBlob").asText();
        ok(wire.json(admin, "kms", "TrentService.CreateGrant", "{\"KeyId\":\"" + keyId + "\",\"GranteePrincipal\":\"arn:aws:iam::" + account
                + ":user/mallory\",\"Operations\":[\"Decrypt\"],\"Constraints\":{\"EncryptionContextEquals\":{\"purpose\":\"b\"}}}"));
        secretsKeyId = ok(wire.json(admin, "kms", "TrentService.DescribeKey", "{\"KeyId\":\"alias/citadel/secrets\"}")).json().path("KeyMetadata")
                .path("KeyId").asText();
    }

    private void ecr() throws Exception {
        ok(wire.json(admin, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "{\"repositoryName\":\"" + REPO + "\"}"));
        ok(wire.json(admin, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "{\"repositoryName\":\"" + FROZEN
                + "\",\"imageTagMutability\":\"IMMUTABLE\"}"));
        registryAuth = token(admin);
        malloryRegistryAuth = token(mallory);
        memberRegistryAuth = token(member);
        config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        layer = "a layer of the victim's image".getBytes(StandardCharsets.UTF_8);
        manifest = manifest(digest(config), config.length, digest(layer), layer.length);
        for (String repo : List.of(REPO, FROZEN)) {
            ok(registry(registryAuth, "POST", "/v2/" + repo + "/blobs/uploads/", "digest=" + digest(config), Map.of(), config));
            ok(registry(registryAuth, "POST", "/v2/" + repo + "/blobs/uploads/", "digest=" + digest(layer), Map.of(), layer));
            ok(registry(registryAuth, "PUT", "/v2/" + repo + "/manifests/v1", "", Map.of("content-type", MANIFEST_TYPE),
                    manifest.getBytes(StandardCharsets.UTF_8)));
        }
    }

    private String token(Identity id) {
        return "Basic " + ok(wire.json(id, "ecr", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "{}")).json()
                .path("authorizationData").path(0).path("authorizationToken").asText();
    }

    static String manifest(String configDigest, int configSize, String layerDigest, int layerSize) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST_TYPE + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":" + configSize + "},\"layers\":[{"
                + "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + layerDigest + "\",\"size\":" + layerSize + "}]}";
    }

    static String digest(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Reply registry(String auth, String method, String path, String query, Map<String, String> headers, byte[] body) {
        return registry(auth, method, path, query, headers, body, false);
    }

    Reply registry(String auth, String method, String path, String query, Map<String, String> headers, byte[] body, boolean keepAlive) {
        Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put("authorization", auth);
        return wire.send(method, path, query, h, body, keepAlive);
    }

    // ---- what attacks aim at, read as the administrator ----

    private static String show(Reply r) {
        return r.status() + " " + r.body().replaceAll("<RequestId>[^<]*</RequestId>", "").replaceAll("<HostId>[^<]*</HostId>", "").replaceAll("\"RequestId\":\"[^\"]*\"", "")
                .replaceAll(",?\"lastRecordedPullTime\":[0-9.E]+", "");
    }

    /** The bucket's object versions (keys, ETags, sizes), tags, policy, versioning, encryption and the object's bytes. */
    String bucketState(String bucket) {
        StringBuilder b = new StringBuilder();
        for (String q : List.of("versions", "tagging", "policy", "versioning", "encryption")) {
            b.append(q).append(": ").append(show(wire.signed(admin, "s3", "GET", "/" + bucket, q, Map.of(), new byte[0]))).append('\n');
        }
        return b.toString();
    }

    String objectState() {
        Reply r = wire.signed(admin, "s3", "GET", "/" + BUCKET + "/" + OBJECT, "", Map.of(), new byte[0]);
        return r.status() + " " + SigV4.sha256Hex(r.bytes()) + " " + r.headers().get("etag") + "\n" + bucketState(BUCKET);
    }

    String iamState() {
        return show(wire.iam(admin, "GetAccountAuthorizationDetails")) + show(wire.iam(admin, "ListAccessKeys", "UserName", "victim"))
                + show(wire.iam(admin, "ListAccessKeys", "UserName", "mallory"));
    }

    String memberIamState() {
        return show(wire.iam(member, "GetAccountAuthorizationDetails"));
    }

    String organizationState() {
        return show(wire.json(admin, "organizations", "AWSOrganizationsV20161128.ListAccounts", "{}"))
                + show(wire.json(admin, "organizations", "AWSOrganizationsV20161128.ListRoots", "{}"));
    }

    String keyState(String key) {
        String k = "{\"KeyId\":\"" + key + "\"}";
        return show(wire.json(admin, "kms", "TrentService.DescribeKey", k)) + show(wire.json(admin, "kms", "TrentService.ListGrants", k))
                + show(wire.json(admin, "kms", "TrentService.GetKeyPolicy", "{\"KeyId\":\"" + key + "\",\"PolicyName\":\"default\"}"))
                + show(wire.json(admin, "kms", "TrentService.ListResourceTags", k))
                + show(wire.json(admin, "kms", "TrentService.ListAliases", "{}"));
    }

    String repositoryState(String repo) {
        return show(wire.json(admin, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeImages", "{\"repositoryName\":\"" + repo + "\"}"))
                + show(registry(registryAuth, "GET", "/v2/" + repo + "/tags/list", "", Map.of(), new byte[0], true))
                + show(registry(registryAuth, "GET", "/v2/" + repo + "/manifests/v1", "", Map.of(), new byte[0], true));
    }

    /** Whether the repository has a blob with this digest. */
    String blobState(String repo, String digest) {
        return "blob " + digest + ": " + registry(registryAuth, "HEAD", "/v2/" + repo + "/blobs/" + digest, "", Map.of(), new byte[0], true).status();
    }

    String jobsState() {
        return show(wire.json(admin, "sagemaker", "SageMaker.ListTrainingJobs", "{}"))
                + show(wire.json(admin, "sagemaker", "SageMaker.ListProcessingJobs", "{}"))
                + show(wire.json(admin, "sagemaker", "SageMaker.ListModels", "{}"))
                + show(wire.json(member, "sagemaker", "SageMaker.ListTrainingJobs", "{}"));
    }

    String trailState() {
        return show(wire.json(admin, "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails", "{}"))
                + show(wire.json(member, "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails", "{}"))
                + show(wire.signed(admin, "s3", "GET", "/" + TRAIL_BUCKET, "policy", Map.of(), new byte[0]));
    }
}
