#!/usr/bin/env python3
"""What the documentation shows, checked against the programs it documents.

Reads README.md and docs/*.md, takes every fenced code block (``` with or
without a language, also indented inside list items) and:

  commands   every line of a block that runs dcn-builder or dcn-hoster (a
             program path ending in that name, after `sudo`/`VAR=value`,
             with `\\` continuations joined) uses a stage that exists and
             only flags that the program's --help lists. Usage synopses
             (`[--json]`, `a | b`) are read the same way.
  yaml       every ```yaml block parses (PyYAML); a block that is an image
             definition (top-level name/version/ref/repo...) is written to a
             file and read by dcn-builder itself (`check` with every stage
             skipped: the real parser and the definition's own checks, not
             the machine it runs on).
  extract    prints one block, its absolute paths moved under a directory
             (the operator-guide dry-run test uses it).

  docs_blocks.py commands|yaml --builder B --hoster H --tmp DIR FILE...
  docs_blocks.py extract FILE --section TEXT --lang L --contains TEXT [--root DIR]

Exit status 0 when all is well, 1 with one line per problem ("FILE:LINE: ...").
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
PROGRAMS = ("dcn-builder", "dcn-hoster")
DEFINITION_KEYS = {"name", "version", "ref", "repo", "compose", "provider", "registry", "deploy", "sign"}
# absolute paths the guide uses for the builder host; `extract --root` moves them
MOVED_PREFIXES = ("/srv/dcn", "/etc/dcn", "/usr/local/share/dcn")


def blocks(path):
    """(line of the opening fence, language, text, section heading) for each block."""
    out, section, inside = [], "", None
    with open(path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if inside is None:
            if line.startswith("#"):
                section = line.lstrip("#").strip()
            if m:
                inside = (i + 1, m.group(2), len(m.group(1)), [])
            continue
        if m and not m.group(2):
            start, lang, indent, body = inside
            out.append((start, lang, "\n".join(l[indent:] if l[:indent].strip() == "" else l for l in body), section))
            inside = None
        else:
            inside[3].append(line)
    return out


def help_of(program):
    text = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0")).stdout
    flags = set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)", text))
    flags |= set(re.findall(r"(?m)^\s+(-\w),", text)) | {"--help", "-h"}
    stages = set()
    m = re.search(r"(?ms)^Stages:\n(.*?)\n\n", text)
    if m:
        stages = {l.split()[0] for l in m.group(1).split("\n") if l.strip()}
    return flags, stages


def command_lines(text):
    """(offset in the block, argv) of each line that runs one of PROGRAMS."""
    joined, start, out = "", None, []
    for n, line in enumerate(text.split("\n")):
        if start is None:
            start = n
        if line.rstrip().endswith("\\"):
            joined += line.rstrip()[:-1] + " "
            continue
        joined += line
        try:
            words = shlex.split(joined, comments=True)
        except ValueError:
            words = joined.split()
        joined, first = "", start
        start = None
        while words and (words[0] in ("sudo", "exec", "$") or re.match(r"^[A-Z_][A-Z0-9_]*=", words[0])):
            words = words[1:]
        if words and os.path.basename(words[0]) in PROGRAMS:
            out.append((first, words))
    return out


def check_command(where, words, helps):
    program = os.path.basename(words[0])
    flags, stages = helps[program]
    problems, positional = [], []
    for w in words[1:]:
        if w in ("|", "||", "&&", ";", ">", ">>", "2>&1") or w.startswith(">") or w.startswith("2>"):
            if w in ("||", "&&", ";") or (w == "|" and not positional):
                break  # the rest is another command
            continue
        t = w.strip("[]")
        if t.startswith("-") and len(t) > 1:
            flag = t.split("=", 1)[0]
            if flag not in flags:
                problems.append("%s: %s has no flag %s (see %s --help)" % (where, program, flag, program))
        else:
            positional.append(t)
    if program == "dcn-builder" and positional:
        first = positional[0]
        if not first.startswith("<") and first not in stages:
            problems.append("%s: dcn-builder has no stage '%s' (stages: %s)" % (where, first, " ".join(sorted(stages))))
    return problems


def cmd_commands(args):
    helps = {"dcn-builder": help_of(args.builder), "dcn-hoster": help_of(args.hoster)}
    if not helps["dcn-builder"][1]:
        return ["%s --help lists no stages" % args.builder]
    problems, count = [], 0
    for path in args.files:
        for line, lang, text, _ in blocks(path):
            for offset, words in command_lines(text):
                count += 1
                problems += check_command("%s:%d" % (path, line + 1 + offset), words, helps)
    print("# %d command lines checked" % count)
    return problems


def is_definition(doc):
    return isinstance(doc, dict) and "apiVersion" not in doc and len(DEFINITION_KEYS & set(doc)) >= 2


def cmd_yaml(args):
    problems, n_yaml, n_def = [], 0, 0
    for path in args.files:
        for line, lang, text, _ in blocks(path):
            if lang != "yaml":
                continue
            n_yaml += 1
            where = "%s:%d" % (path, line + 1)
            try:
                docs = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as e:
                problems.append("%s: not YAML: %s" % (where, str(e).replace("\n", " ")))
                continue
            if not docs:
                problems.append("%s: an empty YAML block" % where)
            for d in docs:
                if isinstance(d, dict) and "kind" in d and "apiVersion" not in d:
                    problems.append("%s: kind %s without apiVersion" % (where, d["kind"]))
            if len(docs) != 1 or not is_definition(docs[0]):
                continue
            n_def += 1
            # dcn-builder reads it: lines in its messages are the file's, so
            # map them back to the document
            name = os.path.join(args.tmp, "%s-%d.yaml" % (os.path.basename(path), line + 1))
            with open(name, "w") as f:
                f.write(text + "\n")
            env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0",
                       DCN_BUILDER_RUN_SKIP="provision,install,compose,publish,package,push,teardown,deploy")
            r = subprocess.run([args.builder, "check", "-f", name, "--json"], capture_output=True, text=True,
                               timeout=60, env=env)
            if r.returncode != 0:
                try:
                    found = json.loads(r.stdout.strip().split("\n")[-1]).get("problems") or [r.stderr.strip()]
                except (ValueError, IndexError):
                    found = [r.stderr.strip() or "exit status %d" % r.returncode]
                for p in found:
                    m = re.match(r"^.*?\.yaml:(\d+): (.*)$", p, re.S)
                    problems.append("%s:%d: %s" % (path, line + int(m.group(1)), m.group(2)) if m else "%s: %s" % (where, p))
    print("# %d YAML blocks parsed, %d image definitions read by dcn-builder" % (n_yaml, n_def))
    return problems


def move_paths(text, root):
    for p in MOVED_PREFIXES:
        text = re.sub(r"(?<![\w./])" + re.escape(p) + r"(?=[/\s'\"]|$)", root + p, text, flags=re.M)
    return text


def cmd_extract(args):
    for line, lang, text, section in blocks(args.file):
        if args.section in section and lang == args.lang and args.contains in text:
            print(move_paths(text, args.root) if args.root else text)
            return []
    return ["%s: no %s block containing %r in a section matching %r" % (args.file, args.lang or "plain", args.contains,
                                                                          args.section)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("commands", "yaml"):
        p = sub.add_parser(name)
        p.add_argument("--builder", required=True)
        p.add_argument("--hoster", required=True)
        p.add_argument("--tmp", required=True)
        p.add_argument("files", nargs="+")
    p = sub.add_parser("extract")
    p.add_argument("file")
    p.add_argument("--section", required=True)
    p.add_argument("--lang", default="")
    p.add_argument("--contains", required=True)
    p.add_argument("--root")
    args = ap.parse_args()
    problems = {"commands": cmd_commands, "yaml": cmd_yaml, "extract": cmd_extract}[args.cmd](args)
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
