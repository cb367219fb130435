#!/usr/bin/env bash
# Push and pull MB/s of an OCI image through Citadel's registry with skopeo, against a plain file
# copy of the same bytes and against skopeo copying the layout to a layout (no registry at all).
#   scripts/registry-throughput.sh [OCI-LAYOUT-DIR] [RUNS]
# Without a layout it uses the scikit-learn test image (scripts/test-images.sh builds and caches it).
# Starts its own Citadel (./citadel server, embedded defaults, a temporary data directory, a free
# loopback port) and stops it at the end. Prints a Markdown table for docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${2:-2}
# skopeo remembers, per registry host, where it has seen each blob and mounts it instead of
# uploading it again; each run reaches Citadel by another name so that every run uploads.
HOSTS=(localhost 127.0.0.1)
(( RUNS >= 1 && RUNS <= ${#HOSTS[@]} )) || { echo "RUNS must be 1 or 2" >&2; exit 2; }
if [[ $# -ge 1 && -n "$1" ]]; then
  LAYOUT=$1
else
  LAYOUT=$("$ROOT/scripts/test-images.sh" | awk '$1 == "sklearn" {print $2}')
fi
[[ -f "$LAYOUT/index.json" ]] || { echo "not an OCI image layout: $LAYOUT" >&2; exit 2; }
for tool in skopeo python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (./citadel test installs it)" >&2; exit 2; }
done

WORK=$(mktemp -d /var/tmp/citadel-registry-bench.XXXXXX)
. "$ROOT/scripts/lib-server.sh"
cleanup() {
  citadel_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

citadel_start "$WORK"
PORT=$CITADEL_PORT
PASSWORD=$(citadel_ecr_password)

# The bytes that move: the manifest, config and layers of the image tagged latest.
BYTES=$(python3 - "$LAYOUT" <<'EOF'
import json, os, sys
layout = sys.argv[1]
index = json.load(open(os.path.join(layout, "index.json")))
m = [x for x in index["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"] or index["manifests"]
digest = m[0]["digest"]
manifest = json.load(open(os.path.join(layout, "blobs", "sha256", digest[7:])))
print(m[0]["size"] + manifest["config"]["size"] + sum(l["size"] for l in manifest["layers"]))
EOF
)

seconds() { python3 -c 'import time; print(time.monotonic())'; }
measure() { # label command...
  local start end
  sync
  start=$(seconds)
  "${@:2}" >/dev/null 2>"$WORK/last.err" || { cat "$WORK/last.err" >&2; exit 1; }
  sync
  end=$(seconds)
  python3 -c "import sys; s=$end-$start; print('| %s | %.2f | %.1f |' % (sys.argv[1], s, $BYTES / s / 1e6))" "$1"
}

echo "Image: $LAYOUT, $BYTES bytes (manifest, config and layers); $RUNS runs; $(nproc) cores"
echo
echo "| what | seconds | MB/s |"
echo "|---|---:|---:|"
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/copy" "$WORK/oci-copy" "$WORK/pulled"
  # A new repository each run, so that every blob is uploaded (a repository that has a blob skips it).
  python3 -c 'import boto3; boto3.client("ecr").create_repository(repositoryName="bench'"$run"'")' >/dev/null
  HOST=${HOSTS[$((run - 1))]}
  measure "plain file copy (cp -r of the layout, synced), run $run" cp -r "$LAYOUT" "$WORK/copy"
  measure "skopeo copy layout to layout (no registry), run $run" skopeo copy "oci:$LAYOUT:latest" "oci:$WORK/oci-copy:latest"
  measure "push to Citadel (skopeo copy to docker://), run $run" skopeo copy --preserve-digests --dest-cert-dir "$WORK/certs" --dest-creds "AWS:$PASSWORD" \
      "oci:$LAYOUT:latest" "docker://$HOST:$PORT/bench$run:v1"
  measure "pull from Citadel (skopeo copy from docker://), run $run" skopeo copy --src-cert-dir "$WORK/certs" --src-creds "AWS:$PASSWORD" \
      "docker://$HOST:$PORT/bench$run:v1" "oci:$WORK/pulled:latest"
done
