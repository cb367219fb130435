# shellcheck shell=bash
# What the benchmark scripts share: a Citadel of their own, started and stopped. Source it:
#   . "$ROOT/scripts/lib-server.sh"
#   citadel_start WORK [--set KEY=VALUE ...]
#       starts `./citadel server --data-dir WORK/data --listen 127.0.0.1:<free port>` (embedded
#       defaults; the operator listener on a free port, so that runs side by side do not collide), its output in WORK/server.log, and waits until it listens (fails with the log's
#       tail if it exits or takes more than 10 minutes, which covers building the jars). Then it sets CITADEL_PID, CITADEL_PORT and
#       CITADEL_DATA, sources WORK/data/client/env (so boto3 and the AWS CLI reach it as its admin),
#       and copies its CA to WORK/certs/ca.crt (for skopeo's --src-cert-dir / --dest-cert-dir).
#   citadel_stop
#       SIGTERM, then waits for it to exit (SIGKILL after 60 s). Safe to call twice, or before a
#       start; call it from the script's EXIT trap.
#   citadel_ecr_password
#       prints a password for the registry (skopeo --dest-creds "AWS:<it>").
#   citadel_push SOURCE REPOSITORY TAG
#       creates the ECR repository and pushes the image SOURCE (a skopeo reference such as
#       oci:<layout>:latest) to it; prints the image's name (localhost:<port>/REPOSITORY:TAG).
CITADEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CITADEL_PID=""
CITADEL_PORT=""
CITADEL_DATA=""

citadel_start() {
  local work=$1
  shift
  CITADEL_DATA=$work/data
  CITADEL_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$CITADEL_ROOT/citadel" server --data-dir "$CITADEL_DATA" --listen "127.0.0.1:$CITADEL_PORT" \
    --set operator.listen=127.0.0.1:0 "$@" >"$work/server.log" 2>&1 &
  CITADEL_PID=$!
  local waited=0
  # The first start builds the jars when sources changed and makes the data directory's keys.
  until [[ -f "$CITADEL_DATA/client/env" ]] && grep -q "listening" "$work/server.log" 2>/dev/null; do
    if ! kill -0 "$CITADEL_PID" 2>/dev/null || (( waited >= 1200 )); then
      echo "Citadel did not start; the end of $work/server.log:" >&2
      tail -n 30 "$work/server.log" >&2
      return 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  # shellcheck disable=SC1091
  . "$CITADEL_DATA/client/env"
  mkdir -p "$work/certs" && cp "$CITADEL_DATA/client/ca.pem" "$work/certs/ca.crt"
}

citadel_stop() {
  [[ -n "$CITADEL_PID" ]] || return 0
  local pid=$CITADEL_PID waited=0
  CITADEL_PID=""
  kill "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && (( waited < 600 )); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "Citadel (pid $pid) did not stop within 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

citadel_ecr_password() {
  python3 -c 'import base64, boto3; t = boto3.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]; print(base64.b64decode(t).decode().split(":", 1)[1])'
}

citadel_push() {
  local source=$1 repository=$2 tag=$3 work
  work=$(dirname "$CITADEL_DATA")
  python3 -c 'import sys, boto3; boto3.client("ecr").create_repository(repositoryName=sys.argv[1])' "$repository" >/dev/null
  skopeo copy -q --dest-cert-dir "$work/certs" --dest-creds "AWS:$(citadel_ecr_password)" \
    "$source" "docker://localhost:$CITADEL_PORT/$repository:$tag" >/dev/null
  echo "localhost:$CITADEL_PORT/$repository:$tag"
}
