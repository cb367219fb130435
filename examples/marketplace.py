"""The quickstart's marketplace scene (examples/quickstart.sh runs it last): two member accounts of
the organization, a seller and a buyer. The seller lists the scikit-learn algorithm, validated by
its own training job; the buyer finds it in the catalog, subscribes, and trains on its own data,
never getting the seller's image; the seller sees a usage record and nothing else. Then the seller
lists a model it trained, its artifact sealed under the seller's own KMS key with a grant that lets
only Citadel's launcher decrypt it for this product; the buyer deploys it, the seller's trail shows
the launcher's Decrypt, and once the seller revokes the grant a new deployment fails.

  marketplace.py setup        makes the accounts and the seller's repository; prints the seller's registry password
  marketplace.py run IMAGE    the rest, once IMAGE (the seller's repository) holds the image

Run with AWS_DATA_PATH pointing at the project's models/ directory (quickstart.sh does), so that
boto3 knows the citadel-marketplace service."""
import base64
import json
import random
import sys
import time

import boto3
import botocore.exceptions

run = time.strftime("%Y%m%d-%H%M%S")


def step(text):
    print("\n== " + text, flush=True)


def member(name):
    org = boto3.client("organizations")
    found = [a for a in org.list_accounts()["Accounts"] if a["Name"] == name]
    if found:
        account = found[0]["Id"]
    else:
        status = org.create_account(AccountName=name, Email=name + "@example.com")["CreateAccountStatus"]
        account = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    creds = boto3.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account,
                                            RoleSessionName="quickstart")["Credentials"]
    return account, boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                          aws_session_token=creds["SessionToken"])


def data(s3, bucket, seed):
    rnd = random.Random(seed)
    rows = "".join("%d,%.6f,%.6f\n" % (1 if x1 + x2 > 1 else 0, x1, x2)
                   for x1, x2 in ((rnd.uniform(-1, 2), rnd.uniform(-1, 2)) for _ in range(200)))
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="train/rows.csv", Body=rows.encode())


def role(session, name, bucket):
    iam = session.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"]},
        {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}))
    return iam.get_role(RoleName=name)["Role"]["Arn"]


def job(name, algorithm, role_arn, bucket):
    return dict(TrainingJobName=name, AlgorithmSpecification={"AlgorithmName": algorithm, "TrainingInputMode": "File"}, RoleArn=role_arn,
                InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % bucket}}}],
                OutputDataConfig={"S3OutputPath": "s3://%s/output" % bucket},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                StoppingCondition={"MaxRuntimeInSeconds": 600})


seller_id, seller = member("quickstart-seller")
buyer_id, buyer = member("quickstart-buyer")

if sys.argv[1] == "setup":
    ecr = seller.client("ecr")
    try:
        ecr.create_repository(repositoryName="logistic", imageScanningConfiguration={"scanOnPush": True})
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
            raise
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    print(base64.b64decode(token).decode().split(":", 1)[1])
    sys.exit(0)

image = sys.argv[2]
sm, mp = seller.client("sagemaker"), seller.client("citadel-marketplace")
step("10. The seller (account %s) publishes the algorithm, validated by a training job of its own" % seller_id)
seller_bucket = "seller-%s-%s" % (seller_id, run)
data(seller.client("s3"), seller_bucket, 1)
seller_role = role(seller, "Validation-" + run, seller_bucket)
spec = {"TrainingImage": image, "SupportedTrainingInstanceTypes": ["ml.m5.large"],
        "SupportedHyperParameters": [{"Name": "C", "Type": "Continuous", "DefaultValue": "10",
                                      "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0.001", "MaxValue": "1000"}}}],
        "TrainingChannels": [{"Name": "train", "IsRequired": True, "SupportedContentTypes": ["text/csv"], "SupportedInputModes": ["File"]}]}
definition = {k: v for k, v in job("x", "x", seller_role, seller_bucket).items()
              if k in ("InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition")}
definition["TrainingInputMode"] = "File"
serving = {"Containers": [{"Image": image}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
           "SupportedTransformInstanceTypes": ["ml.t3.medium"], "SupportedRealtimeInferenceInstanceTypes": ["ml.t3.medium"]}
algorithm = sm.create_algorithm(AlgorithmName="logistic-" + run, TrainingSpecification=spec, CertifyForMarketplace=True,
                                InferenceSpecification=serving,
                                ValidationSpecification={"ValidationRole": seller_role, "ValidationProfiles": [
                                    {"ProfileName": "small", "TrainingJobDefinition": definition}]})["AlgorithmArn"]
while sm.describe_algorithm(AlgorithmName="logistic-" + run)["AlgorithmStatus"] in ("Pending", "InProgress"):
    time.sleep(1)
print("   %s: %s" % (algorithm, sm.describe_algorithm(AlgorithmName="logistic-" + run)["AlgorithmStatus"]))
scan = lambda: seller.client("ecr").describe_image_scan_findings(repositoryName="logistic", imageId={"imageTag": "v1"})["imageScanStatus"]
while scan()["status"] == "IN_PROGRESS":  # only images the registry has scanned, with no CRITICAL finding, can be listed
    time.sleep(1)
print("   its image's scan: %s" % scan()["status"])
listing = mp.create_listing(ProductArn=algorithm, Title="Logistic regression " + run, Description="two features, CSV")["ListingId"]
print("   listed as %s" % listing)

step("11. The buyer (account %s) finds it in the catalog and subscribes" % buyer_id)
bsm, bmp = buyer.client("sagemaker"), buyer.client("citadel-marketplace")
described = bmp.describe_listing(ListingId=listing)
print("   %s by %s; hyperparameters: %s" % (described["Title"], described["SellerAccount"],
                                           [h["Name"] for h in described["TrainingSpecification"]["SupportedHyperParameters"]]))
bmp.subscribe(ListingId=listing)

step("12. The buyer trains with it on its own data: no network, and the seller's image stays the seller's")
buyer_bucket = "buyer-%s-%s" % (buyer_id, run)
data(buyer.client("s3"), buyer_bucket, 2)
buyer_role = role(buyer, "Jobs-" + run, buyer_bucket)
bsm.create_training_job(**job("bought-" + run, algorithm, buyer_role, buyer_bucket))
while bsm.describe_training_job(TrainingJobName="bought-" + run)["TrainingJobStatus"] in ("InProgress", "Stopping"):
    time.sleep(1)
d = bsm.describe_training_job(TrainingJobName="bought-" + run)
print("   %s; model at %s; network isolation: %s" % (d["TrainingJobStatus"], d.get("ModelArtifacts", {}).get("S3ModelArtifacts"),
                                                   d["EnableNetworkIsolation"]))
try:
    buyer.client("ecr").batch_get_image(registryId=seller_id, repositoryName="logistic", imageIds=[{"imageTag": "v1"}])
    print("   the buyer could pull the seller's image: this should not happen")
except botocore.exceptions.ClientError as e:
    print("   pulling the seller's image: %s" % e.response["Error"]["Code"])

step("13. The seller sees who ran its product, for how long, and nothing of the buyer's data")
records = []
for _ in range(60):  # written as the job's container is removed, just after it completes
    records = [u for u in mp.list_usage_records()["UsageRecords"] if u["ResourceArn"].endswith("/bought-" + run)]
    if records:
        break
    time.sleep(0.5)
for u in records:
    print("   %s ran %s in %s for %d s" % (u["BuyerAccount"], u["ProductArn"].rsplit("/", 1)[1], u["ResourceArn"].rsplit(":", 1)[1],
                                         u["DurationSeconds"]))

step("14. The seller lists a model it trained: the artifact is sealed under the seller's KMS key, for Citadel's launcher only")
sm.create_training_job(**job("seller-model-" + run, algorithm, seller_role, seller_bucket))
while sm.describe_training_job(TrainingJobName="seller-model-" + run)["TrainingJobStatus"] in ("InProgress", "Stopping"):
    time.sleep(1)
artifact = sm.describe_training_job(TrainingJobName="seller-model-" + run)["ModelArtifacts"]["S3ModelArtifacts"]
seller.client("s3").put_object(Bucket=seller_bucket, Key="validation/features.csv", Body=b"1.5,1.5\n-1.0,-1.0\n")
transform = {"TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/validation/" % seller_bucket}},
                                "ContentType": "text/csv", "SplitType": "Line"},
             "TransformOutput": {"S3OutputPath": "s3://%s/validation-transform" % seller_bucket, "AssembleWith": "Line"},
             "TransformResources": {"InstanceType": "ml.t3.medium", "InstanceCount": 1}}
package = sm.create_model_package(
    ModelPackageName="logistic-model-" + run, CertifyForMarketplace=True,
    SourceAlgorithmSpecification={"SourceAlgorithms": [{"AlgorithmName": "logistic-" + run, "ModelDataUrl": artifact}]},
    ValidationSpecification={"ValidationRole": seller_role, "ValidationProfiles": [{"ProfileName": "batch", "TransformJobDefinition": transform}]}
)["ModelPackageArn"]
while sm.describe_model_package(ModelPackageName="logistic-model-" + run)["ModelPackageStatus"] in ("Pending", "InProgress"):
    time.sleep(1)
print("   %s: %s" % (package, sm.describe_model_package(ModelPackageName="logistic-model-" + run)["ModelPackageStatus"]))
LAUNCHER = "citadel-marketplace.amazonaws.com"  # Citadel's launcher: the only grantee that may open a listed artifact
kms = seller.client("kms")
key = kms.create_key(Description="marketplace artifacts " + run)["KeyMetadata"]["Arn"]
grant = kms.create_grant(KeyId=key, GranteePrincipal=LAUNCHER, Operations=["Decrypt"],
                         Constraints={"EncryptionContextSubset": {"citadel:marketplace:product": package}})["GrantId"]
model_listing = mp.create_listing(ProductArn=package, Title="Trained logistic model " + run, ArtifactKmsKeyId=key)["ListingId"]
print("   listed as %s, its artifact sealed under %s" % (model_listing, key))

step("15. The buyer deploys it; the seller's trail shows the launcher's Decrypt; after the seller revokes its grant, nothing new starts")
bmp.subscribe(ListingId=model_listing)
bsm.create_model(ModelName="bought-" + run, ExecutionRoleArn=buyer_role, PrimaryContainer={"ModelPackageName": package})
bsm.create_endpoint_config(EndpointConfigName="bought-" + run, ProductionVariants=[
    {"VariantName": "all", "ModelName": "bought-" + run, "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])


def endpoint(name):
    bsm.create_endpoint(EndpointName=name, EndpointConfigName="bought-" + run)
    while bsm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating":
        time.sleep(1)
    return bsm.describe_endpoint(EndpointName=name)


e = endpoint("bought-" + run)
answer = buyer.client("sagemaker-runtime").invoke_endpoint(EndpointName="bought-" + run, ContentType="text/csv",
                                                           Body=b"1.5,1.5\n-1.0,-1.0\n")["Body"].read().decode()
print("   endpoint %s; predictions %s" % (e["EndpointStatus"], answer.split()))
bsm.delete_endpoint(EndpointName="bought-" + run)
for event in seller.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}])["Events"]:
    record = json.loads(event["CloudTrailEvent"])
    if record["userIdentity"]["type"] == "AWSService":
        print("   the seller's trail: %s called %s with %s" % (record["userIdentity"]["arn"], record["eventName"],
                                                            record["requestParameters"]["EncryptionContext"]))
kms.revoke_grant(KeyId=key, GrantId=grant)
e = endpoint("after-revoke-" + run)
print("   a new endpoint after the revocation: %s: %s" % (e["EndpointStatus"], e.get("FailureReason", "")))
