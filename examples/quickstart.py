"""The quickstart's SageMaker part (examples/quickstart.sh runs it after pushing the image):
data, an execution role, a KMS key, a training job, a model, an endpoint, invocations and a batch
transform, each step printed. Safe to run again: it names everything with a fresh suffix."""
import gzip
import io
import json
import random
import sys
import tarfile
import time

import boto3

image = sys.argv[1]
run = time.strftime("%Y%m%d-%H%M%S")
account = boto3.client("sts").get_caller_identity()["Account"]
s3, iam, kms = boto3.client("s3"), boto3.client("iam"), boto3.client("kms")
sm, runtime = boto3.client("sagemaker"), boto3.client("sagemaker-runtime")
bucket = "quickstart-%s-%s" % (account, run)


def step(text):
    print("\n== " + text, flush=True)


def rows(n, seed):
    rnd = random.Random(seed)
    return [(1 if x1 + x2 > 1 else 0, x1, x2) for x1, x2 in ((rnd.uniform(-1, 2), rnd.uniform(-1, 2)) for _ in range(n))]


def wait(describe, field, name):
    while True:
        d = describe(name)
        if d[field] not in ("InProgress", "Stopping", "Creating", "Updating"):
            return d
        time.sleep(1)


step("3. Uploading training data (300 labelled rows, gzip'd CSV) to s3://%s/train/" % bucket)
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="train/data.csv.gz", Body=gzip.compress("".join("%d,%.6f,%.6f\n" % r for r in rows(300, 1)).encode()))

step("4. An execution role SageMaker may assume, and a KMS key for the model")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
role_name = "QuickstartSageMaker-" + run
role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
key = kms.create_key(Description="quickstart models")["KeyMetadata"]["Arn"]
iam.put_role_policy(RoleName=role_name, PolicyName="data", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"]},
    {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key},
    {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}]}))
print("   role %s\n   key  %s" % (role, key))

step("5. Training (no network, no credentials in the container)")
job = "quickstart-" + run
sm.create_training_job(TrainingJobName=job, RoleArn=role, HyperParameters={"C": "10"},
                       AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
                       InputDataConfig=[{"ChannelName": "train", "CompressionType": "Gzip", "ContentType": "text/csv",
                                         "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % bucket}}}],
                       OutputDataConfig={"S3OutputPath": "s3://%s/output" % bucket, "KmsKeyId": key},
                       ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                       StoppingCondition={"MaxRuntimeInSeconds": 600}, EnableNetworkIsolation=True)
d = wait(lambda n: sm.describe_training_job(TrainingJobName=n), "TrainingJobStatus", job)
print("   %s: %s" % (d["TrainingJobStatus"], " -> ".join(t["Status"] for t in d["SecondaryStatusTransitions"])))
if d["TrainingJobStatus"] != "Completed":
    sys.exit("training failed: " + d.get("FailureReason", ""))
artifacts = d["ModelArtifacts"]["S3ModelArtifacts"]
head = s3.head_object(Bucket=bucket, Key=artifacts.split("/", 3)[3])
print("   model: %s, sealed with %s" % (artifacts, head["SSEKMSKeyId"]))
stream = boto3.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/")["logStreams"][0]
for e in boto3.client("logs").get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"],
                                             startFromHead=True)["events"]:
    print("   log: " + e["message"])

step("6. Deploying the model behind an endpoint")
sm.create_model(ModelName=job, ExecutionRoleArn=role, EnableNetworkIsolation=True,
                PrimaryContainer={"Image": image, "ModelDataUrl": artifacts})
sm.create_endpoint_config(EndpointConfigName=job, ProductionVariants=[
    {"VariantName": "main", "ModelName": job, "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])
sm.create_endpoint(EndpointName=job, EndpointConfigName=job)
d = wait(lambda n: sm.describe_endpoint(EndpointName=n), "EndpointStatus", job)
print("   %s %s" % (job, d["EndpointStatus"]))

step("7. Invoking it")
for features in ("0.2,0.3", "1.5,0.9"):
    r = runtime.invoke_endpoint(EndpointName=job, ContentType="text/csv", Body=features)
    print("   %s -> %s (variant %s)" % (features, r["Body"].read().decode().strip(), r["InvokedProductionVariant"]))

step("8. A batch transform over 200 rows")
s3.put_object(Bucket=bucket, Key="batch/rows.csv", Body="".join("%.6f,%.6f\n" % (x1, x2) for _, x1, x2 in rows(200, 2)).encode())
sm.create_transform_job(TransformJobName=job, ModelName=job, BatchStrategy="MultiRecord",
                        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/batch/" % bucket}},
                                        "ContentType": "text/csv", "SplitType": "Line"},
                        TransformOutput={"S3OutputPath": "s3://%s/batch-out" % bucket, "AssembleWith": "Line", "KmsKeyId": key},
                        TransformResources={"InstanceType": "ml.t3.medium", "InstanceCount": 1})
d = wait(lambda n: sm.describe_transform_job(TransformJobName=n), "TransformJobStatus", job)
out = s3.get_object(Bucket=bucket, Key="batch-out/rows.csv.out")["Body"].read().decode().split()
labels = [y for y, _, _ in rows(200, 2)]
print("   %s: %d predictions, %.0f%% correct" % (d["TransformJobStatus"], len(out), 100.0 * sum(float(p) == y for p, y in zip(out, labels)) / len(labels)))

step("9. Cleaning up the endpoint (the model, data and logs stay)")
sm.delete_endpoint(EndpointName=job)
print("   done")
