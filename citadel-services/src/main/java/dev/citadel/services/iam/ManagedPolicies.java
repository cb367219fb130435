package dev.citadel.services.iam;

import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyParser;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The AWS managed policies Citadel provides, by ARN. {@code AdministratorAccess} is AWS's
 * document; {@code ReadOnlyAccess} is Citadel's equivalent for the services it has (every
 * {@code Describe*}, {@code Get*} and {@code List*} action), since AWS's own enumerates thousands of
 * actions of services Citadel does not run. {@code AmazonSageMakerFullAccess} and
 * {@code AmazonSageMakerReadOnly} are Citadel's for SageMaker users: SageMaker itself, the reads of
 * ECR images and KMS keys that training and hosting need, objects in buckets whose names contain
 * {@code sagemaker}, and passing roles to SageMaker only.
 */
public final class ManagedPolicies {
    public static final String ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";
    public static final String READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    public static final String SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
    public static final String SAGEMAKER_READ_ONLY = "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly";
    /** When Citadel's AWS managed policies are reported as created (they have one version, v1). */
    public static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

    private record Managed(String id, String document, Policy policy) {
    }

    private static final Map<String, Managed> POLICIES = new LinkedHashMap<>();

    static {
        add(ADMINISTRATOR_ACCESS, "ANPAIWMBCKSKIEE64ZLYK", """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}""");
        add(READ_ONLY_ACCESS, "ANPAILL3HVNFSB6DCOWYQ", """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}""");
        add(SAGEMAKER_FULL_ACCESS, "ANPAJZ5IWYMXO5QDB4QOG", """
                {"Version":"2012-10-17","Statement":[
                {"Sid":"SageMaker","Effect":"Allow","Action":["sagemaker:*"],"Resource":"*"},
                {"Sid":"Images","Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:DescribeImages",
                "ecr:DescribeRepositories","ecr:GetAuthorizationToken","ecr:GetDownloadUrlForLayer","ecr:ListImages"],"Resource":"*"},
                {"Sid":"Keys","Effect":"Allow","Action":["kms:Decrypt","kms:DescribeKey","kms:Encrypt","kms:GenerateDataKey","kms:ListAliases"],
                "Resource":"*"},
                {"Sid":"Data","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject","s3:AbortMultipartUpload"],
                "Resource":["arn:aws:s3:::*SageMaker*","arn:aws:s3:::*Sagemaker*","arn:aws:s3:::*sagemaker*"]},
                {"Sid":"Buckets","Effect":"Allow","Action":["s3:CreateBucket","s3:GetBucketLocation","s3:ListBucket","s3:ListAllMyBuckets"],
                "Resource":"*"},
                {"Sid":"PassRoleToSageMaker","Effect":"Allow","Action":"iam:PassRole","Resource":"*",
                "Condition":{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}},
                {"Sid":"Roles","Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}]}""");
        add(SAGEMAKER_READ_ONLY, "ANPAJTZ2H6VBXR6ISVVGU", """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sagemaker:Describe*","sagemaker:List*",
                "sagemaker:BatchDescribe*","sagemaker:GetSearchSuggestions","sagemaker:Search"],"Resource":"*"}]}""");
    }

    private static void add(String arn, String id, String document) {
        POLICIES.put(arn, new Managed(id, document, PolicyParser.parse(document, PolicyParser.Kind.IDENTITY)));
    }

    private ManagedPolicies() {
    }

    public static Optional<Policy> byArn(String arn) {
        return Optional.ofNullable(POLICIES.get(arn)).map(Managed::policy);
    }

    public static List<String> arns() {
        return List.copyOf(POLICIES.keySet());
    }

    static String document(String arn) {
        return POLICIES.get(arn).document();
    }

    static String id(String arn) {
        return POLICIES.get(arn).id();
    }
}
