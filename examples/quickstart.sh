#!/usr/bin/env bash
# Citadel's quickstart: with Citadel running (./citadel server, in another terminal, on its
# embedded defaults), builds a scikit-learn SageMaker image, pushes it to Citadel's registry,
# uploads data, trains a model, deploys it behind an endpoint, invokes it, and runs a batch
# transform, all with boto3 as a SageMaker user would; then a seller account lists the algorithm
# on the marketplace and a buyer account trains with it, then the seller lists a trained model whose
# artifact is sealed under its own KMS key and the buyer deploys it.
#   examples/quickstart.sh [DATA-DIR]      (default ./citadel-data)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${1:-$ROOT/citadel-data}
say() { printf '\n== %s\n' "$*"; }
[[ -f "$DATA/client/env" ]] || { echo "no $DATA/client/env: start Citadel first (./citadel server)" >&2; exit 2; }
for tool in skopeo umoci python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (./citadel test installs it, or apt-get install $tool)" >&2; exit 2; }
done
# shellcheck disable=SC1091
. "$DATA/client/env"

say "1. Building the scikit-learn image (Debian bookworm with python3-sklearn; the first build takes a few minutes)"
BASE=$("$ROOT/scripts/test-images.sh" sklearn | awk '$1 == "sklearn" {print $2}')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -al "$BASE" "$WORK/image"
umoci insert --image "$WORK/image:latest" --tag quickstart "$ROOT/examples/sklearn-image/train" /usr/local/bin/train
for script in serve evaluate; do
  umoci insert --image "$WORK/image:quickstart" "$ROOT/examples/sklearn-image/$script" "/usr/local/bin/$script"
done
umoci config --image "$WORK/image:quickstart" --clear=config.entrypoint
echo "   added train, serve and evaluate to /usr/local/bin; cleared the Entrypoint (SageMaker runs 'train' and 'serve')"

say "2. Pushing it to Citadel's registry with skopeo"
HOST=$(python3 -c 'import os, urllib.parse; print(urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"]).netloc)')
python3 -c 'import boto3, botocore.exceptions
try:
    boto3.client("ecr").create_repository(repositoryName="quickstart-sklearn", imageScanningConfiguration={"scanOnPush": True})
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] != "RepositoryAlreadyExistsException": raise'
mkdir -p "$WORK/certs" && cp "$DATA/client/ca.pem" "$WORK/certs/ca.crt"
PASSWORD=$(python3 -c 'import base64, boto3; t = boto3.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]; print(base64.b64decode(t).decode().split(":", 1)[1])')
skopeo copy -q --dest-cert-dir "$WORK/certs" --dest-creds "AWS:$PASSWORD" "oci:$WORK/image:quickstart" "docker://$HOST/quickstart-sklearn:v1"
echo "   pushed $HOST/quickstart-sklearn:v1"

python3 "$ROOT/examples/quickstart.py" "$HOST/quickstart-sklearn:v1"

# The marketplace scene: a seller account lists the algorithm, a buyer account runs it (docs/MARKETPLACE.md).
export AWS_DATA_PATH="$ROOT/models"
SELLER_PASSWORD=$(python3 "$ROOT/examples/marketplace.py" setup)
skopeo copy -q --dest-cert-dir "$WORK/certs" --dest-creds "AWS:$SELLER_PASSWORD" "oci:$WORK/image:quickstart" "docker://$HOST/logistic:v1"
python3 "$ROOT/examples/marketplace.py" run "$HOST/logistic:v1"
