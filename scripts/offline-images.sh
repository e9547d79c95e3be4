#!/usr/bin/env bash
# Makes the third-party images that docker-compose.yml and the Dockerfile use available on a
# machine that cannot reach a container registry (air-gapped, or a CI box whose only way out is
# a Debian mirror). Real images always win: one already present is kept, and one the registry
# hands out is pulled. Only where neither exists is a stand-in built, locally, from Debian
# packages (debootstrap) and this workspace, and tagged with the real image's name. Every
# stand-in is labelled (org.tradeforge.stand-in=true) with the hash of its recipe, so that a
# second run reuses it in seconds and a changed recipe rebuilds it.
set -euo pipefail

# Part of every recipe hash: bump it when the way stand-ins are built changes.
readonly SCRIPT_VERSION=1

usage() {
  cat <<'HELP'
Usage: scripts/offline-images.sh [--check] [--remove] [IMAGE...]

Makes sure each IMAGE exists in the local Docker engine (default: all five that Tradeforge
needs from a registry: postgres:17-bookworm redis:7-bookworm ollama/ollama:0.12.6
rust:<RUST_VERSION of the Dockerfile>-slim-bookworm debian:bookworm-slim). For each one:

  1. a real image of that name is already there   -> kept, never replaced
  2. our stand-in of that name, same recipe        -> reused ("up to date")
  3. otherwise `docker pull` (OFFLINE_IMAGES_PULL_TIMEOUT seconds, default 20; 0 skips it)
  4. if the pull fails, a stand-in is built and tagged with the real name

Stand-ins (every line printed for one says how it differs from the real image):
  postgres:17-bookworm     PostgreSQL 15 from Debian, entrypoint with the official contract
  redis:7-bookworm         Redis 7.0 from Debian, entrypoint like the official one
  ollama/ollama:0.12.6     the workspace's Ollama double (testkit) behind an `ollama` script
  rust:X.Y-slim-bookworm   this machine's rustup toolchain X.Y copied in, plus its own CAs
  debian:bookworm-slim     debootstrap --variant=minbase bookworm, slimmed like the original

  --check    only report what is there and what a run would do; exit 1 if anything is
             missing or out of date
  --remove   delete the stand-ins among IMAGE (never a real image) and, once no stand-in
             is left, the internal base image; the debootstrap cache stays (path below)
  -h, --help show this help

Needs: a running Docker daemon; to build stand-ins also root (debootstrap, first run only),
debootstrap, and cargo (for the Ollama double) or OLLAMA_DOUBLE_BIN pointing at a built
ollama-double; for the rust stand-in a rustup toolchain of that version on this machine.
Environment: OFFLINE_IMAGES_MIRROR (default http://deb.debian.org/debian),
OFFLINE_IMAGES_SECURITY_MIRROR (default http://deb.debian.org/debian-security),
OFFLINE_IMAGES_PULL_TIMEOUT, OLLAMA_DOUBLE_BIN, CARGO_TARGET_DIR, RUSTUP_HOME, CARGO_HOME,
XDG_CACHE_HOME. Cache and build logs: ${XDG_CACHE_HOME:-~/.cache}/tradeforge/offline-images
(the debootstrap tarball is reused as long as it is there: delete it, then run with --remove
and again, to rebuild everything on newer Debian updates).
HELP
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly RECIPES="$ROOT/scripts/offline-images"
readonly CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tradeforge/offline-images"
readonly LOGS="$CACHE/logs"
readonly MIRROR="${OFFLINE_IMAGES_MIRROR:-http://deb.debian.org/debian}"
readonly SECURITY_MIRROR="${OFFLINE_IMAGES_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
readonly PULL_TIMEOUT="${OFFLINE_IMAGES_PULL_TIMEOUT:-20}"
readonly SUITE=bookworm
readonly LABEL=org.tradeforge.stand-in
# The shared Debian root every stand-in is built FROM (an internal tag, one per base recipe).
readonly BASE_REPO=tradeforge-standin/bookworm-base
readonly DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf '%s\n' "$*"; }
warn() { printf 'offline-images: %s\n' "$*" >&2; }
die() { printf 'offline-images: error: %s\n' "$*" >&2; exit 2; }
# One line per image: its name, then what happened.
report() { printf '%-26s %s\n' "$1" "$2"; }

# Scratch space of one run (build contexts, the debootstrap root), $CACHE/tmp/run.*, removed
# on exit; a root that debootstrap left with /proc or /sys mounted is unmounted first, and
# removal never crosses into another file system.
WORK=''
remove_tree() {
  local dir="$1" mnt
  for mnt in "$dir"/proc "$dir"/sys "$dir"/*/proc "$dir"/*/sys; do
    mountpoint -q "$mnt" 2>/dev/null && umount "$mnt" 2>/dev/null
  done
  rm -rf --one-file-system "$dir" 2>/dev/null || warn "could not remove $dir"
}
cleanup() {
  [[ -z "$WORK" || ! -d "$WORK" ]] || remove_tree "$WORK"
}
trap cleanup EXIT
# new_temp NAME: a new directory in this run's scratch space (its path on stdout).
new_temp() {
  local dir
  dir="$(mktemp -d "$WORK/$1.XXXXXX")"
  chmod 0755 "$dir"
  printf '%s\n' "$dir"
}

sha256() { sha256sum | cut -c1-64; }

# The recipe directory for an image name, or nothing for a name we have no stand-in for.
recipe_of() {
  case "$1" in
    postgres:17-bookworm) echo postgres ;;
    redis:7-bookworm) echo redis ;;
    ollama/ollama:0.12.6) echo ollama ;;
    rust:[0-9]*.[0-9]*-slim-bookworm) echo rust ;;
    debian:bookworm-slim) echo debian ;;
  esac
}

default_images() {
  local rust_version
  rust_version="$(sed -n 's/^ARG RUST_VERSION=\([0-9][0-9.]*\)$/\1/p' "$ROOT/Dockerfile" 2>/dev/null | head -n1)"
  printf '%s\n' postgres:17-bookworm redis:7-bookworm ollama/ollama:0.12.6 \
    "rust:${rust_version:-1.95}-slim-bookworm" debian:bookworm-slim
}

# ---- the shared base: debootstrap once, cached as a tarball, imported as an internal tag ----

# Names the base by what goes into it, so that the stand-ins' hashes can be computed without
# building it.
base_id() {
  {
    echo "script $SCRIPT_VERSION suite $SUITE variant minbase"
    echo "mirror $MIRROR security $SECURITY_MIRROR"
    (cd "$RECIPES/base" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256 | cut -c1-12
}

BASE_TAG=
ensure_base() {
  [[ -n "$BASE_TAG" ]] && return 0
  local id tag tarball
  id="$(base_id)"
  tag="$BASE_REPO:$id"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    tarball="$CACHE/bookworm-minbase-$id.tar"
    [[ -s "$tarball" ]] || build_base_tarball "$tarball"
    say "importing the bookworm base into Docker as $tag"
    docker import \
      --change "ENV PATH=$DEFAULT_PATH" \
      --change 'CMD ["bash"]' \
      --message "Debian $SUITE minbase (debootstrap), base of the Tradeforge stand-in images" \
      "$tarball" "$tag" >/dev/null
  fi
  BASE_TAG="$tag"
}

build_base_tarball() {
  local tarball="$1" rootfs log started
  command -v debootstrap >/dev/null ||
    die "debootstrap is not installed; it builds the Debian base of every stand-in (apt-get install debootstrap)"
  [[ "$(id -u)" == 0 ]] ||
    die "debootstrap needs root: run this once as root (sudo $0) to create $tarball"
  rootfs="$(new_temp rootfs)"
  log="$LOGS/debootstrap.log"
  started=$SECONDS
  say "building the Debian $SUITE base with debootstrap from $MIRROR (a few minutes, once; log: $log)"
  if ! debootstrap --variant=minbase --components=main "$SUITE" "$rootfs" "$MIRROR" >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    die "debootstrap failed (full log: $log)"
  fi
  # Make it a container root like debian:bookworm-slim: the slim dpkg excludes, Docker's apt
  # settings, updates and security sources, no services started by package scripts.
  install -m 0644 "$RECIPES/base/dpkg-slim.cfg" "$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  install -m 0644 "$RECIPES/base/apt-docker.conf" "$rootfs/etc/apt/apt.conf.d/docker"
  install -m 0755 "$RECIPES/base/policy-rc.d" "$rootfs/usr/sbin/policy-rc.d"
  rm -f "$rootfs/etc/apt/sources.list"
  sed -e "s|@MIRROR@|$MIRROR|" -e "s|@SECURITY_MIRROR@|$SECURITY_MIRROR|" \
    "$RECIPES/base/debian.sources" >"$rootfs/etc/apt/sources.list.d/debian.sources"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  mount -t proc proc "$rootfs/proc" 2>/dev/null || true
  say "applying bookworm updates and security fixes to the base"
  if ! chroot "$rootfs" /bin/sh -c \
    'export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get -y dist-upgrade && apt-get clean' >>"$log" 2>&1; then
    tail -n 15 "$log" >&2
    die "apt-get dist-upgrade in the new base failed (full log: $log)"
  fi
  umount "$rootfs/proc" 2>/dev/null || true
  # What the slim dpkg config keeps out from now on, out of what debootstrap already put there.
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${rootfs:?}"/usr/share/{man,info,groff,linda,lintian}/* "${rootfs:?}"/var/lib/apt/lists/* \
    "${rootfs:?}"/var/cache/apt/* "${rootfs:?}"/var/log/* "${rootfs:?}"/tmp/* "${rootfs:?}"/dev/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/machine-id"
  echo localhost >"$rootfs/etc/hostname"
  tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  say "debootstrap base ready in $((SECONDS - started)) s: $tarball ($(du -h "$tarball" | cut -f1))"
}

# ---- what each stand-in is built from ---------------------------------------------------------

# The Ollama double, built from this workspace (or OLLAMA_DOUBLE_BIN). With --check nothing is
# built: the binary that is there counts, if any.
DOUBLE_BIN=
double_bin() {
  [[ -n "$DOUBLE_BIN" ]] && return 0
  if [[ -n "${OLLAMA_DOUBLE_BIN:-}" ]]; then
    [[ -x "$OLLAMA_DOUBLE_BIN" ]] || die "OLLAMA_DOUBLE_BIN=$OLLAMA_DOUBLE_BIN is not an executable file"
    DOUBLE_BIN="$OLLAMA_DOUBLE_BIN"
    return 0
  fi
  local bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/ollama-double" log="$LOGS/ollama-double.log"
  if ((check)); then
    [[ -x "$bin" ]] && DOUBLE_BIN="$bin"
    return 0
  fi
  command -v cargo >/dev/null ||
    die "cargo is not on PATH: it builds the Ollama double (or set OLLAMA_DOUBLE_BIN to a built ollama-double)"
  if ! (cd "$ROOT" && cargo build --release --locked -p testkit --bin ollama-double) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "cargo build -p testkit --bin ollama-double failed (log: $log)"
  fi
  [[ -x "$bin" ]] || die "cargo built the Ollama double, but $bin is not there (CARGO_TARGET_DIR?)"
  DOUBLE_BIN="$bin"
}

# The host's rustup toolchain for a rust:X.Y[.Z]-slim-bookworm name: sets TOOLCHAIN_DIR (its
# real directory), RUST_FULL_VERSION (1.95.0) and RUST_HOST (x86_64-unknown-linux-gnu).
TOOLCHAIN_DIR='' RUST_FULL_VERSION='' RUST_HOST='' HOST_RUSTUP=
find_toolchain() {
  local want="$1" dir version
  local rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
  HOST_RUSTUP="${CARGO_HOME:-$HOME/.cargo}/bin/rustup"
  [[ -x "$HOST_RUSTUP" ]] || HOST_RUSTUP="$(command -v rustup || true)"
  [[ -n "$HOST_RUSTUP" ]] || die "rustup is not installed here: the rust stand-in copies this machine's toolchain"
  TOOLCHAIN_DIR=
  for dir in "$rustup_home"/toolchains/*/; do
    dir="${dir%/}"
    case "${dir##*/}" in nightly* | beta*) continue ;; esac
    [[ -x "$dir/bin/rustc" && -x "$dir/bin/cargo" ]] || continue
    version="$("$dir/bin/rustc" --version 2>/dev/null | awk '{print $2}')" || continue
    if [[ "$version" == "$want" || "$version" == "$want".* ]]; then
      TOOLCHAIN_DIR="$(readlink -f "$dir")"
      RUST_FULL_VERSION="$version"
      RUST_HOST="$("$dir/bin/rustc" -vV | sed -n 's/^host: //p')"
      return 0
    fi
  done
  die "no rustup toolchain for Rust $want in $rustup_home/toolchains (rustup cannot download here; install it where it can and copy it over)"
}

# The stand-in's recipe hash: its recipe files, this script's version, the base's inputs, and
# what is copied in from this machine (the double's binary, the toolchain's version and the CA
# bundle), in HASH (not printed: the inputs it finds are kept in globals for the build). Empty
# when it cannot be known without building (--check before the double was ever built).
HASH=''
recipe_hash() {
  local name="$1" recipe="$2"
  HASH=''
  case "$recipe" in
    ollama)
      double_bin
      [[ -n "$DOUBLE_BIN" ]] || return 0
      ;;
    rust) find_toolchain "$(rust_version_of "$name")" ;;
  esac
  HASH="$({
    echo "script $SCRIPT_VERSION image $name base $(base_id)"
    (cd "$RECIPES/$recipe" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    case "$recipe" in
      ollama) echo "double $(sha256 <"$DOUBLE_BIN")" ;;
      rust)
        echo "toolchain $RUST_FULL_VERSION $RUST_HOST $("$TOOLCHAIN_DIR/bin/cargo" --version)"
        echo "rustup $(sha256 <"$HOST_RUSTUP")"
        echo "ca $(sha256 </etc/ssl/certs/ca-certificates.crt)"
        ;;
    esac
  } | sha256)"
}

rust_version_of() { local v="${1#rust:}"; printf '%s\n' "${v%-slim-bookworm}"; }

description_of() {
  local recipe="$1" name="$2" text
  text="$(cat "$RECIPES/$recipe/description")"
  [[ "$recipe" == rust ]] && text="${text//@RUST_VERSION@/$RUST_FULL_VERSION}" && text="${text//@WANT@/$(rust_version_of "$name")}"
  printf '%s\n' "$text"
}

label_of() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null; }

# Whether the image called NAME is our stand-in for NAME. Labels are inherited: an image built
# FROM a stand-in carries them too, but names another image in $LABEL.for.
is_standin() {
  [[ "$(label_of "$1" "$LABEL")" == true && "$(label_of "$1" "$LABEL.for")" == "$1" ]]
}

# ---- building a stand-in ----------------------------------------------------------------------

# The certificates this machine trusts beyond what its ca-certificates package ships (a
# TLS-intercepting proxy's CA, a company CA), one file each into DIR. Certificates that Debian
# has since dropped are not among them: only what no package file holds counts.
host_extra_cas() {
  local dir="$1" bundle=/etc/ssl/certs/ca-certificates.crt known
  [[ -r "$bundle" ]] || return 0
  known="$dir/.known.pem"
  find /usr/share/ca-certificates -name '*.crt' -exec cat {} + >"$known" 2>/dev/null || true
  awk -v dir="$dir" '
    { sub(/\r$/, "") }
    /-----BEGIN CERTIFICATE-----/ { inside = 1; body = ""; pem = "" }
    inside { pem = pem $0 "\n"; body = body $0 }
    /-----END CERTIFICATE-----/ {
      inside = 0
      if (FILENAME == ARGV[1]) { known[body] = 1 }
      else if (!(body in known)) {
        known[body] = 1; n++
        f = sprintf("%s/tradeforge-host-%03d.crt", dir, n)
        printf "%s", pem > f; close(f)
      }
    }' "$known" "$bundle"
  rm -f "$known"
}

# The build context goes to `docker build -` as one tar stream: the recipe directory, a staging
# directory with what this machine contributes, and (rust) the toolchain straight from rustup's
# directory, renamed and pruned on the way, without a 1.4 GB copy.
build_standin() {
  local name="$1" recipe="$2" hash="$3" stage log started old_id new_id
  local -a tar_extra=() toolchain=() build_args=()
  ensure_base
  stage="$(new_temp "context-$recipe")"
  log="$LOGS/$recipe.log"
  build_args=(--build-arg "BASE_IMAGE=$BASE_TAG")
  case "$recipe" in
    ollama)
      cp "$DOUBLE_BIN" "$stage/ollama-double"
      ;;
    rust)
      local toolchain_name="$RUST_FULL_VERSION-$RUST_HOST" proxy src_base
      mkdir -p "$stage/extra-cas"
      host_extra_cas "$stage/extra-cas"
      mkdir -p "$stage/rustup" "$stage/cargo/bin"
      {
        grep -E '^version[[:space:]]*=' "${RUSTUP_HOME:-$HOME/.rustup}/settings.toml" 2>/dev/null || echo 'version = "12"'
        echo "default_toolchain = \"$toolchain_name\""
        echo 'profile = "minimal"'
        echo
        echo '[overrides]'
      } >"$stage/rustup/settings.toml"
      cp "$HOST_RUSTUP" "$stage/cargo/bin/rustup"
      # rustup's proxies (cargo, rustc, rustfmt, clippy-driver ...): what links to rustup here.
      for proxy in "$(dirname "$HOST_RUSTUP")"/*; do
        [[ "$proxy" != "$HOST_RUSTUP" ]] || continue
        if [[ "$(readlink -f "$proxy")" == "$(readlink -f "$HOST_RUSTUP")" || "$proxy" -ef "$HOST_RUSTUP" ]]; then
          ln -s rustup "$stage/cargo/bin/${proxy##*/}"
        fi
      done
      src_base="$(basename "$TOOLCHAIN_DIR")"
      toolchain=(-C "$(dirname "$TOOLCHAIN_DIR")" "$src_base")
      # Like the official image (chmod -R a+w): any user may `cargo install` into it.
      tar_extra=(--mode=a+w --exclude=share/doc --exclude=share/man --exclude='manifest-rust-docs-*'
        --transform="s|^$(printf '%s' "$src_base" | sed 's/[.[\*^$]/\\&/g')|rustup/toolchains/$toolchain_name|")
      build_args+=(--build-arg "RUST_VERSION=$RUST_FULL_VERSION")
      ;;
  esac
  old_id="$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null || true)"
  started=$SECONDS
  say "building a stand-in for $name (log: $log)"
  if ! tar -c -f - --owner=0 --group=0 --numeric-owner "${tar_extra[@]+"${tar_extra[@]}"}" \
    -C "$RECIPES/$recipe" . -C "$stage" . \
    "${toolchain[@]+"${toolchain[@]}"}" |
    docker build --rm --force-rm "${build_args[@]}" \
      --label "$LABEL=true" \
      --label "$LABEL.recipe=$hash" \
      --label "$LABEL.for=$name" \
      --label "$LABEL.script-version=$SCRIPT_VERSION" \
      --label "$LABEL.description=$(description_of "$recipe" "$name")" \
      -t "$name" - >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    die "building the stand-in for $name failed (full log: $log)"
  fi
  new_id="$(docker image inspect -f '{{.Id}}' "$name")"
  # The stand-in it replaces, now untagged, goes (unless a container still uses it).
  if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
  BUILD_SECONDS=$((SECONDS - started))
}

# ---- one image --------------------------------------------------------------------------------

process() {
  local name="$1" recipe hash have pull_out rc state old_id=''
  recipe="$(recipe_of "$name")"
  if docker image inspect "$name" >/dev/null 2>&1; then
    if ! is_standin "$name"; then
      report "$name" "real image present: kept (never replaced by a stand-in)"
      return 0
    fi
    have="$(label_of "$name" "$LABEL.recipe")"
    recipe_hash "$name" "$recipe"
    hash="$HASH"
    if [[ -z "$hash" ]]; then
      report "$name" "stand-in present (not verified: the Ollama double is not built yet) - $(label_of "$name" "$LABEL.description")"
      return 0
    fi
    if [[ "$have" == "$hash" ]]; then
      report "$name" "stand-in up to date - $(label_of "$name" "$LABEL.description")"
      return 0
    fi
    state="stand-in out of date (recipe changed)"
    old_id="$(docker image inspect -f '{{.Id}}' "$name")"
  else
    recipe_hash "$name" "$recipe"
    hash="$HASH"
    state="missing"
  fi
  if ((check)); then
    report "$name" "$state: a run would try docker pull, then build a stand-in"
    missing=$((missing + 1))
    return 0
  fi
  if ((PULL_TIMEOUT > 0)); then
    rc=0
    pull_out="$(timeout "$PULL_TIMEOUT" docker pull -q "$name" 2>&1)" || rc=$?
    if ((rc == 0)); then
      [[ -z "$old_id" ]] || docker rmi "$old_id" >/dev/null 2>&1 || true
      report "$name" "pulled from the registry (real image)"
      return 0
    fi
    if ((rc == 124)); then
      pull_out="no answer within ${PULL_TIMEOUT}s (OFFLINE_IMAGES_PULL_TIMEOUT)"
    else
      pull_out="$(printf '%s\n' "$pull_out" | tail -n1)"
    fi
    warn "$name: $state; docker pull failed: $pull_out"
  fi
  [[ -n "$hash" ]] || die "no recipe hash for $name (internal error)"
  build_standin "$name" "$recipe" "$hash"
  report "$name" "stand-in built in ${BUILD_SECONDS}s - $(description_of "$recipe" "$name")"
}

remove() {
  local name="$1"
  if ! docker image inspect "$name" >/dev/null 2>&1; then
    report "$name" "not present"
  elif ! is_standin "$name"; then
    report "$name" "real image: kept"
  else
    docker rmi "$name" >/dev/null
    report "$name" "stand-in removed"
  fi
}

# ---- main -------------------------------------------------------------------------------------

check=0
do_remove=0
images=()
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    --remove) do_remove=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) images+=("$1") ;;
  esac
  shift
done
if ((${#images[@]} == 0)); then
  mapfile -t images < <(default_images)
fi
for name in "${images[@]}"; do
  [[ -n "$(recipe_of "$name")" ]] ||
    die "no stand-in recipe for '$name' (known: postgres:17-bookworm redis:7-bookworm ollama/ollama:0.12.6 rust:X.Y-slim-bookworm debian:bookworm-slim)"
done

command -v docker >/dev/null || die "the docker CLI is not installed"
if ! docker info >/dev/null 2>&1; then
  die "cannot reach the Docker daemon ('docker info' failed): start it (systemctl start docker, or dockerd &) or check DOCKER_HOST and your permissions"
fi
[[ "$PULL_TIMEOUT" =~ ^[0-9]+$ ]] || die "OFFLINE_IMAGES_PULL_TIMEOUT must be a number of seconds"

mkdir -p "$CACHE" "$LOGS"
# One run at a time per cache (two runs would debootstrap and tag concurrently).
if command -v flock >/dev/null; then
  exec 9>"$CACHE/lock"
  if ! flock -n 9; then
    say "another offline-images run holds $CACHE/lock; waiting for it"
    flock 9
  fi
fi

# Scratch space: what a run killed earlier left behind goes first (the lock says none is active).
mkdir -p "$CACHE/tmp"
for stale in "$CACHE"/tmp/*; do
  [[ -e "$stale" ]] && remove_tree "$stale"
done
WORK="$(mktemp -d "$CACHE/tmp/run.XXXXXX")"

if ((do_remove)); then
  for name in "${images[@]}"; do remove "$name"; done
  # The base goes with the last stand-in (untagged earlier, it would be imported anew for the
  # next one, and the stand-ins would no longer share its layers).
  mapfile -t left < <(docker images --filter "label=$LABEL=true" --format '{{.Repository}}:{{.Tag}}')
  for name in "${left[@]+"${left[@]}"}"; do
    if is_standin "$name"; then
      say "stand-ins remain (e.g. $name): the internal base images are kept"
      exit 0
    fi
  done
  mapfile -t bases < <(docker images "$BASE_REPO" --format '{{.Repository}}:{{.Tag}}')
  for name in "${bases[@]+"${bases[@]}"}"; do
    docker rmi "$name" >/dev/null
    report "$name" "internal base removed"
  done
  exit 0
fi

started=$SECONDS
missing=0
for name in "${images[@]}"; do
  process "$name"
done
if ((check)); then
  ((missing == 0)) || { say "$missing image(s) missing or out of date"; exit 1; }
  exit 0
fi
say "all ${#images[@]} images ready in $((SECONDS - started)) s"
