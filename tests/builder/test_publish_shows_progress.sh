#!/bin/bash
# Long steps show their progress (docs/builder.md, "Progress").
# - stderr not a terminal (log mode): compose and publish print
#   event=progress lines with counts and totals; the delta's counts come
#   from what libostree reports (parts, objects, bytes), and match the
#   import's objects and the byte total counted before the call.
# - A step blocked in one call still reports: publish 2.0.0 waits for the
#   release lock this script holds; with --progress-interval 0.05 it prints
#   heartbeats while it waits, and the script lets go only after it has
#   seen them (no timing assumption).
# - Under a pty (script(1)): one live line, drawn with \r and erased with
#   ESC[K, and no event=progress lines; events still print.
# - --json keeps stdout to one line; --progress none prints no progress
#   lines; a bad --progress is a usage error.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_tree rootfs 1
write_def def.yaml
grep_count() { grep -c -- "$1" "$2" || true; }

# --- log mode: compose and publish 1.0.0 ---
out=$(builder compose -f def.yaml --json 2>compose1.err) || fail "compose 1.0.0: $(cat compose1.err)"
grep -qE 'stage=compose event=progress task=read-tree files=([0-9]+) files_total=\1 bytes=([0-9]+) bytes_total=\2 .* done=true ' compose1.err ||
    fail "compose: no final read-tree line with files and bytes equal to their totals: $(grep task= compose1.err)"
out=$(builder publish -f def.yaml --json 2>publish1.err) || fail "publish 1.0.0: $(cat publish1.err)"
[[ $(printf '%s\n' "$out" | wc -l) == 1 && $(json_get "$out" ok) == true ]] || fail "--json: stdout is not one JSON line: $out"
import_line=$(grep 'event=progress task=import ' publish1.err | grep ' done=true ') ||
    fail "publish: no final import line: $(cat publish1.err)"
[[ $import_line =~ objects=([0-9]+)\ objects_total=([0-9]+) && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] ||
    fail "import: objects done != total: $import_line"
n=${BASH_REMATCH[1]}
# the byte total counted beforehand is what libostree's parts add up to (exact for a scratch delta)
grep -qE "event=progress task=delta from=scratch phase=done parts=1 objects=$n objects_total=$n bytes=([1-9][0-9]*) bytes_total=\1 .* done=true " publish1.err ||
    fail "delta: libostree's report (1 part, $n objects, bytes = total) not in the final delta line: $(grep task=delta publish1.err)"
grep -qE "event=delta from=scratch .* parts=1 objects=$n size=[1-9][0-9]* uncompressed=[1-9]" publish1.err ||
    fail "delta event without parts/size: $(grep event=delta publish1.err)"
pass "log mode: read-tree, import ($n objects) and delta (1 part, $n objects, bytes as counted before, from libostree) counted to their totals"

# --- heartbeats while blocked: publish 2.0.0 waits for the lock we hold ---
make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 2>compose2.err || fail "compose 2.0.0: $(cat compose2.err)"
exec 9>"root/repo/.dcn-release.lock"
flock 9
DCN_BUILDER_PROGRESS_INTERVAL=0.05 "$DCN_BUILDER" publish -f def.yaml --version 2.0.0 2>publish2.err 9>&- &
pub=$!
track_pid "$pub"
for _ in $(seq 1 1200); do
    (($(grep_count 'event=progress task=wait-lock ' publish2.err) >= 3)) && break
    kill -0 "$pub" 2>/dev/null || break
    sleep 0.1
done
beats=$(grep_count 'event=progress task=wait-lock ' publish2.err)
flock -u 9
exec 9>&-
wait "$pub" || fail "publish 2.0.0 failed: $(cat publish2.err)"
((beats >= 3)) || fail "no heartbeats while blocked on the lock: $(cat publish2.err)"
grep -q 'event=waiting lock=' publish2.err || fail "no waiting event"
grep -qE 'event=progress task=wait-lock lock=[^ ]*\.dcn-release\.lock task_s=[0-9.]+ elapsed_s=' publish2.err ||
    fail "heartbeat line without the lock or times: $(grep task=wait-lock publish2.err | head -2)"
grep -qE 'event=progress task=wait-lock .* done=true ' publish2.err || fail "the wait's heartbeats were not closed"
grep -qE 'event=progress task=delta from=1\.0\.0 phase=done .* done=true ' publish2.err ||
    fail "no delta line from 1.0.0: $(grep task=delta publish2.err)"
grep -q 'event=published version=2.0.0' publish2.err || fail "2.0.0 not published"
pass "blocked in one call (flock): $beats heartbeats at --progress-interval 0.05, closed when it went on"

# --- a terminal: one live line ---
if command -v script >/dev/null; then
    make_tree rootfs 1
    echo "tty-only" >rootfs/etc/dcn/tty.conf
    builder compose -f def.yaml --version 3.0.0 2>compose3.err || fail "compose 3.0.0: $(cat compose3.err)"
    TERM=xterm script -qec "$(printf '%q ' "$DCN_BUILDER" publish -f def.yaml --version 3.0.0)" /dev/null >tty.out ||
        fail "publish 3.0.0 under a pty failed: $(cat -v tty.out | tail -5)"
    grep -qa $'\rpublish: import ' tty.out || fail "pty: no import line drawn with \\r: $(cat -v tty.out | head -c 600)"
    grep -qa $'\rpublish: delta from=2.0.0 phase=' tty.out || fail "pty: no delta line: $(cat -v tty.out | head -c 900)"
    grep -qa $'\033\\[K' tty.out || fail "pty: the line is never erased to its end"
    # an event after the line: erased first, so the event starts at column 0
    grep -qa $'\r\033\\[Kdcn-builder stage=publish event=' tty.out || fail "pty: an event was printed over the live line"
    ! grep -qa 'event=progress' tty.out || fail "pty: key=value progress lines on a terminal"
    grep -qa 'event=published version=3.0.0' tty.out || fail "pty: events are gone"
    pass "under a pty: the live line is drawn with \\r, erased before events, no progress lines"
else
    echo "# script(1) (util-linux) not installed: the pty check is skipped"
fi

# --- none, and a bad mode ---
echo "none" >rootfs/etc/dcn/none.conf
builder compose -f def.yaml --version 4.0.0 --progress none 2>compose4.err || fail "compose 4.0.0: $(cat compose4.err)"
! grep -q 'event=progress' compose4.err || fail "--progress none printed progress lines"
grep -q 'event=staged version=4.0.0' compose4.err || fail "--progress none lost the events"
rc=0
DCN_BUILDER_PROGRESS=sometimes "$DCN_BUILDER" compose -f def.yaml --version 4.0.0 2>bad.err || rc=$?
[[ $rc == 2 ]] && grep -q -- "--progress: expected auto, tty, log or none, got 'sometimes'" bad.err ||
    fail "a bad DCN_BUILDER_PROGRESS: exit $rc: $(cat bad.err)"
pass "--progress none: events only; a bad mode: exit 2"
