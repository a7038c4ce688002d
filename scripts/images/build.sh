#!/usr/bin/env bash
# `npm run images`: builds the five CPU images from deploy/docker/Dockerfile with podman (no
# Docker daemon), then smoke-runs each one the way Kubernetes would (read-only root, only /tmp
# and /data writable, uid 1000) against a local nats-server and checks grpc.health.v1 = SERVING.
# Offline-friendly: base images cannot be pulled here, so a stand-in for BASE_IMAGE is made with
# debootstrap + the host's node/npm/CA bundle and tagged with the exact FROM name (--pull=never).
# Not part of the default test command. Needs root (rootful podman) and apt for missing tools.
#
# Environment: VERDICT_IMAGES_DIR (work dir, default .verdict/images), VERDICT_IMAGES_SERVICES
# (space-separated subset), VERDICT_IMAGES_TAG (default 0.1.0), VERDICT_IMAGES_SKIP_BUILD=1
# (smoke-test existing images only), VERDICT_IMAGES_STORAGE_DRIVER (overlay | vfs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
WORK=${VERDICT_IMAGES_DIR:-$ROOT/.verdict/images}
TAG=${VERDICT_IMAGES_TAG:-0.1.0}
BASE_IMAGE=docker.io/library/node:20-bookworm-slim # must equal the Dockerfile's BASE_IMAGE default
read -r -a SERVICES <<<"${VERDICT_IMAGES_SERVICES:-policy-server judge-server reward-service learner evaluator}"
STORAGE_DRIVER=${VERDICT_IMAGES_STORAGE_DRIVER:-overlay}

log() { printf '[images %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (rootful podman; rootless needs subuid/subgid setup this script does not do)"

# --- 1. tools ---------------------------------------------------------------------------------
need=()
for cmd in podman:podman buildah:buildah skopeo:skopeo runc:runc debootstrap:debootstrap \
  fuse-overlayfs:fuse-overlayfs newuidmap:uidmap; do
  command -v "${cmd%%:*}" >/dev/null 2>&1 || need+=("${cmd##*:}")
done
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- 2. podman config (docs: deploy-checks.md §4.2): runc + cgroupfs (cgroup v1 hybrid host),
# lowered ulimits (root lacks CAP_SYS_RESOURCE here), host network (no bridge, no iptables).
mkdir -p "$WORK/conf" "$WORK/storage" "$WORK/run"
cat >"$WORK/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
cat >"$WORK/conf/storage.conf" <<EOF
[storage]
driver = "$STORAGE_DRIVER"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
export CONTAINERS_CONF="$WORK/conf/containers.conf" CONTAINERS_STORAGE_CONF="$WORK/conf/storage.conf"
log "podman $(podman version --format '{{.Client.Version}}'), storage $WORK/storage ($STORAGE_DRIVER)"

# --- 3. stand-in base image -------------------------------------------------------------------
if podman image exists "$BASE_IMAGE"; then
  log "base $BASE_IMAGE present"
elif [ "${VERDICT_IMAGES_SKIP_BUILD:-0}" != 1 ]; then
  t0=$SECONDS
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  log "debootstrap bookworm (minbase) -> stand-in for $BASE_IMAGE"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $WORK/debootstrap.log)"
  install -m755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The workplace re-signs outbound TLS with a CA only the host bundle has (npm ci needs it).
  install -D -m644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$rootfs" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node'
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet \
    --change 'CMD ["node"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "stand-in base built in $((SECONDS - t0)) s"
fi

# --- 4. images ----------------------------------------------------------------------------------
declare -A BUILD_S
if [ "${VERDICT_IMAGES_SKIP_BUILD:-0}" != 1 ]; then
  # One snapshot of the source (tracked + untracked, not git-ignored) for all five builds: they
  # share the build stage's layers (npm ci runs once) and come from the same tree even while the
  # working tree changes underneath.
  context="$WORK/context"
  rm -rf "$context"
  mkdir -p "$context"
  git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$context"
  log "context snapshot $(du -sh "$context" | cut -f1) at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (+ uncommitted changes)')"
  for svc in "${SERVICES[@]}"; do
    t0=$SECONDS
    log "build localhost/verdict-$svc:$TAG (target $svc)"
    podman build --pull=never --network host --layers \
      -f "$context/deploy/docker/Dockerfile" --target "$svc" \
      --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg VERSION="$TAG" \
      -t "localhost/verdict-$svc:$TAG" "$context" >"$WORK/build-$svc.log" 2>&1 ||
      die "build of $svc failed; last lines of $WORK/build-$svc.log:
$(tail -n 30 "$WORK/build-$svc.log")"
    BUILD_S[$svc]=$((SECONDS - t0))
    log "built $svc in ${BUILD_S[$svc]} s"
  done
fi

# --- 5. smoke runs ----------------------------------------------------------------------------
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

models="$WORK/toy-models"
if [ ! -f "$models/judge/model.safetensors" ] || [ ! -f "$models/student/model.safetensors" ]; then
  log "writing random toy models to $models"
  node --import tsx scripts/images/write-toy-model.ts "$models" >/dev/null
fi
chmod -R a+rX "$models"

nats_port=$(free_port)
nats_dir=$(mktemp -d "${TMPDIR:-/tmp}/verdict-images-nats.XXXXXX")
nats-server -js -sd "$nats_dir" -a 127.0.0.1 -p "$nats_port" >"$WORK/nats-server.log" 2>&1 &
nats_pid=$!
running=()
cleanup() {
  for c in "${running[@]}"; do podman rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
  kill "$nats_pid" 2>/dev/null || true
  wait "$nats_pid" 2>/dev/null || true
  rm -rf "$nats_dir"
}
trap cleanup EXIT
export NATS_URL="nats://127.0.0.1:$nats_port"
log "nats-server on $NATS_URL (pid $nats_pid)"

# Per-service environment. Ports are free ones (host network, shared machine), not the defaults.
service_env() {
  local svc=$1 port=$2
  case $svc in
  policy-server) echo "POLICY_PORT=$port POLICY_MODEL_DIR=/data/models/student NATS_URL=$NATS_URL" ;;
  judge-server) echo "JUDGE_PORT=$port JUDGE_MODEL_DIR=/data/models/judge" ;;
  # μ > 0 needs a judge address; nothing is judged during the smoke test, so none must answer.
  reward-service) echo "REWARD_PORT=$port NATS_URL=$NATS_URL JUDGE_ADDRESS=127.0.0.1:$(free_port)" ;;
  learner) echo "LEARNER_PORT=$port NATS_URL=$NATS_URL" ;;
  # A server (not EVALUATOR_ONCE): the CronJob mode exits after one run.
  evaluator) echo "EVALUATOR_PORT=$port EVALUATOR_POLICY_TARGET=127.0.0.1:$(free_port)" ;;
  esac
}

passed=0
failed=0
rows=()
for svc in "${SERVICES[@]}"; do
  image="localhost/verdict-$svc:$TAG"
  name="verdict-smoke-$svc-$$"
  ok=1
  if ! podman image exists "$image"; then
    rows+=("$image|-|-|-|-|-|MISSING|${BUILD_S[$svc]:--}")
    failed=$((failed + 1))
    continue
  fi
  size_mb=$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f", $1 / 1e6}')
  user=$(podman image inspect --format '{{.Config.User}}' "$image")
  case $user in "" | root | 0 | 0:* | root:*) ok=0 ;; esac
  port=$(free_port)
  env_args=()
  for kv in $(service_env "$svc" "$port"); do env_args+=(-e "$kv"); done
  # As Kubernetes runs it: read-only root, writable /tmp and /data only, models read-only.
  # /data is a host folder owned by uid 1000 (a volume with fsGroup in Kubernetes; podman 4.3's
  # tmpfs copy-up would make it root-owned).
  data="$WORK/smoke-data/$svc"
  rm -rf "$data"
  mkdir -p "$data"
  chown 1000:1000 "$data"
  if ! podman run -d --name "$name" --network host --read-only --read-only-tmpfs=false \
    --tmpfs /tmp:rw,mode=1777 -v "$data:/data" \
    -v "$models:/data/models:ro" "${env_args[@]}" "$image" >/dev/null; then
    rows+=("$image|$size_mb|$user|-|-|-|RUN_FAILED|${BUILD_S[$svc]:--}")
    failed=$((failed + 1))
    continue
  fi
  running+=("$name")
  health=$(node scripts/images/health-check.mjs "127.0.0.1:$port" --timeout-ms 60000 | node -e \
    "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const r=JSON.parse(s);console.log(r.status+'@'+r.elapsedMs+'ms')}catch{console.log('NO_ANSWER')}})") || true
  [[ $health == SERVING@* ]] || ok=0
  uid=$(podman exec "$name" id -u 2>/dev/null || echo '?')
  [ "$uid" != 0 ] && [ "$uid" != '?' ] || ok=0
  if podman exec "$name" sh -c 'touch /app/.w 2>/dev/null || touch /.w 2>/dev/null'; then
    rofs=writable
    ok=0
  else
    rofs=read-only
  fi
  # The bundled CLI (init steps such as `weights pull` run it from the same image).
  if podman exec "$name" node /app/verdict.mjs --help >/dev/null 2>&1; then cli=ok; else
    cli=FAILED
    ok=0
  fi
  if [ $ok = 0 ]; then
    log "$svc failed (health $health, user '$user', uid $uid, root fs $rofs, cli $cli); container log:"
    podman logs --tail 40 "$name" >&2 || true
  fi
  podman stop -t 10 "$name" >/dev/null 2>&1 || true
  podman logs "$name" >"$WORK/run-$svc.log" 2>&1 || true
  podman rm -f "$name" >/dev/null 2>&1 || true
  running=("${running[@]/$name/}")
  if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  rows+=("$image|$size_mb|$user|$uid|$rofs|$cli|$health|${BUILD_S[$svc]:--}")
done

printf '\n%-40s %8s %10s %5s %10s %6s %-22s %8s\n' image 'size MB' user uid 'root fs' cli health 'build s'
for r in "${rows[@]}"; do
  IFS='|' read -r image size user uid rofs cli health build <<<"$r"
  printf '%-40s %8s %10s %5s %10s %6s %-22s %8s\n' "$image" "$size" "$user" "$uid" "$rofs" "$cli" "$health" "$build"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
