#!/usr/bin/env python3
"""A served kickstart, read the way Anaconda's pykickstart reads it.

  ks_structure.py listing KS
      prints its structure: each command as the arguments shlex gives
      pykickstart (comments=True, POSIX), joined with " | " so that the
      argument boundaries show; each %section header, its body's lines
      that are not blank or shell comments (indented by two), and %end.
      Comment and blank lines outside sections are left out.
  ks_structure.py count KS VALUE N [VALUE N ...]
      each VALUE occurs exactly N times in the whole text, as a whole:
      not inside a longer run of letters, digits and "+/._-" (so a short
      value is not found inside the base64 of a key or certificate); one
      line per mismatch, exit 1.
  ks_structure.py section KS HEADER
      prints the body of the first section whose header line is HEADER
      (for running a %pre/%post body as a shell script).
"""
import re
import shlex
import sys

TOKEN = r"A-Za-z0-9+/._-"


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


def listing(path):
    out, section = [], None
    for raw in lines_of(path):
        s = raw.strip()
        if section is not None:
            if s == "%end":
                out.append("%end")
                section = None
            elif s and not s.startswith("#"):
                out.append("  " + raw)
            continue
        if not s or s.startswith("#"):
            continue
        if s.startswith("%") and not s.startswith(("%include", "%ksappend")):
            section = s
            out.append(s)
            continue
        out.append(" | ".join(shlex.split(raw, comments=True, posix=True)))
    if section is not None:
        out.append("UNTERMINATED " + section)
    return out


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "listing":
        print("\n".join(listing(path)))
        return 0
    if cmd == "count":
        text, bad = "\n".join(lines_of(path)), 0
        pairs = argv[3:]
        for value, n in zip(pairs[::2], pairs[1::2]):
            got = len(re.findall(rf"(?<![{TOKEN}]){re.escape(value)}(?![{TOKEN}])", text))
            if got != int(n):
                print(f"{value!r}: {got} times, expected {n}")
                bad = 1
        return bad
    if cmd == "section":
        body, inside = [], False
        for raw in lines_of(path):
            if inside:
                if raw.strip() == "%end":
                    break
                body.append(raw)
            elif raw.strip() == argv[3]:
                inside = True
        print("\n".join(body))
        return 0 if inside else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
