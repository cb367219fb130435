"""The marketplace end to end with boto3, as two member accounts of an organization: a seller lists an
algorithm and a model package, a buyer subscribes and trains, deploys and invokes with them, and
neither can take what is the other's. Phases (the Java test runs them in order, the server state
carrying over), each printing a JSON object of results:

setup <models-dir>:            member accounts 'seller' and 'buyer'; the seller's repository; prints the seller's registry password.
seller <models-dir> <image>:   the seller's products validated and listed (and refusals of what may not be listed); the model
                               package's artifact sealed under the seller's KMS key, which grants the launcher Decrypt.
buyer <models-dir>:            the buyer subscribes, trains with the algorithm, deploys the model package, and is refused the rest;
                               (after the transform phase the seller revokes its grant and a new endpoint fails).
transform <models-dir>:        the buyer's batch transform with the subscribed model package, on its own data into its own bucket;
                               then the seller revokes its grant to the launcher, and a new endpoint of the buyer fails.
sealed <models-dir> <key-hex>: the seller's artifact is the model its image sealed with the image's key (ciphertext only).
seller-after <models-dir>:     the seller sees usage records and nothing of the buyer's.
critical <models-dir>:         after a CRITICAL advisory is imported, the seller's image has a finding and cannot be listed.
"""
import json
import os
import sys
import time

os.environ["AWS_DATA_PATH"] = sys.argv[2]  # the project's models/ directory: the citadel-marketplace botocore model
import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def rows(n, seed):
    import random
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        x1, x2 = rnd.uniform(-1, 2), rnd.uniform(-1, 2)
        out.append((1 if x1 + x2 > 1 else 0, x1, x2))
    return out


def member(name):
    org = boto3.client("organizations")
    found = [a for a in org.list_accounts()["Accounts"] if a["Name"] == name]
    if found:
        account = found[0]["Id"]
    else:
        status = org.create_account(AccountName=name, Email=name + "@example.com")["CreateAccountStatus"]
        account = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    creds = boto3.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account,
                                            RoleSessionName=name)["Credentials"]
    return account, boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                          aws_session_token=creds["SessionToken"])


def role(session, name, bucket):
    iam = session.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
    if code(lambda: iam.get_role(RoleName=name)) != "ok":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"]},
            {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}))
    return iam.get_role(RoleName=name)["Role"]["Arn"]


def wait_training(sm, name):
    while sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("InProgress", "Stopping"):
        time.sleep(1)
    return sm.describe_training_job(TrainingJobName=name)


def wait_status(fn, field, busy=("Pending", "InProgress")):
    deadline = time.time() + 900
    while fn()[field] in busy and time.time() < deadline:
        time.sleep(1)
    return fn()


def failure(fn):
    try:
        fn()
        return ["ok", ""]
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"]["Code"], e.response["Error"]["Message"]]


def channel(bucket):
    return [{"ChannelName": "train", "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % bucket,
                                             "S3DataDistributionType": "FullyReplicated"}}}]


def training_spec(image):
    return {"TrainingImage": image,
            "SupportedHyperParameters": [{"Name": "C", "Type": "Continuous", "DefaultValue": "10",
                                          "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0.001", "MaxValue": "1000"}}}],
            "SupportedTrainingInstanceTypes": ["ml.m5.large"],
            "TrainingChannels": [{"Name": "train", "IsRequired": True, "SupportedContentTypes": ["text/csv"],
                                  "SupportedInputModes": ["File"]}]}


phase = sys.argv[1]
seller_id, seller = member("seller")
buyer_id, buyer = member("buyer")
SELLER_BUCKET = "seller-products-" + seller_id
BUYER_BUCKET = "buyer-data-" + buyer_id
ARTIFACT_ALIAS = "alias/marketplace-artifacts"
LAUNCHER = "citadel-marketplace.amazonaws.com"
SECRET_ROWS = rows(200, 7)  # the buyer's data: its rows must never reach the seller's side

if phase == "setup":
    import base64
    ecr = seller.client("ecr")
    ecr.create_repository(repositoryName="logistic", imageScanningConfiguration={"scanOnPush": True})
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    R["password"] = base64.b64decode(token).decode().split(":", 1)[1]
    R["seller"], R["buyer"] = seller_id, buyer_id

elif phase == "seller":
    image = sys.argv[3]
    s3, sm, mp = seller.client("s3"), seller.client("sagemaker"), seller.client("citadel-marketplace")
    s3.create_bucket(Bucket=SELLER_BUCKET)
    s3.put_object(Bucket=SELLER_BUCKET, Key="train/part.csv", Body="".join("%d,%.6f,%.6f\n" % r for r in rows(150, 1)).encode())
    s3.put_object(Bucket=SELLER_BUCKET, Key="validation/features.csv",
                  Body="".join("%.6f,%.6f\n" % (x1, x2) for _, x1, x2 in rows(20, 2)).encode())
    arn = role(seller, "SellerValidation", SELLER_BUCKET)
    scan = lambda: seller.client("ecr").describe_image_scan_findings(repositoryName="logistic", imageId={"imageTag": "v1"})["imageScanStatus"]
    R["scan"] = wait_status(scan, "status", busy=("IN_PROGRESS",))["status"]
    definition = {"TrainingInputMode": "File", "InputDataConfig": channel(SELLER_BUCKET),
                  "OutputDataConfig": {"S3OutputPath": "s3://%s/validation-out" % SELLER_BUCKET},
                  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                  "StoppingCondition": {"MaxRuntimeInSeconds": 600}}
    inference = {"Containers": [{"Image": image}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
                 "SupportedTransformInstanceTypes": ["ml.t3.medium"], "SupportedRealtimeInferenceInstanceTypes": ["ml.t3.medium"]}
    validation = {"ValidationRole": arn, "ValidationProfiles": [{"ProfileName": "small", "TrainingJobDefinition": definition}]}
    algo = sm.create_algorithm(AlgorithmName="logistic", TrainingSpecification=training_spec(image), InferenceSpecification=inference,
                               ValidationSpecification=validation, CertifyForMarketplace=True)["AlgorithmArn"]
    sm.create_algorithm(AlgorithmName="second", TrainingSpecification=training_spec(image), ValidationSpecification=validation,
                        CertifyForMarketplace=True)
    sm.create_algorithm(AlgorithmName="unvalidated", TrainingSpecification=training_spec(image))
    for name in ("logistic", "second"):
        R[name] = wait_status(lambda: sm.describe_algorithm(AlgorithmName=name), "AlgorithmStatus")["AlgorithmStatus"]
    R["listing_unvalidated"] = code(lambda: mp.create_listing(
        ProductArn=algo.replace("algorithm/logistic", "algorithm/unvalidated"), Title="not validated"))
    R["listing_not_mine"] = code(lambda: mp.create_listing(ProductArn=algo.replace(seller_id, buyer_id), Title="someone else's"))
    R["algorithm_listing"] = mp.create_listing(ProductArn=algo, Title="Logistic regression", Description="two features, CSV")["ListingId"]
    R["listed_twice"] = code(lambda: mp.create_listing(ProductArn=algo, Title="again"))
    # The seller's own model: trained with its algorithm, packaged, validated by a batch transform, listed.
    sm.create_training_job(TrainingJobName="seller-model", AlgorithmSpecification={"AlgorithmName": "logistic", "TrainingInputMode": "File"},
                           RoleArn=arn, InputDataConfig=channel(SELLER_BUCKET),
                           OutputDataConfig={"S3OutputPath": "s3://%s/models" % SELLER_BUCKET},
                           ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                           StoppingCondition={"MaxRuntimeInSeconds": 600})
    artifact = wait_training(sm, "seller-model")["ModelArtifacts"]["S3ModelArtifacts"]
    transform = {"TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/validation/" % SELLER_BUCKET}},
                                    "ContentType": "text/csv", "SplitType": "Line"},
                 "TransformOutput": {"S3OutputPath": "s3://%s/validation-transform" % SELLER_BUCKET, "AssembleWith": "Line"},
                 "TransformResources": {"InstanceType": "ml.t3.medium", "InstanceCount": 1}}
    package = sm.create_model_package(
        ModelPackageName="logistic-model", CertifyForMarketplace=True,
        SourceAlgorithmSpecification={"SourceAlgorithms": [{"AlgorithmName": "logistic", "ModelDataUrl": artifact}]},
        ValidationSpecification={"ValidationRole": arn, "ValidationProfiles": [{"ProfileName": "batch", "TransformJobDefinition": transform}]}
    )["ModelPackageArn"]
    R["package"] = wait_status(lambda: sm.describe_model_package(ModelPackageName="logistic-model"), "ModelPackageStatus")["ModelPackageStatus"]
    # The artifact is sealed under a key of the seller's that grants Citadel's launcher Decrypt for this product only.
    kms = seller.client("kms")
    key = kms.create_key(Description="marketplace artifacts")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=ARTIFACT_ALIAS, TargetKeyId=key)
    R["listing_without_key"] = code(lambda: mp.create_listing(ProductArn=package, Title="no key"))
    R["listing_without_grant"] = failure(lambda: mp.create_listing(ProductArn=package, Title="no grant", ArtifactKmsKeyId=ARTIFACT_ALIAS))
    loose = kms.create_grant(KeyId=key, GranteePrincipal=LAUNCHER, Operations=["Decrypt"])["GrantId"]
    R["listing_unbound_grant"] = code(lambda: mp.create_listing(ProductArn=package, Title="unbound", ArtifactKmsKeyId=key))
    kms.revoke_grant(KeyId=key, GrantId=loose)
    R["refused_listings"] = [l["Title"] for l in mp.list_listings()["Listings"] if l["ProductArn"] == package]
    kms.create_grant(KeyId=key, GranteePrincipal=LAUNCHER, Operations=["Decrypt"],
                     Constraints={"EncryptionContextSubset": {"citadel:marketplace:product": package}})
    R["package_listing"] = mp.create_listing(ProductArn=package, Title="A trained logistic model",
                                             ArtifactKmsKeyId=ARTIFACT_ALIAS)["ListingId"]
    R["algorithm_arn"], R["package_arn"], R["artifact"] = algo, package, artifact

elif phase == "buyer":
    s3, sm, mp = buyer.client("s3"), buyer.client("sagemaker"), buyer.client("citadel-marketplace")
    rt = buyer.client("sagemaker-runtime", config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=120))
    s3.create_bucket(Bucket=BUYER_BUCKET)
    s3.put_object(Bucket=BUYER_BUCKET, Key="train/secret-rows.csv", Body="".join("%d,%.6f,%.6f\n" % r for r in SECRET_ROWS).encode())
    arn = role(buyer, "BuyerJobs", BUYER_BUCKET)
    listings = mp.list_listings()["Listings"]
    R["catalog"] = sorted(l["Title"] for l in listings)
    by_title = {l["Title"]: l for l in listings}
    algo_listing, package_listing = by_title["Logistic regression"], by_title["A trained logistic model"]
    described = mp.describe_listing(ListingId=algo_listing["ListingId"])
    R["described"] = [described["ProductKind"], described["SellerAccount"], [h["Name"] for h in
                                                                            described["TrainingSpecification"]["SupportedHyperParameters"]]]
    R["catalog_text"] = json.dumps([mp.describe_listing(ListingId=l["ListingId"]) for l in listings], default=str)
    algo, package = algo_listing["ProductArn"], package_listing["ProductArn"]

    def job(name, hyper=None, isolation=True):
        return dict(TrainingJobName=name, AlgorithmSpecification={"AlgorithmName": algo, "TrainingInputMode": "File"}, RoleArn=arn,
                    HyperParameters=hyper or {}, InputDataConfig=channel(BUYER_BUCKET),
                    OutputDataConfig={"S3OutputPath": "s3://%s/output" % BUYER_BUCKET},
                    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                    StoppingCondition={"MaxRuntimeInSeconds": 600}, EnableNetworkIsolation=isolation)

    R["unsubscribed_job"] = code(lambda: sm.create_training_job(**job("before-subscribing")))
    R["unsubscribed_model"] = code(lambda: sm.create_model(ModelName="before-subscribing", ExecutionRoleArn=arn,
                                                           PrimaryContainer={"ModelPackageName": package}))
    mp.subscribe(ListingId=algo_listing["ListingId"])
    mp.subscribe(ListingId=package_listing["ListingId"])
    R["entitlements"] = sorted(e["ProductKind"] for e in mp.list_entitlements()["Entitlements"])
    R["out_of_range"] = code(lambda: sm.create_training_job(**job("refused-range", {"C": "5000"})))
    sm.create_training_job(**job("bought-training", {"C": "3"}, isolation=False))
    d = wait_training(sm, "bought-training")
    R["training"] = [d["TrainingJobStatus"], d.get("FailureReason", ""), d["EnableNetworkIsolation"], d["AlgorithmSpecification"]]
    R["describe_job_text"] = json.dumps(d, default=str)
    # What is the seller's stays the seller's, even for the administrator of the buyer's account.
    ecr = buyer.client("ecr")
    R["pull_image"] = code(lambda: ecr.batch_get_image(registryId=seller_id, repositoryName="logistic", imageIds=[{"imageTag": "v1"}]))
    R["describe_images"] = code(lambda: ecr.describe_images(registryId=seller_id, repositoryName="logistic"))
    bucket, key = sys.argv[3].split("/", 3)[2:]
    R["read_artifact"] = code(lambda: s3.get_object(Bucket=bucket, Key=key))
    R["describe_algorithm"] = code(lambda: sm.describe_algorithm(AlgorithmName=algo))
    R["describe_package"] = code(lambda: sm.describe_model_package(ModelPackageName=package))
    sm.create_model(ModelName="bought", ExecutionRoleArn=arn, PrimaryContainer={"ModelPackageName": package}, EnableNetworkIsolation=False)
    m = sm.describe_model(ModelName="bought")
    R["model"] = [m["PrimaryContainer"], m["EnableNetworkIsolation"]]
    R["describe_model_text"] = json.dumps(m, default=str)
    sm.create_endpoint_config(EndpointConfigName="bought", ProductionVariants=[
        {"VariantName": "all", "ModelName": "bought", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])
    sm.create_endpoint(EndpointName="bought", EndpointConfigName="bought")
    e = wait_status(lambda: sm.describe_endpoint(EndpointName="bought"), "EndpointStatus", busy=("Creating",))
    R["endpoint"] = [e["EndpointStatus"], e.get("FailureReason", "")]
    answer = rt.invoke_endpoint(EndpointName="bought", ContentType="text/csv", Body=b"1.5,1.5\n-1.0,-1.0\n")["Body"].read().decode()
    R["predictions"] = answer.split()
    sm.delete_endpoint(EndpointName="bought")
    # The seller's key is the seller's: the buyer's administrator cannot decrypt a data key made under the product's context.
    seller_kms, kms = seller.client("kms"), buyer.client("kms")
    key = seller_kms.describe_key(KeyId=ARTIFACT_ALIAS)["KeyMetadata"]["Arn"]
    context = {"citadel:marketplace:product": package}
    probe = seller_kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=context)["CiphertextBlob"]
    R["buyer_decrypt"] = [code(lambda: kms.decrypt(CiphertextBlob=probe, EncryptionContext=context)),
                          code(lambda: kms.decrypt(CiphertextBlob=probe, KeyId=key, EncryptionContext=context)),
                          code(lambda: kms.create_grant(KeyId=key, GranteePrincipal=arn, Operations=["Decrypt"]))]
    mp.unsubscribe(ListingId=algo_listing["ListingId"])
    R["after_unsubscribing"] = code(lambda: sm.create_training_job(**job("after-unsubscribing")))

elif phase == "transform":
    s3, sm, logs = buyer.client("s3"), buyer.client("sagemaker"), buyer.client("logs")
    # The buyer's own rows (its data, never the seller's to see), well away from the boundary x1 + x2 = 1.
    s3.put_object(Bucket=BUYER_BUCKET, Key="batch/secret-rows.csv", Body=b"1.5,1.5\n-1.0,-1.0\n2.0,0.5\n0.0,-0.5\n")
    sm.create_transform_job(TransformJobName="bought-transform", ModelName="bought", BatchStrategy="MultiRecord",
                            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                            "S3Uri": "s3://%s/batch/" % BUYER_BUCKET}},
                                            "ContentType": "text/csv", "SplitType": "Line"},
                            TransformOutput={"S3OutputPath": "s3://%s/batch-out" % BUYER_BUCKET, "AssembleWith": "Line"},
                            TransformResources={"InstanceType": "ml.t3.medium", "InstanceCount": 1})
    d = wait_status(lambda: sm.describe_transform_job(TransformJobName="bought-transform"), "TransformJobStatus",
                    busy=("InProgress", "Stopping"))
    R["transform"] = [d["TransformJobStatus"], d.get("FailureReason", ""), d["ModelName"]]
    R["describe_transform_text"] = json.dumps(d, default=str)
    R["transform_output"] = s3.get_object(Bucket=BUYER_BUCKET, Key="batch-out/secret-rows.csv.out")["Body"].read().decode().split()
    m = sm.describe_model(ModelName="bought")
    R["transform_model_isolated"] = m["EnableNetworkIsolation"]
    # What the seller's serving container saw of the network, from its log (the buyer's log group).
    events = logs.filter_log_events(logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix="bought-transform/",
                                    filterPattern='"network interfaces"')["events"]
    R["transform_interfaces"] = [e["message"].strip() for e in events]
    # Then (after the transform, which needs it) the seller revokes the launcher's grant: the next
    # deployment of the bought model fails and says why.
    seller_kms = seller.client("kms")
    key = seller_kms.describe_key(KeyId=ARTIFACT_ALIAS)["KeyMetadata"]["Arn"]
    for g in seller_kms.list_grants(KeyId=key)["Grants"]:
        if g["GranteePrincipal"] == LAUNCHER:
            seller_kms.revoke_grant(KeyId=key, GrantId=g["GrantId"])
    sm.create_endpoint(EndpointName="after-revoke", EndpointConfigName="bought")
    e = wait_status(lambda: sm.describe_endpoint(EndpointName="after-revoke"), "EndpointStatus", busy=("Creating",))
    R["after_revoke"] = [e["EndpointStatus"], e.get("FailureReason", "")]

elif phase == "sealed":
    import gzip
    import hashlib
    import hmac
    import io
    import tarfile
    key = bytes.fromhex(sys.argv[3])
    s3, sm = seller.client("s3"), seller.client("sagemaker")
    artifact = sm.describe_model_package(ModelPackageName="logistic-model")[
        "SourceAlgorithmSpecification"]["SourceAlgorithms"][0]["ModelDataUrl"]
    bucket, key_name = artifact.split("/", 3)[2:]
    stored = s3.get_object(Bucket=bucket, Key=key_name)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(stored), mode="r:gz") as tar:
        members = {m.name.lstrip("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    R["members"] = sorted(members)
    blob = members.get("model.sealed", b"")
    # Opened here as the seller's image opens it (seller-train's comment): the plaintext is a pickled scikit-learn model.
    enc = hmac.new(key, b"citadel-test-seller enc", hashlib.sha256).digest()
    mac = hmac.new(key, b"citadel-test-seller mac", hashlib.sha256).digest()
    head, cipher, tag = blob[:17], blob[17:-32], blob[-32:]
    R["tag_ok"] = len(blob) > 49 and blob[0] == 1 and hmac.compare_digest(tag, hmac.new(mac, head + cipher, hashlib.sha256).digest())
    stream = b"".join(hmac.new(enc, head[1:] + i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(len(cipher) // 32 + 1))
    plain = bytes(c ^ s for c, s in zip(cipher, stream))
    R["plain_is_model"] = plain.startswith(b"\x80") and b"sklearn.linear_model" in plain
    # Neither the stored object (compressed or not) nor the sealed file holds the model's bytes or its names.
    gzip_plain = gzip.decompress(stored)
    R["ciphertext_only"] = len(plain) >= 256 and all(plain[i:i + 32] not in data for data in (stored, gzip_plain, blob) for i in range(0, len(plain) - 32, 32))
    R["names_hidden"] = not any(word in data for data in (stored, gzip_plain) for word in (b"sklearn", b"LogisticRegression", b"coef"))
    # The buyer's endpoint (phase buyer) and transform answered with this model; the buyer cannot read it either way.
    R["buyer_reads_artifact"] = code(lambda: buyer.client("s3").get_object(Bucket=bucket, Key=key_name))

elif phase == "seller-after":
    sm, mp, s3, logs = seller.client("sagemaker"), seller.client("citadel-marketplace"), seller.client("s3"), seller.client("logs")
    deadline = time.time() + 120
    usage = mp.list_usage_records()["UsageRecords"]
    while len(usage) < 3 and time.time() < deadline:  # a serving container's record is written when it stops
        time.sleep(1)
        usage = mp.list_usage_records()["UsageRecords"]
    R["usage"] = [[u["BuyerAccount"], u["ResourceKind"], u["ResourceArn"].rsplit("/", 1)[1], u["DurationSeconds"] >= 0] for u in usage]
    R["usage_text"] = json.dumps(usage, default=str)
    R["scan_statuses"] = [sm.describe_algorithm(AlgorithmName="logistic")["AlgorithmStatusDetails"]["ImageScanStatuses"],
                          sm.describe_model_package(ModelPackageName="logistic-model")["ModelPackageStatusDetails"]["ImageScanStatuses"]]
    R["jobs"] = sorted(j["TrainingJobName"] for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"])
    R["describe_buyer_job"] = code(lambda: sm.describe_training_job(TrainingJobName="bought-training"))
    R["buyer_job_by_arn"] = code(lambda: sm.describe_training_job(
        TrainingJobName="arn:aws:sagemaker:us-east-1:%s:training-job/bought-training" % buyer_id))
    R["endpoints"] = [x["EndpointName"] for x in sm.list_endpoints()["Endpoints"]]
    R["transforms"] = sorted(x["TransformJobName"] for x in sm.list_transform_jobs(MaxResults=100)["TransformJobSummaries"])
    R["describe_buyer_transform"] = code(lambda: sm.describe_transform_job(TransformJobName="bought-transform"))
    R["read_buyer_output"] = code(lambda: s3.get_object(Bucket=BUYER_BUCKET, Key="batch-out/secret-rows.csv.out"))
    R["models"] = [x["ModelName"] for x in sm.list_models()["Models"]]
    R["read_buyer_data"] = code(lambda: s3.get_object(Bucket=BUYER_BUCKET, Key="train/secret-rows.csv"))
    R["list_buyer_bucket"] = code(lambda: s3.list_objects_v2(Bucket=BUYER_BUCKET))
    R["buyer_logs"] = code(lambda: logs.describe_log_streams(
        logGroupIdentifier="arn:aws:logs:us-east-1:%s:log-group:/aws/sagemaker/TrainingJobs" % buyer_id))
    R["own_log_streams"] = sorted(s["logStreamName"].split("/")[0] for s in logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"])

elif phase == "critical":
    ecr, mp = seller.client("ecr"), seller.client("citadel-marketplace")
    ecr.start_image_scan(repositoryName="logistic", imageId={"imageTag": "v1"})
    deadline = time.time() + 300
    while time.time() < deadline:
        f = ecr.describe_image_scan_findings(repositoryName="logistic", imageId={"imageTag": "v1"})
        if f["imageScanStatus"]["status"] != "IN_PROGRESS":
            break
        time.sleep(1)
    R["counts"] = f.get("imageScanFindings", {}).get("findingSeverityCounts", {})
    R["scan_status_critical"] = seller.client("sagemaker").describe_algorithm(AlgorithmName="second")[
        "AlgorithmStatusDetails"]["ImageScanStatuses"]
    second = "arn:aws:sagemaker:us-east-1:%s:algorithm/second" % seller_id
    try:
        mp.create_listing(ProductArn=second, Title="second")
        R["listing_critical"] = ["ok", ""]
    except botocore.exceptions.ClientError as e:
        R["listing_critical"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]

print(json.dumps(R))
