#!/usr/bin/env bash
# Installs the chart tooling, idempotently, into $TOOLBUS_CACHE/charts (never the repo, never ~/go):
#
#   helm               built from the Go module proxy (`go install helm.sh/helm/v4/cmd/helm@...`)
#   helm-unittest      built from its module source (its go.mod has a `replace`, so `go install`
#                      refuses it: download the module, build ./cmd/helm-unittest in a copy)
#   kubernetes-validate  from PyPI into a venv; bundles the Kubernetes JSON schemas, so manifests
#                      are validated offline (kubeconform would fetch schemas from the internet)
#
# Each tool is skipped when its cached binary already reports the wanted version, so a second
# run takes well under a second. Prints where the tools are; `charts-env.sh` puts them on PATH.
#
# helm-unittest is v1.1.2, not v1.1.0: the Go module proxy does not serve v1.1.0 ("This module
# version is not available", HTTP 403), and v1.1.2 is the only v1.1.x it lists. It still carries
# the `replace`, so the recipe is unchanged. Why each tool comes from where it does:
# docs/infrastructure.md ("Chart tools").
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/charts-env.sh"

# Go's own caches live under the toolbus cache too, so a fresh clone leaves nothing in $HOME/go.
export GOPATH="$TOOLBUS_CACHE/go"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOCACHE="$TOOLBUS_CACHE/go-build"
export GOBIN="$CHARTS_BIN"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
# helm's release builds are static; matching that avoids any dependency on the host's libc.
export CGO_ENABLED=0
mkdir -p "$CHARTS_BIN" "$GOPATH"

need_go() {
  command -v go >/dev/null || die "go is needed to build helm and helm-unittest from the Go module proxy"
}

timed() { # timed <what> <command...>: runs the command and logs how long it took
  local what=$1 start=$SECONDS; shift
  "$@"
  log "$what installed in $((SECONDS - start))s"
}

install_helm() {
  if [[ -x "$CHARTS_BIN/helm" ]] &&
    [[ "$("$CHARTS_BIN/helm" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
    return 0
  fi
  need_go
  log "building helm $HELM_VERSION from the Go module proxy (a few minutes on 2 cores; cached afterwards)"
  # The version string is an ldflag in helm's own Makefile; without it `helm version` says "v4.2".
  # The Kubernetes version that `helm template` assumes comes from client-go's build info in v4.
  built=1
  timed "helm $HELM_VERSION" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
}

install_helm_unittest() {
  if [[ -x "$CHARTS_BIN/helm-unittest" ]] &&
    [[ "$(cat "$CHARTS_BIN/.helm-unittest.version" 2>/dev/null)" == "$HELM_UNITTEST_VERSION" ]]; then
    return 0
  fi
  need_go
  log "building helm-unittest $HELM_UNITTEST_VERSION from its module source"
  local dir src
  dir=$(go mod download -json "github.com/helm-unittest/helm-unittest@$HELM_UNITTEST_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$dir" && -d "$dir" ]] ||
    die "go mod download github.com/helm-unittest/helm-unittest@$HELM_UNITTEST_VERSION failed (is the version on the proxy?)"
  # The module cache is read-only, and building there would write go.sum: build in a copy.
  src="$CHARTS_TOOLS/src/helm-unittest-$HELM_UNITTEST_VERSION"
  rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  built=1
  timed "helm-unittest $HELM_UNITTEST_VERSION" \
    bash -c 'cd "$1" && go build -trimpath -ldflags "-s -w" -o "$2/helm-unittest" ./cmd/helm-unittest' \
    _ "$src" "$CHARTS_BIN"
  rm -rf "$src"
  echo "$HELM_UNITTEST_VERSION" >"$CHARTS_BIN/.helm-unittest.version"
}

install_kubernetes_validate() {
  local venv="$CHARTS_TOOLS/venv"
  if [[ -x "$venv/bin/kubernetes-validate" ]] &&
    "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is needed for kubernetes-validate"
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  # PyYAML comes with it; the policy test and the README generator use the same venv.
  timed "kubernetes-validate $KUBERNETES_VALIDATE_VERSION" \
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
    --cache-dir "$TOOLBUS_CACHE/pip" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
}

built=0
install_helm
install_helm_unittest
install_kubernetes_validate
if ((built)); then
  # The binaries are what is cached; Go's build cache (about 1 GB for helm) would only speed up
  # a rebuild of the same versions. Module downloads stay, so a rebuild needs no network.
  go clean -cache
fi
log "chart tools ready in $CHARTS_BIN: $("$CHARTS_BIN/helm" version --template '{{.Version}}'), helm-unittest $HELM_UNITTEST_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
