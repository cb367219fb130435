#!/usr/bin/env bash
# Builds Citadel's test container images without a Docker engine and keeps them in a cache.
#
#   scripts/test-images.sh [tiny] [sklearn]      (no names: both)
#
# tiny     Debian's busybox-static as /bin/busybox plus a few applet links; one layer.
# sklearn  Debian bookworm (debootstrap --variant=minbase) with python3-sklearn; two layers.
#
# Each image is assembled with umoci and then copied with skopeo, so the layout in the cache is the
# one skopeo wrote. The cache entry is
#   ${CITADEL_IMAGE_CACHE:-$HOME/.cache/citadel/test-images}/<name>-<recipe>/
#     oci/                 OCI image layout, tag "latest"  (skopeo copy oci:<this dir>:latest ...)
#     <name>.oci.tar       the same image as an oci-archive (tag "latest")
#     build-info.txt       recipe hash, build time, package versions
# where <recipe> is a hash of this script (and of the Debian mirror), so a changed recipe builds a
# new entry. An entry appears in one rename when it is complete; an interrupted build leaves none.
# For every image asked for, stdout gets one line: <name> TAB <oci layout dir> TAB <oci-archive>.
# Progress and errors go to stderr. See docs/TEST-IMAGES.md.
set -euo pipefail

say() { printf 'test-images: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
CACHE=${CITADEL_IMAGE_CACHE:-$HOME/.cache/citadel/test-images}
# The machine's own apt mirror (see /etc/apt/sources.list.d/); Debian's signing keys check what it serves.
MIRROR=${CITADEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
RECIPE=$( { cat "$SCRIPT"; printf 'mirror=%s\n' "$MIRROR"; } | sha256sum | cut -c1-16)

usage() { sed -n '2,/^set /p' "$SCRIPT" | grep '^#' | sed 's/^# \{0,1\}//' >&2; }

names=()
for arg in "$@"; do
  case "$arg" in
    tiny|sklearn) names+=("$arg") ;;
    -h|--help) usage; exit 0 ;;
    *) say "unknown image '$arg' (known: tiny, sklearn)"; exit 2 ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(tiny sklearn)

entry_of() { printf '%s/%s-%s' "$CACHE" "$1" "$RECIPE"; }
report() { printf '%s\t%s\t%s\n' "$1" "$(entry_of "$1")/oci" "$(entry_of "$1")/$1.oci.tar"; }

# The fast path: every requested entry is there already, nothing else is looked at.
all_cached=1
for n in "${names[@]}"; do [ -d "$(entry_of "$n")/oci" ] || all_cached=0; done
if [ "$all_cached" = 1 ]; then
  for n in "${names[@]}"; do report "$n"; done
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Tools. Missing Debian packages are installed the way ./citadel does it (as root, or with sudo).

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing Debian packages: ${missing[*]} (install them, or run as root)"
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The installed version of a Debian package; with a root file system first: of the package in there.
pkg_version() { # [--root DIR] package
  if [ "$1" = --root ]; then
    # shellcheck disable=SC2016
    chroot "$2" dpkg-query -W -f='${Version}' "$3"
  else
    # shellcheck disable=SC2016
    dpkg-query -W -f='${Version}' "$1"
  fi
}

require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "'$t' is not installed; it comes with Debian's packages umoci, skopeo, debootstrap (apt-get install umoci skopeo busybox-static debootstrap)"
  done
}

need_sklearn=0
for n in "${names[@]}"; do [ "$n" = sklearn ] && need_sklearn=1; done
packages=(umoci skopeo busybox-static)
[ "$need_sklearn" = 1 ] && packages+=(debootstrap debian-archive-keyring)
ensure_packages "${packages[@]}"
require_tools umoci skopeo flock sha256sum
[ "$need_sklearn" = 1 ] && require_tools debootstrap

umoci_mode=()
[ "$(id -u)" -eq 0 ] || umoci_mode=(--rootless)

mkdir -p "$CACHE"

# skopeo only ever reads images this script has just written to local directories: a policy that
# accepts the oci transport and rejects everything else.
policy_file() {
  cat > "$1" <<'EOF'
{"default":[{"type":"reject"}],"transports":{"oci":{"":[{"type":"insecureAcceptAnything"}]}}}
EOF
}

# Removes a build tree. debootstrap mounts /proc and /sys inside its target; if it was stopped
# half-way they may still be mounted, so they are unmounted (deepest first) before anything is deleted.
remove_tree() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  dir=$(readlink -f "$dir")
  while read -r m; do
    umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Long steps run in a process group of their own, so that a signal to this script stops all of them
# (debootstrap's second stage carries on after SIGINT otherwise) before the build tree is removed.
child=
on_signal() {
  trap - INT TERM HUP
  if [ -n "$child" ]; then
    kill -KILL -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit 130
}
stoppable() {
  setsid "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}

# Assembly with umoci: an empty image, unpacked into a bundle whose rootfs the caller fills in.
umoci_start() { # layout bundle
  umoci init --layout "$1"
  umoci new --image "$1:latest"
  umoci unpack "${umoci_mode[@]}" --image "$1:latest" "$2" >/dev/null
}

umoci_layer() { # layout bundle created-by
  umoci repack "${umoci_mode[@]}" --refresh-bundle --history.created_by "$3" \
    --history.author "citadel scripts/test-images.sh" --image "$1:latest" "$2"
}

# Writes the final layout and archive with skopeo from the umoci layout.
export_image() { # name umoci-layout out-dir work-dir
  local policy=$4/policy.json
  policy_file "$policy"
  TMPDIR=$4 skopeo --policy "$policy" copy --quiet "oci:$2:latest" "oci:$3/oci:latest"
  TMPDIR=$4 skopeo --policy "$policy" copy --quiet "oci:$3/oci:latest" "oci-archive:$3/$1.oci.tar:latest"
  # The layers must be gzip tarballs; anything else means a tool changed underneath us.
  local manifest
  manifest=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]\{64\}\)".*/\1/p' "$3/oci/index.json")
  [ -n "$manifest" ] || die "$1: no manifest digest in index.json"
  if grep -o '"mediaType":"[^"]*"' "$3/oci/blobs/sha256/$manifest" | grep 'layer' | grep -qv 'application/vnd.oci.image.layer.v1.tar+gzip'; then
    die "$1: a layer is not application/vnd.oci.image.layer.v1.tar+gzip"
  fi
}

build_tiny() { # work out
  local work=$1 out=$2 layout=$1/layout bundle=$1/bundle busybox
  busybox=$(dpkg-query -L busybox-static | grep -E '^(/usr)?/bin/busybox$' | head -n1)
  if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
    die "busybox-static is installed but its /bin/busybox is not there"
  fi
  umoci_start "$layout" "$bundle"
  local root=$bundle/rootfs
  install -d -m 0755 "$root/bin"
  install -d -m 1777 "$root/tmp"
  install -m 0755 "$busybox" "$root/bin/busybox"
  local applet
  for applet in sh cat ls echo sleep wc sha256sum; do
    ln -s busybox "$root/bin/$applet"
  done
  # Inside a chroot with nothing else in it, busybox only runs if it really is static.
  if [ "$(id -u)" -eq 0 ]; then
    [ "$(chroot "$root" /bin/echo ok)" = ok ] || die "tiny: /bin/busybox does not run on its own"
  fi
  umoci_layer "$layout" "$bundle" "busybox-static $(pkg_version busybox-static)"
  umoci config --no-history --image "$layout:latest" \
    --architecture amd64 --os linux \
    --config.user 0:0 --config.workingdir / \
    --config.env PATH=/bin \
    --config.cmd /bin/sh \
    --config.label org.opencontainers.image.title=citadel-test-tiny \
    --config.label "dev.citadel.test-image.recipe=$RECIPE"
  export_image tiny "$layout" "$out" "$work"
  {
    printf 'busybox-static %s\n' "$(pkg_version busybox-static)"
  } >> "$out/build-info.txt"
}

build_sklearn() { # work out
  local work=$1 out=$2 layout=$1/layout bundle=$1/bundle
  umoci_start "$layout" "$bundle"
  local root=$bundle/rootfs
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring); refusing an unverified debootstrap"
  say "sklearn: debootstrap $SUITE from $MIRROR (a few minutes)"
  local t0=$SECONDS
  # Two stages, so that dpkg can be told not to fsync every file it unpacks in between (a throw-away
  # tree; this saves a minute or more). The first stage downloads and checks every package.
  if ! stoppable debootstrap --foreign --variant=minbase --include=python3-sklearn --components=main --keyring="$keyring" \
      "$SUITE" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "sklearn: debootstrap (first stage) failed"
  fi
  local unsafe_io=$root/etc/dpkg/dpkg.cfg.d/citadel-build-unsafe-io
  mkdir -p "${unsafe_io%/*}"
  echo force-unsafe-io > "$unsafe_io"
  if ! stoppable chroot "$root" /debootstrap/debootstrap --second-stage >> "$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    die "sklearn: debootstrap (second stage) failed"
  fi
  rm -f "$unsafe_io"
  # Shrink and depersonalise: no downloaded packages or indexes, no device nodes (the runtime provides
  # /dev), nothing copied from this host, no build logs. /var/lib/dpkg/status stays for scanners.
  rm -rf "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/cache/apt/*.bin "${root:?}"/var/lib/apt/lists/* \
    "${root:?}"/dev/* "${root:?}"/var/log/bootstrap.log "${root:?}"/var/log/apt/* \
    "${root:?}"/etc/resolv.conf "${root:?}"/etc/hostname
  install -d -m 0755 "$root/var/lib/apt/lists/partial"
  grep -q '^Package: python3-sklearn$' "$root/var/lib/dpkg/status" || die "sklearn: python3-sklearn is not in the image's dpkg status"
  chroot "$root" python3 -c 'import sklearn' || die "sklearn: python3 -c 'import sklearn' fails inside the root file system"
  say "sklearn: debootstrap took $((SECONDS - t0)) s; packing the base layer (gzip)"
  t0=$SECONDS
  umoci_layer "$layout" "$bundle" "debootstrap --variant=minbase --include=python3-sklearn $SUITE"
  # A second, small layer: SageMaker's directory tree, where the container starts.
  install -d -m 0755 "$root/opt/ml" "$root/opt/ml/code" "$root/opt/ml/model" "$root/opt/ml/input" "$root/opt/ml/output"
  umoci_layer "$layout" "$bundle" "mkdir /opt/ml/{code,model,input,output}"
  umoci config --no-history --image "$layout:latest" \
    --architecture amd64 --os linux \
    --config.user 0:0 --config.workingdir /opt/ml/code \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env LANG=C.UTF-8 \
    --config.env PYTHONUNBUFFERED=1 \
    --config.entrypoint python3 \
    --config.cmd -c --config.cmd 'import sklearn; print("scikit-learn", sklearn.__version__)' \
    --config.label org.opencontainers.image.title=citadel-test-sklearn \
    --config.label "dev.citadel.test-image.recipe=$RECIPE"
  say "sklearn: layers packed in $((SECONDS - t0)) s; exporting with skopeo"
  export_image sklearn "$layout" "$out" "$work"
  {
    printf 'debian %s (%s)\n' "$SUITE" "$(cat "$root/etc/debian_version")"
    printf 'python3-sklearn %s\n' "$(pkg_version --root "$root" python3-sklearn)"
    printf 'python3 %s\n' "$(pkg_version --root "$root" python3)"
  } >> "$out/build-info.txt"
}

# Removes what killed builds left behind. A build holds the lock named after its image and recipe
# (its child processes inherit it), so a build tree whose lock is free belongs to nobody. The caller
# holds the lock for its own key already.
sweep_stale() { # own-key
  local t key
  for t in "$CACHE"/.tmp-*; do
    [ -d "$t" ] || continue
    key=${t##*/.tmp-}
    key=${key%.*}
    if [ "$key" = "$1" ]; then
      remove_tree "$t"
    else
      ( flock -n 9 || exit 0; say "removing the remains of an interrupted build: $t"; remove_tree "$t" ) 9> "$CACHE/.$key.lock"
    fi
  done
}

build() { # name
  local name=$1 entry tmp
  entry=$(entry_of "$name")
  exec {lock}> "$CACHE/.$name-$RECIPE.lock"
  flock "$lock"
  if [ -d "$entry/oci" ]; then # another process built it while we waited
    exec {lock}>&-
    return 0
  fi
  sweep_stale "$name-$RECIPE"
  tmp=$(mktemp -d "$CACHE/.tmp-$name-$RECIPE.XXXXXX")
  # shellcheck disable=SC2064
  trap "remove_tree '$tmp'" EXIT
  trap on_signal INT TERM HUP
  mkdir "$tmp/work" "$tmp/out"
  local started=$SECONDS
  say "$name: building (recipe $RECIPE) in $tmp"
  printf 'image %s\nrecipe %s\nbuilt %s\numoci %s\nskopeo %s\n' "$name" "$RECIPE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(umoci --version | awk '{print $3}')" "$(skopeo --version | awk '{print $3}')" > "$tmp/out/build-info.txt"
  "build_$name" "$tmp/work" "$tmp/out"
  printf 'seconds %s\n' "$((SECONDS - started))" >> "$tmp/out/build-info.txt"
  chmod -R go-w "$tmp/out"
  mv -T "$tmp/out" "$entry"
  remove_tree "$tmp"
  trap - EXIT INT TERM HUP
  exec {lock}>&-
  say "$name: built in $((SECONDS - started)) s: $entry"
}

for n in "${names[@]}"; do
  [ -d "$(entry_of "$n")/oci" ] || build "$n"
done
for n in "${names[@]}"; do report "$n"; done
