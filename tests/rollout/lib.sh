# Helpers for the rollout tests (tests/rollout/). Builds on
# tests/builder/lib.sh (and so tests/integration/lib.sh: $T, fail, pass,
# hoster_start, cleanup on exit).
#
# There is no cluster here: fake_kube puts tests/rollout/fake-kubectl on PATH
# as `kubectl` and `oc`. It records every call in $FAKE_KUBE_DIR/calls.log
# and answers like kubectl (see its header); `kubectl kustomize` is passed to
# the real kubectl, so rendering is the real thing. Without a real kubectl
# the tests that render exit 77 (skipped).
# shellcheck source=../builder/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../builder/lib.sh"

ROLLOUT_DIR=$DCN_SOURCE_DIR/tests/rollout

fake_kube() {
    REAL_KUBECTL=$(command -v kubectl || true)
    if [[ -z $REAL_KUBECTL ]] || ! "$REAL_KUBECTL" kustomize --help >/dev/null 2>&1; then
        skip "no real kubectl with kustomize on PATH (rendering is kubectl's own code)"
    fi
    # Debian 12's kubernetes-client is kubectl 1.20, whose built-in kustomize
    # (v2.0.3) cannot load a directory under resources: nor read patches:, and
    # which is outside the version skew of the clusters the manifests target
    # (Kubernetes >= 1.25, OpenShift >= 4.11): it cannot stand in for theirs.
    local why
    if ! why=$("$REAL_KUBECTL" kustomize "$DCN_SOURCE_DIR/manifests/hoster/kubernetes" 2>&1 >/dev/null); then
        skip "$REAL_KUBECTL ($("$REAL_KUBECTL" version --client --short 2>/dev/null || echo '?')) cannot render" \
             "the manifests: $why -- they need kustomize >= 3 (kubectl >= 1.21 or oc)"
    fi
    export FAKE_KUBE_REAL_KUBECTL=$REAL_KUBECTL
    mkdir -p "$T/fakebin"
    ln -sf "$ROLLOUT_DIR/fake-kubectl" "$T/fakebin/kubectl"
    ln -sf "$ROLLOUT_DIR/fake-kubectl" "$T/fakebin/oc"
    export PATH=$T/fakebin:$PATH
    export FAKE_KUBE_DIR=$T/kube
    mkdir -p "$FAKE_KUBE_DIR"
    : >"$FAKE_KUBE_DIR/calls.log"
}

# calls_since N: the fake's calls after line N of calls.log, one per line.
calls_count() { wc -l <"$FAKE_KUBE_DIR/calls.log"; }
calls_since() { tail -n +"$(($1 + 1))" "$FAKE_KUBE_DIR/calls.log"; }

# fake_digest WORD: a sha256 digest made from WORD.
fake_digest() { printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }
