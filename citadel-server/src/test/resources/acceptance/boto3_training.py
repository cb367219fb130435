"""SageMaker training and processing jobs with boto3, in phases (the test pushes the image with
skopeo before them and reads the audit log after).

setup <image-uri>: bucket, training and test data, a KMS key, the execution role, and users for the refusals.
train <image-uri>:  a training job on gzip'd CSV, its sealed model.tar.gz, the model checked by a processing job.
refusals <image-uri>: bad input, missing iam:PassRole, a sagemaker:OutputKmsKey condition, duplicates.
ends <image-uri>:   FailureReason from /opt/ml/output/failure, MaxRuntimeInSeconds, StopTrainingJob.
"""
import gzip
import io
import json
import math
import random
import sys
import tarfile
import time

import boto3
import botocore.exceptions

account = boto3.client("sts").get_caller_identity()["Account"]
sm = boto3.client("sagemaker")
s3 = boto3.client("s3")
iam = boto3.client("iam")
BUCKET = "citadel-training-" + account
ROLE = "arn:aws:iam::%s:role/CitadelSageMakerRole" % account
R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def rows(n, seed):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        x1, x2 = rnd.uniform(-1, 2), rnd.uniform(-1, 2)
        out.append((1 if x1 + x2 > 1 else 0, x1, x2))
    return out


def csv(data):
    return "".join("%d,%.6f,%.6f\n" % r for r in data).encode()


def wait(name, kind="training", timeout=600):
    deadline = time.time() + timeout
    while True:
        d = sm.describe_training_job(TrainingJobName=name) if kind == "training" else sm.describe_processing_job(ProcessingJobName=name)
        status = d["TrainingJobStatus"] if kind == "training" else d["ProcessingJobStatus"]
        if status not in ("InProgress", "Stopping"):
            return d
        if time.time() > deadline:
            raise SystemExit("job %s still %s after %ds" % (name, status, timeout))
        time.sleep(1)


def training_request(name, image, mode="train", runtime=600, key=None, **extra):
    req = dict(TrainingJobName=name,
               AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
               RoleArn=ROLE,
               HyperParameters={"mode": mode, "C": "10"},
               InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "CompressionType": "Gzip",
                                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % BUCKET,
                                                                 "S3DataDistributionType": "FullyReplicated"}}}],
               OutputDataConfig={"S3OutputPath": "s3://%s/output" % BUCKET},
               ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
               StoppingCondition={"MaxRuntimeInSeconds": runtime},
               EnableNetworkIsolation=True,
               Tags=[{"Key": "team", "Value": "tests"}])
    if key:
        req["OutputDataConfig"]["KmsKeyId"] = key
    req.update(extra)
    return req


def key_arn():
    return boto3.client("kms").describe_key(KeyId="alias/training-output")["KeyMetadata"]["Arn"]


def user_client(name):
    creds = json.loads(s3.get_object(Bucket=BUCKET, Key="keys/" + name)["Body"].read())
    return boto3.client("sagemaker", aws_access_key_id=creds["id"], aws_secret_access_key=creds["secret"])


phase, image = sys.argv[1], sys.argv[2]

if phase == "setup":
    s3.create_bucket(Bucket=BUCKET)
    train = rows(300, 1)
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv.gz", Body=gzip.compress(csv(train[:150])))
    s3.put_object(Bucket=BUCKET, Key="train/part-2.csv.gz", Body=gzip.compress(csv(train[150:])))
    s3.put_object(Bucket=BUCKET, Key="test/test.csv", Body=csv(rows(100, 2)))
    kms = boto3.client("kms")
    key = kms.create_key(Description="training output")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/training-output", TargetKeyId=key)
    # A key of the account that the execution role has no right to use.
    kms.create_alias(AliasName="alias/not-for-the-role", TargetKeyId=kms.create_key(Description="not the role's")["KeyMetadata"]["Arn"])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="CitadelSageMakerRole", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="CitadelSageMakerRole", PolicyName="data", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::" + BUCKET, "arn:aws:s3:::" + BUCKET + "/*"]},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"], "Resource": key},
            {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}))
    ec2_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                         "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="NotForSageMaker", AssumeRolePolicyDocument=json.dumps(ec2_trust))
    policies = {
        "no-passrole": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]},
        "kms-bound": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sagemaker:CreateTrainingJob", "Resource": "*",
             "Condition": {"ArnEquals": {"sagemaker:OutputKmsKey": key}}},
            {"Effect": "Allow", "Action": ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE}]},
    }
    for user, policy in policies.items():
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="jobs", PolicyDocument=json.dumps(policy))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        s3.put_object(Bucket=BUCKET, Key="keys/" + user, Body=json.dumps({"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}))
    R["key"] = key

elif phase == "train":
    key = key_arn()
    started = time.time()
    logistic = training_request("sklearn-logistic", image, key=key)
    logistic["ResourceConfig"]["VolumeKmsKeyId"] = key
    R["arn"] = sm.create_training_job(**logistic)["TrainingJobArn"]
    d = wait("sklearn-logistic")
    R["seconds"] = round(time.time() - started, 1)
    R["status"] = [d["TrainingJobStatus"], d["SecondaryStatus"], d.get("FailureReason", "")]
    R["transitions"] = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    R["artifacts"] = d["ModelArtifacts"]["S3ModelArtifacts"]
    R["isolation"] = d["EnableNetworkIsolation"]
    R["hyperparameters"] = d["HyperParameters"]
    R["times"] = [k in d for k in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime")]
    model_key = R["artifacts"].split("/", 3)[3]
    head = s3.head_object(Bucket=BUCKET, Key=model_key)
    R["sse"] = [head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")]
    body = s3.get_object(Bucket=BUCKET, Key=model_key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        R["members"] = sorted(m.name for m in tar.getmembers() if m.isfile())
        model = json.load(tar.extractfile("./model.json"))
    output = s3.get_object(Bucket=BUCKET, Key=model_key.replace("model.tar.gz", "output.tar.gz"))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(output)) as tar:
        R["probe"] = json.load(tar.extractfile("./probe.json"))
    stream = boto3.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                                       logStreamNamePrefix="sklearn-logistic/")["logStreams"][0]["logStreamName"]
    R["log"] = [e["message"] for e in boto3.client("logs").get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True)["events"]]
    # The buyer's own check of the model: its coefficients classify the held-out rows.
    test = rows(100, 2)
    coef, intercept = model["coef"][0], model["intercept"][0]
    mine = [1.0 if coef[0] * x1 + coef[1] * x2 + intercept > 0 else 0.0 for _, x1, x2 in test]
    R["host_accuracy"] = sum(1 for p, (y, _, _) in zip(mine, test) if p == y) / len(test)
    # A processing job loads model.pkl from the same artifact and predicts the same rows.
    sm.create_processing_job(
        ProcessingJobName="evaluate-logistic",
        AppSpecification={"ImageUri": image, "ContainerEntrypoint": ["python3", "/usr/local/bin/evaluate"]},
        ProcessingInputs=[
            {"InputName": "model", "S3Input": {"S3Uri": R["artifacts"], "LocalPath": "/opt/ml/processing/model", "S3DataType": "S3Prefix",
                                               "S3InputMode": "File"}},
            {"InputName": "test", "S3Input": {"S3Uri": "s3://%s/test/" % BUCKET, "LocalPath": "/opt/ml/processing/test",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "evaluation", "S3Output": {
            "S3Uri": "s3://%s/evaluation" % BUCKET, "LocalPath": "/opt/ml/processing/evaluation", "S3UploadMode": "EndOfJob"}}],
            "KmsKeyId": key},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        RoleArn=ROLE)
    p = wait("evaluate-logistic", "processing")
    R["processing"] = [p["ProcessingJobStatus"], p.get("FailureReason", "")]
    evaluation = json.loads(s3.get_object(Bucket=BUCKET, Key="evaluation/evaluation.json")["Body"].read())
    R["container_accuracy"] = evaluation["accuracy"]
    R["same_predictions"] = evaluation["predictions"] == mine
    R["evaluation_sse"] = s3.head_object(Bucket=BUCKET, Key="evaluation/evaluation.json").get("SSEKMSKeyId")
    R["listed"] = [j["TrainingJobName"] for j in sm.list_training_jobs(NameContains="logistic")["TrainingJobSummaries"]]
    R["listed_processing"] = [j["ProcessingJobName"] for j in sm.list_processing_jobs()["ProcessingJobSummaries"]]

elif phase == "refusals":
    key = key_arn()
    base = lambda name, **kw: training_request(name, image, key=key, **kw)
    pipe = base("refused-pipe")
    pipe["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe"
    R["pipe"] = code(lambda: sm.create_training_job(**pipe))
    R["vpc"] = code(lambda: sm.create_training_job(**base("refused-vpc", VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]})))
    two = base("refused-two")
    two["ResourceConfig"]["InstanceCount"] = 2
    R["instance_count"] = code(lambda: sm.create_training_job(**two))
    odd = base("refused-type")
    odd["ResourceConfig"]["InstanceType"] = "ml.p4d.24xlarge"
    R["instance_type"] = code(lambda: sm.create_training_job(**odd))
    R["untrusting_role"] = code(lambda: sm.create_training_job(**base("refused-role",
                                                                      RoleArn="arn:aws:iam::%s:role/NotForSageMaker" % account)))
    other = base("refused-image")
    other["AlgorithmSpecification"]["TrainingImage"] = "registry.example.com/sklearn:latest"
    R["foreign_image"] = code(lambda: sm.create_training_job(**other))
    missing = base("refused-missing-image")
    missing["AlgorithmSpecification"]["TrainingImage"] = image.rsplit(":", 1)[0] + ":no-such-tag"
    R["missing_image"] = code(lambda: sm.create_training_job(**missing))
    R["no_passrole"] = code(lambda: user_client("no-passrole").create_training_job(**base("refused-passrole")))
    bound = user_client("kms-bound")
    without = training_request("refused-without-key", image)
    R["kms_condition_without_key"] = code(lambda: bound.create_training_job(**without))
    R["kms_condition_with_key"] = code(lambda: bound.create_training_job(**base("allowed-with-key", mode="sleep")))
    R["kms_condition_stop"] = code(lambda: bound.stop_training_job(TrainingJobName="allowed-with-key"))
    R["duplicate"] = code(lambda: sm.create_training_job(**base("sklearn-logistic")))
    R["describe_missing"] = code(lambda: sm.describe_training_job(TrainingJobName="no-such-job"))
    R["stop_missing"] = code(lambda: sm.stop_training_job(TrainingJobName="no-such-job"))
    R["bad_token"] = code(lambda: sm.list_training_jobs(NextToken="not-a-token"))
    R["refused_jobs"] = [j["TrainingJobName"] for j in sm.list_training_jobs(NameContains="refused")["TrainingJobSummaries"]]
    d = wait("allowed-with-key")
    R["kms_bound_job"] = [d["TrainingJobStatus"], d["SecondaryStatus"]]

elif phase == "ends":
    key = key_arn()
    sm.create_training_job(**training_request("fails-on-purpose", image, mode="fail", key=key))
    sm.create_training_job(**training_request("runs-too-long", image, mode="sleep", runtime=5, key=key))
    sm.create_training_job(**training_request("stopped-by-user", image, mode="sleep", runtime=3600, key=key))
    while sm.describe_training_job(TrainingJobName="stopped-by-user")["SecondaryStatus"] != "Training":
        time.sleep(0.5)
    time.sleep(2)
    sm.stop_training_job(TrainingJobName="stopped-by-user")
    for name in ("fails-on-purpose", "runs-too-long", "stopped-by-user"):
        d = wait(name)
        R[name] = [d["TrainingJobStatus"], d["SecondaryStatus"], d.get("FailureReason", "")]
        if "ModelArtifacts" in d:
            body = s3.get_object(Bucket=BUCKET, Key=d["ModelArtifacts"]["S3ModelArtifacts"].split("/", 3)[3])["Body"].read()
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                R[name].append(sorted(m.name for m in tar.getmembers() if m.isfile()))
    R["not_in_progress"] = code(lambda: sm.stop_training_job(TrainingJobName="fails-on-purpose"))
    page = sm.list_training_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    names = [j["TrainingJobName"] for j in page["TrainingJobSummaries"]]
    while "NextToken" in page:
        page = sm.list_training_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"])
        names += [j["TrainingJobName"] for j in page["TrainingJobSummaries"]]
    R["all_by_name"] = names
    R["failed"] = [j["TrainingJobName"] for j in sm.list_training_jobs(StatusEquals="Failed")["TrainingJobSummaries"]]
    # The role may not generate data keys under this key: the volume cannot be made and the job fails before its container runs.
    foreign = training_request("volume-key-refused", image, key=key)
    foreign["ResourceConfig"]["VolumeKmsKeyId"] = "alias/not-for-the-role"
    sm.create_training_job(**foreign)
    d = wait("volume-key-refused")
    R["volume-key-refused"] = [d["TrainingJobStatus"], d.get("FailureReason", "")]

elif phase == "algorithm":
    key = key_arn()
    s3.put_object(Bucket=BUCKET, Key="validation/features.csv", Body="".join("%.6f,%.6f\n" % (x1, x2) for _, x1, x2 in rows(50, 3)).encode())
    channel = training_request("x", image)["InputDataConfig"]
    training_spec = {
        "TrainingImage": image,
        "SupportedHyperParameters": [
            {"Name": "mode", "Type": "Categorical", "DefaultValue": "train",
             "Range": {"CategoricalParameterRangeSpecification": {"Values": ["train", "fail", "sleep"]}}},
            {"Name": "C", "Type": "Continuous", "DefaultValue": "10",
             "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0.001", "MaxValue": "1000"}}}],
        "SupportedTrainingInstanceTypes": ["ml.m5.large"],
        "TrainingChannels": [{"Name": "train", "IsRequired": True, "SupportedContentTypes": ["text/csv"],
                              "SupportedCompressionTypes": ["None", "Gzip"], "SupportedInputModes": ["File"]}],
        "MetricDefinitions": [{"Name": "train:accuracy", "Regex": "training accuracy ([0-9.]+)"}]}
    inference = {"Containers": [{"Image": image}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
                 "SupportedTransformInstanceTypes": ["ml.t3.medium"]}

    def definition(mode):
        return {"TrainingInputMode": "File", "HyperParameters": {"mode": mode}, "InputDataConfig": channel,
                "OutputDataConfig": {"S3OutputPath": "s3://%s/validation-out" % BUCKET, "KmsKeyId": key},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 600}}

    transform = {"TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/validation/" % BUCKET}},
                                    "ContentType": "text/csv", "SplitType": "Line"},
                 "TransformOutput": {"S3OutputPath": "s3://%s/validation-transform" % BUCKET, "KmsKeyId": key, "AssembleWith": "Line"},
                 "TransformResources": {"InstanceType": "ml.t3.medium", "InstanceCount": 1}}
    R["arn"] = sm.create_algorithm(AlgorithmName="logistic-algo", AlgorithmDescription="logistic regression on two features",
                                   TrainingSpecification=training_spec, InferenceSpecification=inference, CertifyForMarketplace=True,
                                   ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [
                                       {"ProfileName": "small", "TrainingJobDefinition": definition("train"),
                                        "TransformJobDefinition": transform}]})["AlgorithmArn"]
    sm.create_algorithm(AlgorithmName="failing-algo", TrainingSpecification=training_spec, ValidationSpecification={
        "ValidationRole": ROLE, "ValidationProfiles": [{"ProfileName": "small", "TrainingJobDefinition": definition("fail")}]})

    def algo_job(name, algorithm, hyper=None, instance="ml.m5.large"):
        req = training_request(name, image, key=key)
        req["AlgorithmSpecification"] = {"AlgorithmName": algorithm, "TrainingInputMode": "File"}
        req["HyperParameters"] = hyper or {}
        req["ResourceConfig"]["InstanceType"] = instance
        return req

    R["too_early"] = code(lambda: sm.create_training_job(**algo_job("too-early", "logistic-algo")))
    deadline = time.time() + 600
    for name in ("logistic-algo", "failing-algo"):
        while sm.describe_algorithm(AlgorithmName=name)["AlgorithmStatus"] in ("Pending", "InProgress") and time.time() < deadline:
            time.sleep(1)
    d = sm.describe_algorithm(AlgorithmName="logistic-algo")
    R["logistic"] = [d["AlgorithmStatus"], d["AlgorithmStatusDetails"]["ValidationStatuses"], d["CertifyForMarketplace"],
                     d["TrainingSpecification"]["TrainingImageDigest"][:7], d["AlgorithmDescription"]]
    f = sm.describe_algorithm(AlgorithmName="failing-algo")
    R["failing"] = [f["AlgorithmStatus"], f["AlgorithmStatusDetails"]["ValidationStatuses"][0]["Status"],
                    f["AlgorithmStatusDetails"]["ValidationStatuses"][0].get("FailureReason", "")]
    R["validation_training"] = sorted(j["TrainingJobStatus"] for j in sm.list_training_jobs(NameContains="-val-")["TrainingJobSummaries"])
    R["validation_transform"] = [j["TransformJobStatus"] for j in sm.list_transform_jobs(NameContains="-val-")["TransformJobSummaries"]]
    R["validation_models_left"] = [m["ModelName"] for m in sm.list_models(NameContains="-val-")["Models"]]
    sm.create_training_job(**algo_job("with-algorithm", R["arn"], {"C": "5"}))
    j = wait("with-algorithm")
    R["with_algorithm"] = [j["TrainingJobStatus"], j["AlgorithmSpecification"], j["HyperParameters"]]
    R["out_of_range"] = code(lambda: sm.create_training_job(**algo_job("refused-range", "logistic-algo", {"C": "5000"})))
    R["undeclared"] = code(lambda: sm.create_training_job(**algo_job("refused-undeclared", "logistic-algo", {"gamma": "1"})))
    R["instance_type"] = code(lambda: sm.create_training_job(**algo_job("refused-instance", "logistic-algo", instance="ml.t3.medium")))
    R["failed_algorithm"] = code(lambda: sm.create_training_job(**algo_job("refused-failed", "failing-algo")))
    R["missing_algorithm"] = code(lambda: sm.create_training_job(**algo_job("refused-missing", "no-such-algo")))
    bad = dict(training_spec)
    bad["SupportedHyperParameters"] = [dict(training_spec["SupportedHyperParameters"][1], DefaultValue="0")]
    R["bad_default"] = code(lambda: sm.create_algorithm(AlgorithmName="bad-default", TrainingSpecification=bad))
    R["certify_unvalidated"] = code(lambda: sm.create_algorithm(AlgorithmName="unvalidated", TrainingSpecification=training_spec,
                                                                CertifyForMarketplace=True))
    R["duplicate"] = code(lambda: sm.create_algorithm(AlgorithmName="logistic-algo", TrainingSpecification=training_spec))
    R["listed"] = [a["AlgorithmName"] + ":" + a["AlgorithmStatus"] for a in
                   sm.list_algorithms(SortBy="Name", SortOrder="Ascending")["AlgorithmSummaryList"]]
    R["refused_jobs"] = [j["TrainingJobName"] for j in sm.list_training_jobs(NameContains="refused-")["TrainingJobSummaries"]]
    sm.delete_algorithm(AlgorithmName="failing-algo")
    R["deleted"] = code(lambda: sm.describe_algorithm(AlgorithmName="failing-algo"))

    # Model packages: one made from the algorithm and the model it trained, validated by a transform; versions in a group.
    artifacts = j["ModelArtifacts"]["S3ModelArtifacts"]
    R["package_arn"] = sm.create_model_package(
        ModelPackageName="logistic-package", ModelPackageDescription="the trained logistic model", CertifyForMarketplace=True,
        SourceAlgorithmSpecification={"SourceAlgorithms": [{"AlgorithmName": "logistic-algo", "ModelDataUrl": artifacts}]},
        ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [{"ProfileName": "batch", "TransformJobDefinition": transform}]}
    )["ModelPackageArn"]
    while sm.describe_model_package(ModelPackageName="logistic-package")["ModelPackageStatus"] in ("Pending", "InProgress") \
            and time.time() < deadline + 600:
        time.sleep(1)
    p = sm.describe_model_package(ModelPackageName="logistic-package")
    c = p["InferenceSpecification"]["Containers"][0]
    R["package"] = [p["ModelPackageStatus"], p["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"], c["ModelDataUrl"] == artifacts,
                    c["ImageDigest"][:7], p["CertifyForMarketplace"]]
    sm.create_model(ModelName="from-package", PrimaryContainer={"ModelPackageName": "logistic-package"}, ExecutionRoleArn=ROLE,
                    EnableNetworkIsolation=True)
    R["model_container"] = sm.describe_model(ModelName="from-package")["PrimaryContainer"]
    sm.create_transform_job(TransformJobName="package-batch", ModelName="from-package",
                            TransformInput=transform["TransformInput"],
                            TransformOutput={"S3OutputPath": "s3://%s/package-batch" % BUCKET, "KmsKeyId": key, "AssembleWith": "Line"},
                            TransformResources={"InstanceType": "ml.t3.medium", "InstanceCount": 1})
    while sm.describe_transform_job(TransformJobName="package-batch")["TransformJobStatus"] == "InProgress":
        time.sleep(1)
    R["package_batch"] = sm.describe_transform_job(TransformJobName="package-batch")["TransformJobStatus"]
    lines = s3.get_object(Bucket=BUCKET, Key="package-batch/features.csv.out")["Body"].read().decode().split()
    R["package_predictions"] = [len(lines), sorted(set(lines))]
    sm.create_model_package_group(ModelPackageGroupName="registry", ModelPackageGroupDescription="versions of the logistic model")
    version = {"ModelPackageGroupName": "registry", "InferenceSpecification": {
        "Containers": [{"Image": image, "ModelDataUrl": artifacts}], "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"]}}
    v1 = sm.create_model_package(**version)["ModelPackageArn"]
    v2 = sm.create_model_package(**version)["ModelPackageArn"]
    R["versions"] = [v1.rsplit("/", 2)[1:], v2.rsplit("/", 2)[1:]]
    sm.update_model_package(ModelPackageArn=v1, ModelApprovalStatus="Approved", ApprovalDescription="checked")
    R["approved"] = [(m["ModelPackageVersion"], m["ModelApprovalStatus"]) for m in sm.list_model_packages(
        ModelPackageGroupName="registry", ModelApprovalStatus="Approved")["ModelPackageSummaryList"]]
    R["pending"] = sm.describe_model_package(ModelPackageName=v2)["ModelApprovalStatus"]
    R["unversioned"] = [m["ModelPackageName"] for m in sm.list_model_packages()["ModelPackageSummaryList"]]
    R["groups"] = [g["ModelPackageGroupName"] for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]]
    R["group_not_empty"] = code(lambda: sm.delete_model_package_group(ModelPackageGroupName="registry"))
    wrong = dict(version["InferenceSpecification"], Containers=[{"Image": image, "ImageDigest": "sha256:" + "0" * 64}])
    R["wrong_digest"] = code(lambda: sm.create_model_package(ModelPackageName="wrong-digest", InferenceSpecification=wrong))
    R["certify_unvalidated_package"] = code(lambda: sm.create_model_package(
        ModelPackageName="unvalidated", InferenceSpecification=version["InferenceSpecification"], CertifyForMarketplace=True))
    R["missing_package"] = code(lambda: sm.create_model(ModelName="no-package", PrimaryContainer={"ModelPackageName": "no-such-package"},
                                                        ExecutionRoleArn=ROLE))
    sm.delete_model_package(ModelPackageName=v1)
    sm.delete_model_package(ModelPackageName=v2)
    sm.delete_model_package_group(ModelPackageGroupName="registry")
    R["group_deleted"] = code(lambda: sm.describe_model_package_group(ModelPackageGroupName="registry"))

print(json.dumps(R))
