#!/bin/bash
# The status page at /-/ as a person sees it: loaded in headless Chromium
# (Debian's chromium), whose DOM must show every hosted version of every ref
# with its commit, date and size, an adoption bar per version sized by its
# client count, the deltas between versions and the request rates; no
# script, no external resource, and text from the repository (a hostile
# subject and version) shown as text, never as markup. A screenshot is kept
# in the build directory: status-page.png. Skipped (77), saying so, without
# chromium.
source "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || skip "no chromium on PATH (Debian package chromium, scripts/deps/test.txt)"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
REPO=$T/root/repo
V2=$(ostree --repo="$REPO" rev-parse "$REF")
V1=$(ostree --repo="$REPO" rev-parse "$REF^")
# a second ref whose commit carries markup in its subject and version
HOSTILE_SUBJECT='<script>alert("x")</script> & <img src=http://192.0.2.1/x.png> '"'q'"
HOSTILE_VERSION='9<b>9</b>"&'
mkdir -p "$T/htree/etc"; echo h >"$T/htree/etc/h"
VH=$(ostree commit --repo="$REPO" -b edge/hostile --tree=dir="$T/htree" --subject="$HOSTILE_SUBJECT" \
    --add-metadata-string=version="$HOSTILE_VERSION" --timestamp='2024-03-01 00:00:00 UTC' --owner-uid=0 --owner-gid=0)

hoster_start page --root "$T/root" --threads 2 --trusted-proxy 127.0.0.1 --ops-listen 127.0.0.1:0
OPS=http://127.0.0.1:$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/ (operations.*|\1|p' "$HOSTER_ERR" | head -n1)
# 2.0.0: four clients, 1.0.0: two, the hostile version: none
for c in 1 2 3 4; do hcurl -o /dev/null -H "X-Forwarded-For: 198.51.100.$c" "$URL/repo/objects/${V2:0:2}/${V2:2}.commit"; done
for c in 5 6; do hcurl -o /dev/null -H "X-Forwarded-For: 198.51.100.$c" "$URL/repo/objects/${V1:0:2}/${V1:2}.commit"; done
# the sizes are counted in the background: wait until the page has them
for i in $(seq 1 100); do
    hcurl -D "$T/page.head" -o "$T/page.html" "$OPS/-/"
    grep -q '>counting<' "$T/page.html" || break
    sleep 0.1
done
check_eq "Content-Type" "text/html; charset=utf-8" "$(hdr "$T/page.head" Content-Type)"
check_eq "Content-Security-Policy" "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'" \
    "$(hdr "$T/page.head" Content-Security-Policy)"

chrome() {
    local dir
    dir=$(mktemp -d "$T/chromium.XXXXXX")
    HOME=$dir timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$dir/profile" \
        --window-size=1100,1500 "$@" 2>>"$T/chromium.err"
}
chrome --dump-dom "$OPS/-/" >"$T/dom.html" || { tail -5 "$T/chromium.err" >&2; fail "chromium --dump-dom failed"; }
SHOT=${DCN_BUILD_DIR:-$T}/status-page.png
rm -f "$SHOT"
chrome --screenshot="$SHOT" "$OPS/-/" >/dev/null || bad "chromium --screenshot failed: $(tail -3 "$T/chromium.err")"
[[ -s $SHOT ]] && pass "screenshot saved: $SHOT" || bad "no screenshot at $SHOT"

python3 - "$T/dom.html" "$T/page.html" "$REF" "$V1" "$V2" "$VH" "$HOSTILE_SUBJECT" "$HOSTILE_VERSION" <<'PY' >"$T/checks.out" || bad "the DOM check died"
import html.parser, sys
dom_path, raw_path, ref, v1, v2, vh, hsubject, hversion = sys.argv[1:]

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.rows, self.bars, self.deltas, self.stack = [], [], [], [], []
        self.cell, self.row, self.text, self.refs = None, None, [], []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self.stack.append(tag)
        cls = a.get("class", "")
        if tag == "tr" and cls in ("version", "delta"):
            self.row = {"kind": cls, "attrs": a, "cells": []}
        elif tag == "td" and self.row is not None:
            self.cell = []
        elif tag == "rect" and "bar" in cls.split():
            self.bars.append(a)
    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        if tag == "td" and self.cell is not None and self.row is not None:
            self.row["cells"].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            (self.rows if self.row["kind"] == "version" else self.deltas).append(self.row)
            self.row = None
    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.stack and self.stack[-1] == "code" and "h3" in self.stack:
            self.refs.append(data)

def check(what, cond, detail=""):
    print("PASS\t%s" % what if cond else "FAIL\t%s: %s" % (what, detail))

p = Page(); p.feed(open(dom_path, encoding="utf-8").read())
raw = Page(); raw.feed(open(raw_path, encoding="utf-8").read())
text = " ".join("".join(p.text).split())
check("the page shows both refs", sorted(p.refs) == sorted([ref, "edge/hostile"]), repr(p.refs))
rows = {r["attrs"].get("data-commit"): r["cells"] for r in p.rows}
check("three versions listed", len(p.rows) == 3 and set(rows) == {v1, v2, vh}, repr(list(rows)))
# columns: version, commit, date, size, clients, last fetch, subject
r2, r1 = rows.get(v2, [""] * 7), rows.get(v1, [""] * 7)
check("2.0.0 is the current version", r2[0] == "2.0.0 (current)", repr(r2[0]))
check("1.0.0 listed, not current", r1[0] == "1.0.0", repr(r1[0]))
check("commits shown", r2[1] == v2[:12] and r1[1] == v1[:12], repr((r2[1], r1[1])))
check("dates shown", r2[2] == "2024-02-01 00:00:00 UTC" and r1[2] == "2024-01-01 00:00:00 UTC", repr((r2[2], r1[2])))
check("sizes shown", r2[3].endswith(" kB") and r1[3].endswith(" kB"), repr((r2[3], r1[3])))
check("client counts 4 and 2 in the table", r2[4] == "4" and r1[4] == "2", repr((r2[4], r1[4])))
check("subjects shown", r2[6] == "DCN sample 2.0.0", repr(r2[6]))
bars = {b.get("data-commit"): b for b in p.bars}
check("one adoption bar per version", len(p.bars) == 3 and set(bars) == {v1, v2, vh}, repr(p.bars))
if len(bars) == 3:
    b2, b1 = bars[v2], bars[v1]
    check("bars carry the counts", (b2.get("data-clients"), b1.get("data-clients")) == ("4", "2"), repr((b2, b1)))
    w2, w1 = float(b2["width"]), float(b1["width"])
    check("bar lengths in proportion (4:2)", w2 > 0 and abs(w1 / w2 - 0.5) < 0.01, "%r %r" % (w2, w1))
    check("bars drawn without CSS (fill attribute)", all(b.get("fill") for b in p.bars))
check("two deltas listed", len(p.deltas) == 2, repr(p.deltas))
check("the delta 1.0.0 -> 2.0.0", any(d["cells"][0].startswith("1.0.0 ") and d["cells"][1].startswith("2.0.0 ") for d in p.deltas), repr(p.deltas))
check("the scratch delta to 2.0.0", any(d["cells"][0].startswith("nothing") for d in p.deltas), repr(p.deltas))
check("request rates section", "requests/s" in text and "Since start:" in text)
# hostile text: shown as text, nothing of it became markup
rh = rows.get(vh, [""] * 7)
check("hostile subject shown as text", rh[6] == " ".join(hsubject.split()), repr(rh[6]))
check("hostile version shown as text", rh[0] == hversion + " (current)", repr(rh[0]))
for page, name in ((p, "DOM"), (raw, "HTML")):
    tags = [t for t, _ in page.tags]
    check("%s: no script, image, frame, object, link or form elements" % name,
          not set(tags) & {"script", "img", "iframe", "frame", "object", "embed", "link", "form", "base", "audio", "video"},
          repr(sorted(set(tags))))
    ext = [(t, k, v) for t, a in page.tags for k, v in a.items()
           if k in ("src", "srcset", "href", "xlink:href", "action", "poster") and v and not v.startswith("/-/")]
    check("%s: no external resources or links" % name, not ext, repr(ext))
    check("%s: no inline event handlers" % name, not [k for _, a in page.tags for k in a if k.startswith("on")])
PY
while IFS=$'\t' read -r verdict msg; do
    case $verdict in PASS) pass "$msg" ;; FAIL) bad "$msg" ;; *) echo "$verdict $msg" ;; esac
done <"$T/checks.out"
[[ -s $T/checks.out ]] || bad "the DOM check printed nothing"
hoster_stop
finish
