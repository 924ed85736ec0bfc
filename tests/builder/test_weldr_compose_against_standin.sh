#!/bin/bash
# compose with the weldr backend against the stand-in osbuild-composer
# (tests/weldr-standin), provider local (the socket used directly):
# 1.0.0 composes without a parent (nothing hosted yet), is published and
# served by dcn-hoster; 2.0.0 is composed with ostree.url = the hosted repo,
# so the stand-in fetches refs/heads/<ref> from dcn-hoster as composer does
# and commits on top of the published head; a client upgrades through the
# delta. Then: missing packages are named, a FAILED compose shows composer's
# log, a compose that never ends hits composer.timeout_s and is cancelled.
# Every request is checked by the stand-in against the published API.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"

standin_start --build-seconds 0.5
cat >def.yaml <<EOF
name: dcn-edge
version: 1.0.0
ref: $REF
repo: ./root/repo
keep: 3
deltas_from: 2
compose:
  backend: weldr
composer:
  socket: $WELDR_SOCK
  poll_s: 1
  timeout_s: 120
blueprint:
  packages: [vim-enhanced, "tmux=3.*"]
  customizations: |
    [customizations.kernel]
    append = "quiet"
EOF

# 1.0.0: first version, no parent, no url
out=$(builder compose -f def.yaml --json 2>compose1.err) || { cat compose1.err >&2; fail "compose 1.0.0"; }
[[ $(json_get "$out" changed) == true ]] || fail "compose 1.0.0 did not stage anything: $out"
grep -q 'event=compose-started.*parent=none url=-' compose1.err || fail "first version should have no parent: $(cat compose1.err)"
grep -q 'event=depsolved blueprint=dcn-edge packages=4' compose1.err || fail "depsolve not reported"
grep -q 'event=downloaded' compose1.err || fail "no download event"
python3 - "$WELDR_LOG" <<'EOF' || fail "compose request for 1.0.0"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
bp = [r for r in reqs if r.get("path") == "/api/v1/blueprints/new"][0]
assert bp["content_type"] == "text/x-toml", bp
assert 'name = "dcn-edge"' in bp["body"] and 'version = "1.0.0"' in bp["body"], bp["body"]
assert '[[packages]]\nname = "tmux"\nversion = "3.*"' in bp["body"], bp["body"]
assert "[customizations.kernel]" in bp["body"]
c = [r for r in reqs if r.get("path") == "/api/v1/compose"][0]
assert c["content_type"] == "application/json", c
body = json.loads(c["body"])
assert body == {"blueprint_name": "dcn-edge", "compose_type": "edge-commit", "branch": "master", "size": 0,
                "ostree": {"ref": "rhel/9/x86_64/edge", "parent": "", "url": ""}}, body
EOF
[[ -z $(ls .dcn-state/dcn-edge/ | grep -- '-commit.tar') ]] || fail "the downloaded tarball was left behind"
[[ $(standin_requests DELETE /api/v1/compose/delete/) == 1 ]] || fail "the finished compose was not deleted from composer"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish 1.0.0"
ostree --repo=root/repo cat "$REF" /usr/share/dcn-standin/packages.txt | grep -q tmux || fail "composed tree lacks the blueprint's packages"
pass "1.0.0 composed by the stand-in (no parent), imported and published"

serve_root "$T/root"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull 1.0.0"
head1=$(ostree --repo=root/repo rev-parse "$REF")

# 2.0.0 on top of the hosted head
make_tree "$T/base" 2
log_mark
out=$(builder compose -f def.yaml --version 2.0.0 --composer-url "$URL/repo" --json 2>compose2.err) ||
    { cat compose2.err >&2; fail "compose 2.0.0"; }
grep -q "event=compose-started.*parent=$head1 url=$URL/repo" compose2.err || fail "2.0.0 not started on the hosted head: $(grep compose-started compose2.err)"
paths_since_mark | grep -qx "/repo/refs/heads/$REF" || fail "composer did not fetch refs/heads from the hoster"
python3 - "$WELDR_LOG" "$head1" "$URL" <<'EOF' || fail "stand-in did not build on the published head"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in reqs if "fetch" in r][-1]
assert f["fetch"] == sys.argv[3] + "/repo/refs/heads/rhel/9/x86_64/edge" and f["status"] == 200 and f["body"] == sys.argv[2], f
done = [r for r in reqs if "compose_finished" in r][-1]
assert done["parent"] == sys.argv[2], done
EOF
builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1 || fail "publish 2.0.0"
[[ $(ostree --repo=root/repo rev-parse "$REF^") == "$head1" ]] || fail "2.0.0's parent is not 1.0.0"
log_mark
ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null
ostree --repo=client pull dcn "$REF" >/dev/null || fail "upgrade pull"
paths_since_mark | grep -q '^/repo/deltas/' || fail "the upgrade did not use a delta"
if paths_since_mark | grep -qE '\.(filez|dirtree)$'; then fail "the upgrade fetched loose objects"; fi
ostree --repo=client cat "dcn:$REF" /usr/etc/dcn/new.conf | grep -q "added in v2" || fail "client does not have 2.0.0"
pass "2.0.0 composed on the published head (refs/heads fetched from the hoster), published, pulled via the delta"

# missing packages: named, nothing staged
standin_stop
standin_start --missing no-such-pkg
sed -i 's/packages: \[vim-enhanced, "tmux=3.\*"\]/packages: [vim-enhanced, no-such-pkg]/' def.yaml
if builder compose -f def.yaml --version 2.0.1 --composer-url "$URL/repo" 2>missing.err; then fail "a missing package was accepted"; fi
grep -q "blueprint dcn-edge: missing packages: no-such-pkg" missing.err || fail "unclear missing-package error: $(cat missing.err)"
[[ $(standin_requests POST /api/v1/compose) == 0 ]] || fail "a compose was started despite the depsolve failure"
sed -i 's/packages: \[vim-enhanced, no-such-pkg\]/packages: [vim-enhanced]/' def.yaml
pass "missing packages are named: $(grep -o 'missing packages: [^(]*' missing.err)"

# a FAILED compose: the error carries composer's log
standin_stop
standin_start --fail --build-seconds 0.2
if builder compose -f def.yaml --version 2.0.1 --composer-url "$URL/repo" 2>failed.err; then fail "a FAILED compose passed"; fi
grep -q "FAILED in osbuild-composer; end of its log: .*transaction failed" failed.err || fail "FAILED without the log: $(cat failed.err)"
pass "FAILED compose reported with the end of composer's log"

# never finishes: timeout, cancelled
standin_stop
standin_start --hang
if builder compose -f def.yaml --version 2.0.1 --composer-url "$URL/repo" --composer-timeout 3 2>hang.err; then fail "a hung compose passed"; fi
grep -q "still RUNNING after 3 s (composer.timeout_s); cancelled" hang.err || fail "timeout not reported: $(cat hang.err)"
[[ $(standin_count compose_cancelled) == 1 ]] || fail "the timed-out compose was not cancelled"
standin_no_violations
pass "compose timeout cancels the compose and says so; every request followed the Weldr API"
echo "4 passed, 0 failed"
