#!/bin/bash
# Cached small objects are never served stale: with the content watch the
# cache serves hits without a stat, and a file that is rewritten in place
# (same size and mtime), replaced by rename, deleted or re-created under a new
# objects/XX directory is served as it is now, without SIGHUP.
source "$(dirname "$0")/lib.sh"

root=$T/root
obj=repo/objects/ab/$(printf 'c%.0s' $(seq 62)).dirtree
mkdir -p "$root/repo/objects/ab"
echo "[core]" >"$root/repo/config"
printf 'version-one-xxxxxxxxxxxxxxxxxxxx' >"$root/$obj"
touch -d '2026-01-01 00:00:00' "$root/$obj"

hoster_start cache --root "$root" --threads 1

metric() { curl -s "$URL/-/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
get() { curl -s "$URL/$obj"; }

# fill, then hit: the hit must not need a stat (the watch covers the repo)
require_eq "first GET" version-one-xxxxxxxxxxxxxxxxxxxx "$(get)"
hits0=$(metric dcn_hoster_cache_hits_total)
require_eq "second GET" version-one-xxxxxxxxxxxxxxxxxxxx "$(get)"
require_eq "second GET is a cache hit" "$((hits0 + 1))" "$(metric dcn_hoster_cache_hits_total)"
pass "filled the cache and hit it"

# rewrite in place: same inode, same size, same mtime
printf 'version-two-yyyyyyyyyyyyyyyyyyyy' | dd of="$root/$obj" conv=notrunc status=none
touch -d '2026-01-01 00:00:00' "$root/$obj"
sleep 0.2 # inotify delivery to the main thread
require_eq "after an in-place rewrite (same size and mtime)" version-two-yyyyyyyyyyyyyyyyyyyy "$(get)"
require_eq "cached again after the rewrite" version-two-yyyyyyyyyyyyyyyyyyyy "$(get)"
pass "in-place rewrite served fresh"

# replace by rename
printf 'version-three-zzzzzzzzzzzzzzzzzz' >"$T/new"
touch -d '2026-01-01 00:00:00' "$T/new"
mv "$T/new" "$root/$obj"
sleep 0.2
require_eq "after a replace by rename" version-three-zzzzzzzzzzzzzzzzzz "$(get)"
pass "rename-over served fresh"

# delete: 404, not the cached bytes
rm "$root/$obj"
sleep 0.2
require_eq "after delete" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/$obj")"
pass "deleted object is 404"

# a directory made after start is watched too
obj2=repo/objects/cd/$(printf 'd%.0s' $(seq 62)).dirmeta
mkdir -p "$root/repo/objects/cd"
printf 'first' >"$root/$obj2"
sleep 0.2
require_eq "object in a new directory" first "$(curl -s "$URL/$obj2")"
require_eq "object in a new directory, cached" first "$(curl -s "$URL/$obj2")"
printf 'other' | dd of="$root/$obj2" conv=notrunc status=none
sleep 0.2
require_eq "rewritten object in a new directory" other "$(curl -s "$URL/$obj2")"
pass "new objects/XX directories are watched"

# without the watch's guarantee (no repo at start) every hit is checked by stat
root2=$T/root2
mkdir -p "$root2"
hoster_start nowatch --root "$root2" --threads 1
mkdir -p "$root2/repo/objects/ab"
printf 'late-one' >"$root2/$obj"
require_eq "repo created after start" late-one "$(curl -s "$URL/$obj")"
require_eq "repo created after start, cached" late-one "$(curl -s "$URL/$obj")"
printf 'late-two' | dd of="$root2/$obj" conv=notrunc status=none
require_eq "rewrite in a repo created after start" late-two "$(curl -s "$URL/$obj")"
pass "unwatched repo falls back to a stat per hit"
