#!/bin/bash
# push against registries that want credentials or misbehave:
#  - basic auth (htpasswd): no credentials and wrong ones fail with a clear
#    error naming what to fix, the right ones (password from the
#    environment, then from registry.password_file) push;
#  - a bearer-token challenge (distribution's token auth with a test token
#    server): wrong credentials fail at the token endpoint, right ones push,
#    pushing again changes nothing;
#  - a proxy answering 500 to the first two requests of every kind: the push
#    survives (retries with backoff) and the registry has the image;
#  - a cross-repository mount: the image pushed to a second repository with
#    registry.mount_from uploads no layer bytes;
#  - plain http must be asked for: a URL without a scheme is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/push_lib.sh"
need_tools docker-registry skopeo openssl htpasswd
cd "$T"
SK=(skopeo --override-os linux --override-arch amd64)

make_tree rootfs 1
write_def def.yaml
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
out=$(builder package -f def.yaml --json 2>/dev/null) || fail "package"
digest=$(json_get "$out" manifest_digest)

# ---- basic auth
htpasswd_auth "$T/basic-auth.yml" alice s3cret
registry_start basic "$T/basic-auth.yml"
if builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge 2>err.txt >/dev/null; then fail "push without credentials succeeded"; fi
grep -q "requires credentials" err.txt || { cat err.txt; fail "no clear error without credentials"; }
if DCN_BUILDER_REGISTRY_PASSWORD=wrong builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge \
    --registry-username alice 2>err.txt >/dev/null; then fail "push with a wrong password succeeded"; fi
grep -q "refused the credentials of user 'alice'" err.txt || { cat err.txt; fail "no clear error for a wrong password"; }
pass "basic auth: no credentials and a wrong password fail clearly ($(grep -o "refused the credentials[^:]*" err.txt | head -n1))"
out=$(DCN_BUILDER_REGISTRY_PASSWORD=s3cret builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge \
    --registry-username alice --json 2>err.txt) || { cat err.txt; fail "push with basic auth"; }
[[ $(json_get "$out" digest) == "$digest" ]] || fail "basic auth push digest"
printf 's3cret\n' >pw.txt
out=$(builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge --registry-username alice \
    --registry-password-file pw.txt --json 2>/dev/null) || fail "push with registry.password_file"
[[ $(json_get "$out" changed) == false ]] || fail "pushing the same image again changed something: $out"
"${SK[@]}" inspect --tls-verify=false --creds alice:s3cret "docker://$REG_HOST/dcn/edge:1.0.0" >/dev/null || fail "skopeo cannot read the basic-auth push"
pass "basic auth: pushed with the password from the environment; again from a file: unchanged"

# ---- bearer token
token_server_start bob t0ken
registry_start token "$T/token-auth.yml"
if DCN_BUILDER_REGISTRY_PASSWORD=nope builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge \
    --registry-username bob 2>err.txt >/dev/null; then fail "push with a wrong token password succeeded"; fi
grep -q "token endpoint .* refused the credentials" err.txt || { cat err.txt; fail "no clear error for wrong token credentials"; }
out=$(DCN_BUILDER_REGISTRY_PASSWORD=t0ken builder push -f def.yaml --registry "$REG_URL" --repository dcn/edge \
    --registry-username bob --json 2>err.txt) || { cat err.txt; tail "$REG_LOG"; fail "push with a bearer token"; }
[[ $(json_get "$out" digest) == "$digest" ]] || fail "token push digest"
grep -q 'event=token realm=' err.txt || fail "no token event"
grep -q 'GET /token?service=dcn-test-registry&scope=repository' "$TOKEN_LOG" || { cat "$TOKEN_LOG"; fail "the token server saw no scoped request"; }
pass "bearer challenge: wrong credentials fail at the token endpoint; right ones get a scoped token and push"

# ---- 500 twice, then fine
registry_start flaky
fault_proxy_start "$REG_URL" 2
out=$(builder push -f def.yaml --registry "$PROXY_URL" --repository dcn/edge --chunk-mb 1 --json 2>err.txt) \
    || { cat err.txt; fail "push through a registry that fails twice"; }
[[ $(json_get "$out" retries) -ge 2 ]] || fail "no retries counted: $out"
n500=$(grep -c '^500 ' "$PROXY_LOG")
grep -q '^500 PATCH ' "$PROXY_LOG" && grep -q '^500 PUT .*digest=' "$PROXY_LOG" || fail "the proxy did not fail uploads"
"${SK[@]}" inspect --tls-verify=false "docker://$REG_HOST/dcn/edge:1.0.0" | grep -q "$digest" || fail "the image is not complete in the registry"
pass "500 twice for every kind of request ($n500 injected, uploads and chunks included): pushed with $(json_get "$out" retries) retries"

# ---- cross-repository mount
out=$(builder push -f def.yaml --registry "$REG_URL" --repository other/edge --mount-from dcn/edge --json 2>err.txt) \
    || { cat err.txt; fail "push with mount_from"; }
[[ $(json_get "$out" blobs_mounted) == 4 && $(json_get "$out" bytes_uploaded) == 0 ]] || fail "expected 4 mounted blobs and no bytes: $out"
grep -q 'POST /v2/other/edge/blobs/uploads/?mount=sha256.*from=dcn.*edge HTTP/1.1" 201' "$REG_LOG" || fail "no mount in the registry log"
pass "cross-repository mount: other/edge got all 4 blobs by mount, 0 bytes uploaded"

# ---- plain http only when written
if builder push -f def.yaml --registry "127.0.0.1:$REG_PORT" 2>err.txt >/dev/null; then fail "a URL without scheme was accepted"; fi
grep -q "scheme" err.txt || { cat err.txt; fail "no clear error for a URL without scheme"; }
pass "a registry URL without http:// or https:// is refused"
echo "1 passed, 0 failed"
