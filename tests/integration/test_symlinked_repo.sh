#!/bin/bash
# A repository that is a symlink (root/repo -> /srv/ostree/repo, the layout
# libostree's own tests serve). Default policy: links that stay inside the
# root are followed, one that leads out is refused with 403, and says why: a
# reason in the access log (reason=symlink-outside-root), one line on stderr
# per worker naming --follow-symlinks, a line at start, the policy in
# /-/status. With --follow-symlinks (or DCN_HOSTER_FOLLOW_SYMLINKS=on) it is
# served, and a real ostree pull works through it. Re-pointing the link
# (repo -> repo-v1, then atomically -> repo-v2), under either policy, never
# leaves cached bytes or validators of the old target behind, and the
# content watch follows the link to the new target; a link inside objects/
# and a file that is a symlink are watched too.
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
H1=$(printf 'one' | sha256sum | cut -c1-64)
H2=$(printf 'two' | sha256sum | cut -c1-64)
H3=$(printf 'three' | sha256sum | cut -c1-64)
OBJ=objects/${H1:0:2}/${H1:2}.dirtree       # in both versions, different bytes (a test artefact)
ONLY1=objects/${H2:0:2}/${H2:2}.dirmeta     # only in v1
LINKED=objects/${H3:0:2}/${H3:2}.dirtree    # a symlink to a file outside objects/

metric() { curl -s "$URL/-/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
status_field() { json_get "$(curl -s "$URL/-/status")" "$1"; }
# wait_body PATH EXPECTED WHAT: the body of PATH becomes EXPECTED within 5 s
# (inotify is asynchronous); a server that keeps old bytes fails.
wait_body() {
    local got i
    for i in $(seq 1 100); do
        got=$(curl -s "$URL/$1")
        [[ $got == "$2" ]] && { check_eq "$3" "$2" "$got"; return; }
        sleep 0.05
    done
    check_eq "$3" "$2" "$got"
}
wait_code() {
    local got i
    for i in $(seq 1 100); do
        got=$(http_code "$URL/$1")
        [[ $got == "$2" ]] && { check_eq "$3" "$2" "$got"; return; }
        sleep 0.05
    done
    check_eq "$3" "$2" "$got"
}

# make_version DIR TAG: a small repo-like tree whose files say TAG
make_version() {
    mkdir -p "$1/objects/${H1:0:2}" "$1/objects/${H2:0:2}" "$1/objects/${H3:0:2}" "$1/refs/heads"
    printf '[core]\nrepo_version=1\nmode=archive-z2\n' >"$1/config"
    printf 'object-%s-xxxxxxxxxxxxxxxx' "$2" >"$1/$OBJ"
    printf 'summary-%s-yyyyyyyyyyyyyyy' "$2" >"$1/summary"
    touch -d '2026-01-01 00:00:00' "$1/$OBJ"
    [[ $2 == v1 ]] && printf 'only-in-v1' >"$1/$ONLY1"
    return 0
}
make_version "$T/srv/repo-v1" v1
make_version "$T/srv/repo-v2" v2
touch -d '2026-01-02 00:00:00' "$T/srv/repo-v2/summary" # same size as v1's: only mtime tells them apart

# ---- 1. default policy: a link leading outside the root ---------------------------
mkdir -p "$T/root"
ln -s "$T/srv/repo-v1" "$T/root/repo"
ln -s loop "$T/root/loop"
hoster_start default --root "$T/root" --threads 1
check_eq "link outside the root: 403" 403 "$(http_code "$URL/repo/config")"
check_eq "link outside the root, object: 403" 403 "$(http_code "$URL/repo/$OBJ")"
check_eq "link outside the root, again: 403" 403 "$(http_code "$URL/repo/summary")"
check_eq "link loop: 403" 403 "$(http_code "$URL/loop")"
check_eq "/-/ready is 503 (the repository cannot be read)" 503 "$(http_code "$URL/-/ready")"
check_eq "/-/status names the policy" inside-root "$(status_field symlink_policy)"
hoster_flush_log
check_eq "access log: 3 refusals with reason=symlink-outside-root" 3 \
    "$(grep -c 'path="/repo/[^"]*" status=403 .* reason=symlink-outside-root ua=' "$HOSTER_LOG" || true)"
check_eq "access log: the loop's reason" 1 "$(grep -c 'path="/loop" status=403 .* reason=symlink-loop ' "$HOSTER_LOG" || true)"
check_eq "access log: no reason on other lines" 0 "$(grep -v 'path="/repo/\|path="/loop"' "$HOSTER_LOG" | grep -c 'reason=' || true)"
check_eq "stderr: the first refusal names the flag, once per worker" 1 \
    "$(grep -c '^dcn-hoster: worker 0: 403 for /repo/config: .*--follow-symlinks (DCN_HOSTER_FOLLOW_SYMLINKS=on).*reason=symlink-outside-root' "$HOSTER_ERR" || true)"
check_eq "stderr: the later refusals do not repeat it" 1 "$(grep -c 'worker 0: 403 for /repo/' "$HOSTER_ERR" || true)"
check_eq "stderr: the loop is explained once" 1 "$(grep -c 'worker 0: 403 for /loop: .*loops' "$HOSTER_ERR" || true)"
check_eq "stderr at start: the repository behind the link will be refused" 1 \
    "$(grep -c '^dcn-hoster: repository /repo: every request below it will get 403 (reason=symlink-outside-root): .*--follow-symlinks' "$HOSTER_ERR" || true)"
check_eq "startup summary names the policy" 1 \
    "$(grep -c 'serving .*; symlinks: followed only inside the root (--follow-symlinks follows all)' "$HOSTER_ERR" || true)"
hoster_stop

# ---- 2. default policy, a link that stays inside, re-pointed: nothing stale -------
mkdir -p "$T/inroot"
cp -a "$T/srv/repo-v1" "$T/srv/repo-v2" "$T/inroot/"
ln -s repo-v1 "$T/inroot/repo"
hoster_start inside --root "$T/inroot" --threads 1
check_eq "link inside the root: 200" 200 "$(http_code "$URL/repo/config")"
check_eq "object through the link" object-v1-xxxxxxxxxxxxxxxx "$(curl -s "$URL/repo/$OBJ")"
hits=$(metric dcn_hoster_cache_hits_total)
check_eq "object through the link, cached" object-v1-xxxxxxxxxxxxxxxx "$(curl -s "$URL/repo/$OBJ")"
check_eq "the second GET is a cache hit" "$((hits + 1))" "$(metric dcn_hoster_cache_hits_total)"
ln -s repo-v2 "$T/inroot/repo.tmp" && mv -T "$T/inroot/repo.tmp" "$T/inroot/repo"
wait_body "repo/$OBJ" object-v2-xxxxxxxxxxxxxxxx "inside link re-pointed: the object is v2's, not the cached v1 bytes"
hoster_stop

# ---- 3. --follow-symlinks: served, pulled, swapped ---------------------------------
hoster_start follow --root "$T/root" --threads 1 --follow-symlinks
check_eq "followed: config 200" 200 "$(http_code "$URL/repo/config")"
check_eq "/-/ready is 200" 200 "$(http_code "$URL/-/ready")"
check_eq "/-/status names the policy" follow "$(status_field symlink_policy)"
check_eq "startup summary names the policy" 1 "$(grep -c 'serving .*; symlinks: followed wherever they lead (--follow-symlinks)' "$HOSTER_ERR" || true)"
check_eq "no refusal line at start" 0 "$(grep -c 'will get 403' "$HOSTER_ERR" || true)"
check_eq "link loop is still refused" 403 "$(http_code "$URL/loop")"

# fill the cache from v1 (object, and the v1-only object), note the summary's ETag
check_eq "v1 object" object-v1-xxxxxxxxxxxxxxxx "$(curl -s "$URL/repo/$OBJ")"
check_eq "v1 object, cached" object-v1-xxxxxxxxxxxxxxxx "$(curl -s "$URL/repo/$OBJ")"
check_eq "v1-only object" only-in-v1 "$(curl -s "$URL/repo/$ONLY1")"
check_eq "v1-only object, cached" only-in-v1 "$(curl -s "$URL/repo/$ONLY1")"
hits=$(metric dcn_hoster_cache_hits_total)
curl -s "$URL/repo/$OBJ" >/dev/null
check_eq "v1 object is served from the cache" "$((hits + 1))" "$(metric dcn_hoster_cache_hits_total)"
fetch "$T/s1" "$URL/repo/summary" >/dev/null
etag1=$(hdr "$T/s1.head" ETag)
check_eq "summary of v1" summary-v1-yyyyyyyyyyyyyyy "$(cat "$T/s1.body")"
check_eq "summary of v1 revalidates" 304 "$(fetch "$T/s1b" -H "If-None-Match: $etag1" "$URL/repo/summary")"

# the content watch follows the link: an in-place rewrite in v1 (same size and mtime)
printf 'object-v1-rewritten-xxxxxx' | dd of="$T/srv/repo-v1/$OBJ" conv=notrunc status=none
touch -d '2026-01-01 00:00:00' "$T/srv/repo-v1/$OBJ"
wait_body "repo/$OBJ" object-v1-rewritten-xxxxxx "in-place rewrite behind the link is seen"

# re-point the link atomically to v2, no SIGHUP
ln -s "$T/srv/repo-v2" "$T/root/repo.tmp" && mv -T "$T/root/repo.tmp" "$T/root/repo"
wait_body "repo/$OBJ" object-v2-xxxxxxxxxxxxxxxx "link re-pointed: the object is v2's, not the cached v1 bytes"
wait_code "repo/$ONLY1" 404 "link re-pointed: an object only v1 had is 404, not cached"
check_eq "summary after the swap: a stale ETag gets the new body" 200 \
    "$(fetch "$T/s2" -H "If-None-Match: $etag1" "$URL/repo/summary")"
check_eq "summary after the swap: v2's bytes" summary-v2-yyyyyyyyyyyyyyy "$(cat "$T/s2.body")"
etag2=$(hdr "$T/s2.head" ETag)
[[ -n $etag2 && $etag2 != "$etag1" ]] && pass "summary ETag changed with the link ($etag1 -> $etag2)" \
    || bad "summary ETag did not change with the link: $etag1 / $etag2"
check_eq "summary of v2 revalidates" 304 "$(fetch "$T/s2b" -H "If-None-Match: $etag2" "$URL/repo/summary")"

# after the swap the watch is on v2, no longer on v1
curl -s "$URL/repo/$OBJ" >/dev/null
printf 'object-v2-rewritten-xxxxxx' | dd of="$T/srv/repo-v2/$OBJ" conv=notrunc status=none
touch -d '2026-01-01 00:00:00' "$T/srv/repo-v2/$OBJ"
wait_body "repo/$OBJ" object-v2-rewritten-xxxxxx "in-place rewrite in the new target is seen"

# a directory inside objects/ that is a link, re-pointed; a file that is a link
mkdir -p "$T/elsewhere/a" "$T/elsewhere/b" "$T/files"
H4=$(printf 'four' | sha256sum | cut -c1-64)
sub=objects/${H4:0:2}
printf 'via-a-zzzz' >"$T/elsewhere/a/${H4:2}.dirtree"
printf 'via-b-zzzz' >"$T/elsewhere/b/${H4:2}.dirtree"
ln -s "$T/elsewhere/a" "$T/srv/repo-v2/$sub"
wait_body "repo/$sub/${H4:2}.dirtree" via-a-zzzz "object in a linked objects/XX directory"
curl -s "$URL/repo/$sub/${H4:2}.dirtree" >/dev/null
printf 'via-a-yyyy' | dd of="$T/elsewhere/a/${H4:2}.dirtree" conv=notrunc status=none
wait_body "repo/$sub/${H4:2}.dirtree" via-a-yyyy "rewrite inside a linked objects/XX directory is seen"
ln -s "$T/elsewhere/b" "$T/srv/repo-v2/$sub.tmp" && mv -T "$T/srv/repo-v2/$sub.tmp" "$T/srv/repo-v2/$sub"
wait_body "repo/$sub/${H4:2}.dirtree" via-b-zzzz "linked objects/XX directory re-pointed"
printf 'file-link-one' >"$T/files/x"
touch -d '2026-01-01 00:00:00' "$T/files/x"
ln -s "$T/files/x" "$T/srv/repo-v2/$LINKED"
check_eq "an object that is a symlink" file-link-one "$(curl -s "$URL/repo/$LINKED")"
check_eq "an object that is a symlink, cached" file-link-one "$(curl -s "$URL/repo/$LINKED")"
printf 'file-link-two' | dd of="$T/files/x" conv=notrunc status=none
touch -d '2026-01-01 00:00:00' "$T/files/x"
check_eq "its target rewritten in place (same size and mtime): served anew at once" file-link-two \
    "$(curl -s "$URL/repo/$LINKED")"
kill -0 "$HOSTER_PID" || bad "dcn-hoster died"
hoster_stop

# ---- 4. the environment variable, and a real pull through two links ----------------
# libostree's test layout: root/ostree -> (absolute) srv, srv/gnomerepo -> repo
make_sample_root "$T/sample"
mkdir -p "$T/suite/srv" "$T/suite/httpd"
mv "$T/sample/repo" "$T/suite/srv/repo"
ln -sr "$T/suite/srv/repo" "$T/suite/srv/gnomerepo"
ln -s "$T/suite/srv" "$T/suite/httpd/ostree"
DCN_HOSTER_FOLLOW_SYMLINKS=on hoster_start env --root "$T/suite/httpd" --repo-path ostree/gnomerepo
check_eq "DCN_HOSTER_FOLLOW_SYMLINKS=on: /-/status" follow "$(status_field symlink_policy)"
C=$T/client
ostree init --repo="$C" --mode=archive
ostree remote add --repo="$C" --no-gpg-verify origin "$URL/ostree/gnomerepo"
if ostree --repo="$C" pull origin "$REF" >"$T/pull.out" 2>&1; then
    pass "ostree pull through two links"
else
    bad "ostree pull through two links: $(tail -n 3 "$T/pull.out")"
fi
check_eq "pulled commit" "$(ostree --repo="$T/suite/srv/repo" rev-parse "$REF")" \
    "$(ostree --repo="$C" rev-parse "origin:$REF" 2>/dev/null || true)"
ostree --repo="$C" fsck >/dev/null 2>&1 && pass "client fsck" || bad "client fsck"
hoster_stop
DCN_HOSTER_FOLLOW_SYMLINKS=maybe "$DCN_HOSTER" --root "$T/root" 2>"$T/bad-env.err" && bad "a bad value was accepted" \
    || check_eq "a bad DCN_HOSTER_FOLLOW_SYMLINKS value is refused" 1 \
        "$(grep -c "DCN_HOSTER_FOLLOW_SYMLINKS: bad value 'maybe'" "$T/bad-env.err" || true)"
finish
