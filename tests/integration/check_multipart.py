"""The multipart/byteranges checker: CONTENT-TYPE BODY FILE SIZE MODE RANGES
(RANGES "a-b,c-d": the satisfiable ranges as requested, offsets inclusive).
MODE exact: the parts must be exactly those ranges in that order; MODE
union: overlapping ranges may be coalesced, so the parts must cover
exactly the union of the ranges. Prints one line per problem.
Used by test_http_ranges.sh."""
import re, sys
ctype, bodyf, srcf, size, mode, want = sys.argv[1:7]
size = int(size)
body = open(bodyf, "rb").read()
src = open(srcf, "rb").read()
want = [tuple(int(x) for x in r.split("-")) for r in want.split(",")]
errors = []
m = re.fullmatch(r'multipart/byteranges\s*;\s*boundary=("?)([^";]+)\1\s*', ctype, re.I)
if not m:
    print("Content-Type is not multipart/byteranges with a boundary: %r" % ctype)
    sys.exit(1)
delim = b"--" + m.group(2).encode()
# The first delimiter may follow a preamble; every later one is CRLF--boundary.
pos = body.find(delim)
if pos < 0 or (pos > 0 and body[pos - 2:pos] != b"\r\n"):
    print("no opening boundary line")
    sys.exit(1)
pos += len(delim)
parts = []
while True:
    if body[pos:pos + 2] == b"--":
        break
    if body[pos:pos + 2] != b"\r\n":
        errors.append("junk after a boundary at offset %d: %r" % (pos, body[pos:pos + 20]))
        break
    pos += 2
    end = body.find(b"\r\n\r\n", pos)
    if end < 0:
        errors.append("part without a header end")
        break
    hdrs = {}
    for line in body[pos:end].split(b"\r\n"):
        n, _, v = line.partition(b":")
        hdrs[n.strip().lower().decode()] = v.strip().decode("latin-1")
    pos = end + 4
    cr = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", hdrs.get("content-range", ""))
    if not cr:
        errors.append("part %d: bad Content-Range %r" % (len(parts) + 1, hdrs.get("content-range")))
        break
    a, b, total = (int(x) for x in cr.groups())
    if total != size or a > b or b >= size:
        errors.append("part %d: Content-Range %s impossible for size %d" % (len(parts) + 1, hdrs["content-range"], size))
        break
    data = body[pos:pos + b - a + 1]
    if data != src[a:b + 1]:
        errors.append("part %d (%d-%d): bytes differ from the file" % (len(parts) + 1, a, b))
    parts.append((a, b, hdrs.get("content-type")))
    pos += b - a + 1
    if body[pos:pos + 2 + len(delim)] != b"\r\n" + delim:
        errors.append("part %d (%d-%d): not followed by CRLF and the boundary (length wrong?)" % (len(parts), a, b))
        break
    pos += 2 + len(delim)
got = [(a, b) for a, b, _ in parts]
if mode == "exact" and got != want:
    errors.append("parts %s, expected %s" % (got, want))
if mode == "union":
    cover = lambda rs: sorted(set(i for a, b in rs for i in range(a, b + 1)))
    if cover(got) != cover(want):
        errors.append("parts %s do not cover exactly %s" % (got, want))
for a, b, pct in parts:
    if pct is None:
        errors.append("part %d-%d has no Content-Type (RFC 9110 14.6: SHOULD be the 200's)" % (a, b))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
