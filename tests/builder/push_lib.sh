# Helpers for the package/push tests (sourced after lib.sh): a real
# registry (Debian's docker-registry, i.e. distribution 2.8) on 127.0.0.1
# with its own config in $T, optionally behind basic auth or a token server,
# or behind a proxy that fails requests; and running the image's entrypoint
# from an unpacked rootfs.
#
# Needs: docker-registry, skopeo, umoci, openssl, python3 (scripts/deps/test.txt).
# Tests call need_tools first: without the tools the test is skipped (exit 77).

PUSH_HELPERS=$DCN_SOURCE_DIR/tests/builder

need_tools() {
    local t missing=()
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    if ((${#missing[@]})); then
        skip "missing ${missing[*]} (scripts/deps/test.txt installs them)"
    fi
}


# wait_http URL: until it answers with any HTTP status.
wait_http() {
    local i code
    for i in $(seq 1 200); do
        code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$1" || true)
        [[ $code != 000 ]] && return 0
        sleep 0.05
    done
    fail "nothing answers at $1"
}

# registry_start NAME [auth-yaml-file]: a registry with its storage and log in
# $T/NAME; sets REG_PORT, REG_URL (http://127.0.0.1:PORT), REG_LOG, REG_HOST.
registry_start() {
    local name=$1 auth=${2:-}
    local d=$T/$name
    mkdir -p "$d/data"
    REG_PORT=$(free_port)
    {
        echo "version: 0.1"
        echo "log: {level: info, formatter: text}"
        echo "storage:"
        echo "  filesystem: {rootdirectory: $d/data}"
        echo "  delete: {enabled: true}"
        echo "  maintenance: {uploadpurging: {enabled: false}}"
        echo "http:"
        echo "  addr: 127.0.0.1:$REG_PORT"
        echo "  secret: dcn-test-secret"
        echo "  headers: {X-Content-Type-Options: [nosniff]}"
        [[ -n $auth ]] && cat "$auth"
        true
    } >"$d/config.yml"
    REG_LOG=$d/registry.log
    docker-registry serve "$d/config.yml" >"$REG_LOG" 2>&1 &
    track_pid $!
    REG_URL=http://127.0.0.1:$REG_PORT
    REG_HOST=127.0.0.1:$REG_PORT
    wait_http "$REG_URL/v2/"
}

# registry_blob_puts LOG REPO: the digests of blob uploads the registry
# completed (PUT .../blobs/uploads/<id>?digest=... answered 201), one a line.
registry_blob_puts() {
    grep -o "\"PUT /v2/$2/blobs/uploads/[^ ]*digest=sha256[^ ]* HTTP/1.1\" 201" "$1" \
        | sed -E 's/.*digest=(sha256(%3A|:)[0-9a-f]{64}).*/\1/; s/%3A/:/' || true
}

# htpasswd_auth FILE USER PASSWORD: writes the auth: section for basic auth.
htpasswd_auth() {
    local f=$1
    htpasswd -Bbn "$2" "$3" >"$f.htpasswd" 2>/dev/null || fail "htpasswd failed"
    printf 'auth:\n  htpasswd:\n    realm: dcn-test-realm\n    path: %s\n' "$f.htpasswd" >"$f"
}

# token_server_start USER PASSWORD: a token service in the distribution
# style (JWT, RS256, x5c header; see distribution registry/auth/token) at
# $TOKEN_URL/token that grants what is asked to USER:PASSWORD and answers
# 401 otherwise; writes the registry's auth: section to $T/token-auth.yml.
token_server_start() {
    local user=$1 pass=$2
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token.key" -out "$T/token.crt" -days 2 \
        -subj /CN=dcn-test-token >/dev/null 2>&1 || fail "openssl could not make the token key"
    local port
    port=$(free_port)
    TOKEN_URL=http://127.0.0.1:$port
    TOKEN_LOG=$T/token.log
    python3 "$PUSH_HELPERS/token_server.py" "$port" "$user" "$pass" "$T/token.key" "$T/token.crt" 2>"$TOKEN_LOG" &
    track_pid $!
    wait_http "$TOKEN_URL/token"
    printf 'auth:\n  token:\n    realm: %s/token\n    service: dcn-test-registry\n    issuer: dcn-test-issuer\n    rootcertbundle: %s\n' \
        "$TOKEN_URL" "$T/token.crt" >"$T/token-auth.yml"
}

# fault_proxy_start UPSTREAM_URL FAILS: a proxy in front of the registry
# that answers 500 to the first FAILS requests of each kind (method + path
# with upload ids and digests blanked), then forwards; sets PROXY_URL and
# PROXY_LOG (one line per request: "<status> <method> <path>").
fault_proxy_start() {
    local up=$1 fails=$2 port
    port=$(free_port)
    PROXY_URL=http://127.0.0.1:$port
    PROXY_LOG=$T/proxy.log
    python3 "$PUSH_HELPERS/fault_proxy.py" "$port" "$up" "$fails" "$PROXY_LOG" 2>"$T/proxy.err" &
    track_pid $!
    wait_http "$PROXY_URL/v2/"
    : >"$PROXY_LOG"
}

# run_entrypoint ROOTFS: runs the image's Entrypoint + Cmd (read from
# $IMAGE_CONFIG, the OCI config) from ROOTFS as uid 1000740000 (an OpenShift-
# style arbitrary UID, group 0) on a read-only bind mount of the rootfs, in
# new mount, PID and network namespaces (unshare + chroot: container engines
# need cgroup setups this sandbox lacks). Sets ENTRY_PID (the hoster, as seen
# from here) and ENTRY_ERR. Clients reach it with in_entry_net CMD...
# (nsenter into its network namespace, where it listens on 0.0.0.0:8080).
run_entrypoint() {
    local rootfs=$1 name=${2:-entry}
    ENTRY_ERR=$T/$name.err
    local cmd
    cmd=$(python3 -c 'import json,shlex,sys; c=json.load(open(sys.argv[1]))["config"]; print(" ".join(shlex.quote(a) for a in (c.get("Entrypoint") or [])+(c.get("Cmd") or [])))' "$IMAGE_CONFIG")
    cat >"$T/$name.sh" <<EOF
set -e
mount --bind "$rootfs" "$rootfs"
mount -t proc proc "$rootfs/proc"
mount -o remount,bind,ro "$rootfs"
ip link set lo up
exec chroot --userspec=1000740000:0 "$rootfs" $cmd
EOF
    unshare --mount --net --pid --fork bash "$T/$name.sh" >"$T/$name.out" 2>"$ENTRY_ERR" &
    local outer=$! i
    track_pid $outer
    ENTRY_PID=
    for i in $(seq 1 200); do
        # unshare forks the namespace's init: the script, which execs chroot, which execs the hoster
        ENTRY_PID=$(pgrep -P "$outer" 2>/dev/null | head -n1 || true)
        if [[ -n $ENTRY_PID && $(cat "/proc/$ENTRY_PID/comm" 2>/dev/null) == dcn-hoster ]] &&
            grep -q 'listening on' "$ENTRY_ERR" 2>/dev/null; then
            track_pid "$ENTRY_PID"
            return 0
        fi
        kill -0 "$outer" 2>/dev/null || break
        sleep 0.05
    done
    cat "$ENTRY_ERR" >&2
    fail "the image's entrypoint did not start listening"
}

in_entry_net() { nsenter --net="/proc/$ENTRY_PID/ns/net" "$@"; }

# can_run_entrypoint: root with unshare/nsenter/chroot that work here.
can_run_entrypoint() {
    [[ $(id -u) == 0 ]] && command -v unshare >/dev/null && command -v nsenter >/dev/null \
        && unshare --mount --net --pid --fork true 2>/dev/null
}
