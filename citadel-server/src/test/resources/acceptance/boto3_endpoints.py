"""Models, endpoints and InvokeEndpoint with boto3, in phases (after boto3_training.py's setup; the
test pushes the image and kills a container between phases).

train <image>:   a small training job whose model.tar.gz the endpoints serve.
deploy <image>:  a model, a configuration of two variants weighted 1:3 capturing every call, an endpoint; a hanging model's endpoint.
invoke <artifacts>: predictions against the model's own, the variants' shares of 400 calls, bad calls.
captures:        the capture objects of the invoke phase's calls read back: layout, SSE-KMS, records.
transform <artifacts>: a batch transform of two CSV files, its outputs against the model's own predictions.
load <seconds>:  invokes for that long (while the test kills a container), counting failures after recovery.
update:          a new configuration while calls go on: no call fails; the new variant serves.
delete:          the endpoints are deleted and gone.
"""
import json
import re
import sys
import threading
import time

import boto3
import botocore.config
import botocore.exceptions

account = boto3.client("sts").get_caller_identity()["Account"]
sm = boto3.client("sagemaker")
rt = boto3.client("sagemaker-runtime", config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=120))
s3 = boto3.client("s3")
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
    import random
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        x1, x2 = rnd.uniform(-1, 2), rnd.uniform(-1, 2)
        out.append((1 if x1 + x2 > 1 else 0, x1, x2))
    return out


def wait_endpoint(name, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sm.describe_endpoint(EndpointName=name)
        if d["EndpointStatus"] not in ("Creating", "Updating"):
            return d
        time.sleep(0.5)
    raise SystemExit("endpoint %s still %s" % (name, d["EndpointStatus"]))


def capture_key():
    return boto3.client("kms").describe_key(KeyId="alias/training-output")["KeyMetadata"]["Arn"]


def first_body():
    return "".join("%.6f,%.6f\n" % (x1, x2) for _, x1, x2 in rows(50, 2))


def invoke(body, content_type="text/csv", **kw):
    r = rt.invoke_endpoint(EndpointName="logistic", Body=body, ContentType=content_type, **kw)
    return r["Body"].read().decode(), r["InvokedProductionVariant"]


phase = sys.argv[1]
if phase == "train":
    image = sys.argv[2]
    sm.create_training_job(TrainingJobName="for-endpoints", RoleArn=ROLE,
                           AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
                           HyperParameters={"C": "10"},
                           InputDataConfig=[{"ChannelName": "train", "CompressionType": "Gzip", "DataSource": {"S3DataSource": {
                               "S3DataType": "S3Prefix", "S3Uri": "s3://%s/train/" % BUCKET}}}],
                           OutputDataConfig={"S3OutputPath": "s3://%s/output" % BUCKET},
                           ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                           StoppingCondition={"MaxRuntimeInSeconds": 600})
    while sm.describe_training_job(TrainingJobName="for-endpoints")["TrainingJobStatus"] == "InProgress":
        time.sleep(1)
    d = sm.describe_training_job(TrainingJobName="for-endpoints")
    R["status"] = d["TrainingJobStatus"]
    R["artifacts"] = d["ModelArtifacts"]["S3ModelArtifacts"]

elif phase == "deploy":
    image, artifacts = sys.argv[2], sys.argv[3]
    for name, env in (("logistic", {}), ("hangs", {"CITADEL_TEST_SLEEP": "8"})):
        sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, EnableNetworkIsolation=True,
                        PrimaryContainer={"Image": image, "ModelDataUrl": artifacts, "Environment": env})
    R["model"] = sm.describe_model(ModelName="logistic")["PrimaryContainer"]["ModelDataUrl"]
    sm.create_endpoint_config(EndpointConfigName="two-variants", ProductionVariants=[
        {"VariantName": "A", "ModelName": "logistic", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium", "InitialVariantWeight": 1},
        {"VariantName": "B", "ModelName": "logistic", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium", "InitialVariantWeight": 3}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://%s/capture" % BUCKET,
                           "KmsKeyId": capture_key(), "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                           "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}})
    sm.create_endpoint_config(EndpointConfigName="hanging", ProductionVariants=[
        {"VariantName": "only", "ModelName": "hangs", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])
    R["bad_model"] = code(lambda: sm.create_endpoint_config(EndpointConfigName="bad", ProductionVariants=[
        {"VariantName": "x", "ModelName": "no-such-model", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}]))
    R["bad_config"] = code(lambda: sm.create_endpoint(EndpointName="bad", EndpointConfigName="no-such-config"))
    started = time.time()
    sm.create_endpoint(EndpointName="logistic", EndpointConfigName="two-variants")
    sm.create_endpoint(EndpointName="hangs", EndpointConfigName="hanging")
    d = wait_endpoint("logistic")
    R["seconds_to_in_service"] = round(time.time() - started, 1)
    R["status"] = [d["EndpointStatus"], d.get("FailureReason", "")]
    R["variants"] = sorted([v["VariantName"], v["CurrentWeight"], v["CurrentInstanceCount"]] for v in d["ProductionVariants"])
    R["capture"] = d.get("DataCaptureConfig")
    R["capture_key"] = capture_key()
    R["capture_uri"] = "s3://%s/capture" % BUCKET
    R["hangs"] = wait_endpoint("hangs")["EndpointStatus"]
    R["listed"] = [e["EndpointName"] for e in sm.list_endpoints(SortBy="Name", SortOrder="Ascending")["Endpoints"]]

elif phase == "invoke":
    import io
    import tarfile
    artifact = s3.get_object(Bucket=BUCKET, Key=sys.argv[2].split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(artifact)) as tar:
        model = json.load(tar.extractfile("./model.json"))
    test = rows(50, 2)
    coef, intercept = model["coef"][0], model["intercept"][0]
    R["expected"] = [1.0 if coef[0] * x1 + coef[1] * x2 + intercept > 0 else 0.0 for _, x1, x2 in test]
    predictions, _ = invoke(first_body(), InferenceId="first-csv")
    R["predictions"] = [float(p) for p in predictions.split()]
    R["labels"] = [float(y) for y, _, _ in test]
    as_json, _ = invoke(json.dumps({"instances": [[x1, x2] for _, x1, x2 in test]}), "application/json", Accept="application/json")
    R["json_predictions"] = [float(p) for p in json.loads(as_json)["predictions"]]
    shares = {"A": 0, "B": 0}
    for _ in range(400):
        _, variant = invoke("0.5,0.7\n")
        shares[variant] += 1
    R["shares"] = shares
    R["targeted"] = invoke("0.5,0.7\n", TargetVariant="A")[1]
    R["missing_endpoint"] = code(lambda: rt.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"1,2", ContentType="text/csv"))
    R["too_large"] = code(lambda: rt.invoke_endpoint(EndpointName="logistic", Body=b"1" * (7 << 20), ContentType="text/csv"))
    R["wrong_type"] = code(lambda: rt.invoke_endpoint(EndpointName="logistic", Body=b"1,2", ContentType="text/plain"))
    R["unknown_variant"] = code(lambda: rt.invoke_endpoint(EndpointName="logistic", Body=b"1,2", ContentType="text/csv", TargetVariant="Z"))
    started = time.time()
    R["hanging"] = code(lambda: rt.invoke_endpoint(EndpointName="hangs", Body=b"1,2", ContentType="text/csv"))
    R["hanging_seconds"] = round(time.time() - started, 1)
    R["still_serving"] = invoke("0.5,0.7\n")[0].strip()

elif phase == "captures":
    # every successful call of the invoke phase (404) is captured; failed calls are not
    layout = re.compile(r"capture/logistic/(A|B)/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl")
    objects = {}

    def read_all():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="capture/logistic/"):
            for o in page.get("Contents", []):
                if o["Key"] not in objects:
                    body = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode()
                    objects[o["Key"]] = [json.loads(line) for line in body.splitlines()]
        return [r for records in objects.values() for r in records]
    deadline = time.time() + 60
    while len(read_all()) < 404 and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(2.5)
    records = read_all()
    R["records"] = len(records)
    R["layout"] = sorted({bool(layout.fullmatch(k)) for k in objects})
    R["variants"] = sorted({k.split("/")[2] for k in objects})
    heads = [s3.head_object(Bucket=BUCKET, Key=k) for k in objects]
    R["sse"] = sorted({(h.get("ServerSideEncryption"), h.get("SSEKMSKeyId")) for h in heads})
    R["key"] = capture_key()
    R["event_versions"] = sorted({r["eventVersion"] for r in records})
    R["distinct_event_ids"] = len({r["eventMetadata"]["eventId"] for r in records})
    first = [r for r in records if r["eventMetadata"].get("inferenceId") == "first-csv"]
    R["first_count"] = len(first)
    if first:
        i, o = first[0]["captureData"]["endpointInput"], first[0]["captureData"]["endpointOutput"]
        R["first_input"] = [i["observedContentType"], i["mode"], i["encoding"], i["data"] == first_body()]
        R["first_output"] = [o["mode"], o["encoding"]]
        R["first_predictions"] = [float(p) for p in o["data"].split()]
        R["first_time"] = first[0]["eventMetadata"]["inferenceTime"]
    as_json = [r for r in records if r["captureData"]["endpointInput"]["observedContentType"] == "application/json"]
    R["json_records"] = [[r["captureData"]["endpointInput"]["encoding"], len(json.loads(r["captureData"]["endpointInput"]["data"])["instances"]),
                          r["captureData"]["endpointOutput"]["encoding"]] for r in as_json]
    R["sample_row"] = first_body().splitlines()[0]
    R["describe"] = sm.describe_endpoint(EndpointName="logistic").get("DataCaptureConfig")

elif phase == "transform":
    import io
    import tarfile
    artifact = s3.get_object(Bucket=BUCKET, Key=sys.argv[2].split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(artifact)) as tar:
        model = json.load(tar.extractfile("./model.json"))
    coef, intercept = model["coef"][0], model["intercept"][0]
    key = boto3.client("kms").describe_key(KeyId="alias/training-output")["KeyMetadata"]["Arn"]
    expected = {}
    for part, seed in (("part-1.csv", 11), ("part-2.csv", 12)):
        test = rows(500, seed)
        s3.put_object(Bucket=BUCKET, Key="batch/" + part, Body="".join("%.6f,%.6f\n" % (x1, x2) for _, x1, x2 in test).encode())
        expected[part] = [1.0 if coef[0] * x1 + coef[1] * x2 + intercept > 0 else 0.0 for _, x1, x2 in test]
    sm.create_transform_job(TransformJobName="batch-logistic", ModelName="logistic", BatchStrategy="MultiRecord", MaxPayloadInMB=1,
                            MaxConcurrentTransforms=2,
                            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://%s/batch/" % BUCKET}},
                                            "ContentType": "text/csv", "SplitType": "Line"},
                            TransformOutput={"S3OutputPath": "s3://%s/batch-out" % BUCKET, "Accept": "text/csv", "AssembleWith": "Line",
                                             "KmsKeyId": key},
                            TransformResources={"InstanceType": "ml.t3.medium", "InstanceCount": 1})
    while sm.describe_transform_job(TransformJobName="batch-logistic")["TransformJobStatus"] == "InProgress":
        time.sleep(1)
    d = sm.describe_transform_job(TransformJobName="batch-logistic")
    R["status"] = [d["TransformJobStatus"], d.get("FailureReason", "")]
    R["same"] = {}
    for part in expected:
        out = s3.get_object(Bucket=BUCKET, Key="batch-out/%s.out" % part)
        got = [float(x) for x in out["Body"].read().decode().split()]
        R["same"][part] = got == expected[part]
        R["sse"] = out.get("SSEKMSKeyId")
    R["listed"] = [j["TransformJobName"] for j in sm.list_transform_jobs()["TransformJobSummaries"]]
    R["key"] = key

elif phase == "containers":
    streams = boto3.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/logistic")["logStreams"]
    R["runs"] = sorted(s["logStreamName"].split("/", 1)[1] for s in streams)

elif phase == "load":
    seconds = float(sys.argv[2])
    results = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        results.append((time.time(), code(lambda: invoke("0.5,0.7\n"))))
        time.sleep(0.02)
    R["calls"] = len(results)
    R["failed"] = sum(1 for _, c in results if c != "ok")
    R["last_10"] = [c for _, c in results[-10:]]

elif phase == "update":
    sm.create_endpoint_config(EndpointConfigName="one-variant", ProductionVariants=[
        {"VariantName": "C", "ModelName": "logistic", "InitialInstanceCount": 1, "InstanceType": "ml.t3.medium"}])
    stop = threading.Event()
    outcomes = []

    def load():
        while not stop.is_set():
            try:
                outcomes.append(invoke("0.5,0.7\n")[1])
            except botocore.exceptions.ClientError as e:
                outcomes.append("error:" + e.response["Error"]["Code"])
            time.sleep(0.05)
    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1)
    sm.update_endpoint(EndpointName="logistic", EndpointConfigName="one-variant")
    R["during"] = sm.describe_endpoint(EndpointName="logistic")["EndpointStatus"]
    R["update_twice"] = code(lambda: sm.update_endpoint(EndpointName="logistic", EndpointConfigName="two-variants"))
    started = time.time()
    d = wait_endpoint("logistic", timeout=420)
    R["update_seconds"] = round(time.time() - started, 1)
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    R["status"] = [d["EndpointStatus"], d["EndpointConfigName"], d.get("FailureReason", "")]
    R["calls"] = len(outcomes)
    R["failures"] = [o for o in outcomes if o.startswith("error:")]
    R["last_variant"] = outcomes[-1]

elif phase == "delete":
    for name in ("logistic", "hangs"):
        sm.delete_endpoint(EndpointName=name)
    deadline = time.time() + 120
    while time.time() < deadline and code(lambda: sm.describe_endpoint(EndpointName="logistic")) == "ok":
        time.sleep(0.5)
    R["gone"] = code(lambda: sm.describe_endpoint(EndpointName="logistic"))
    R["invoke_gone"] = code(lambda: rt.invoke_endpoint(EndpointName="logistic", Body=b"1,2", ContentType="text/csv"))

print(json.dumps(R))
