#!/bin/bash
# Every command and definition the documentation shows is checked against
# the programs themselves (tests/docs/docs_blocks.py): each line of a code
# block in README.md and docs/*.md that runs dcn-builder or dcn-hoster uses
# a stage and flags their --help lists; every ```yaml block parses, and the
# image definitions among them are read by dcn-builder (`check`: the real
# parser and the definition's own checks). First the checker is shown a
# page with a made-up flag, an unknown stage and a broken definition, and
# must find all three, so a green run means something.
source "$(dirname "$0")/../builder/lib.sh"
[[ -x $DCN_HOSTER ]] || skip "dcn-hoster not built (its --help is the reference for its flags)"
python3 -c 'import yaml' 2>/dev/null || skip "PyYAML missing (python3-yaml, scripts/deps/test.txt)"
CHECK=(python3 "$DCN_SOURCE_DIR/tests/docs/docs_blocks.py")
cd "$T"
mkdir tmp

cat >bad.md <<'DOC'
# A page with mistakes

```sh
dcn-builder run -f /srv/dcn/dcn-edge.yaml --versoin 2.0.0
dcn-builder deploi -f x.yaml
dcn-hoster --root /srv/dcn/root --listen 0.0.0.0:8080 --no-such-flag
```

```yaml
name: dcn-edge
version: 1.0.0
ref: rhel/9/x86_64/edge
repo: /srv/dcn/root/repo
provider:
  kind: kubevirt
vm:
  imgae: datasource:rhel9
keep: 2
deltas_from: 3
```
DOC
if "${CHECK[@]}" commands --builder "$DCN_BUILDER" --hoster "$DCN_HOSTER" --tmp tmp bad.md 2>bad-cmd.err; then
    fail "the checker accepted a page with made-up flags"
fi
for want in "bad.md:4: dcn-builder has no flag --versoin" "bad.md:5: dcn-builder has no stage 'deploi'" \
            "bad.md:6: dcn-hoster has no flag --no-such-flag"; do
    grep -qF -- "$want" bad-cmd.err || fail "the checker missed '$want': $(cat bad-cmd.err)"
done
if "${CHECK[@]}" yaml --builder "$DCN_BUILDER" --hoster "$DCN_HOSTER" --tmp tmp bad.md 2>bad-yaml.err; then
    fail "the checker accepted a broken definition"
fi
for want in "bad.md:17: unknown key 'vm.imgae'" "bad.md:19: key 'deltas_from' (3) must be less than 'keep' (2"; do
    grep -qF -- "$want" bad-yaml.err || fail "the checker missed '$want': $(cat bad-yaml.err)"
done
pass "the checker finds a made-up flag, an unknown stage and a broken definition, at their lines in the page"

docs=("$DCN_SOURCE_DIR/README.md" "$DCN_SOURCE_DIR"/docs/*.md)
"${CHECK[@]}" commands --builder "$DCN_BUILDER" --hoster "$DCN_HOSTER" --tmp tmp "${docs[@]}" >cmd.out 2>cmd.err ||
    fail "commands in the documentation that do not exist:
$(cat cmd.err)"
pass "$(sed 's/^# //' cmd.out) in ${#docs[@]} pages: every stage and flag exists"
"${CHECK[@]}" yaml --builder "$DCN_BUILDER" --hoster "$DCN_HOSTER" --tmp tmp "${docs[@]}" >yaml.out 2>yaml.err ||
    fail "YAML in the documentation that does not parse or is not a valid definition:
$(cat yaml.err)"
grep -q "[1-9][0-9]* image definitions read by dcn-builder" yaml.out || fail "no image definition found in the docs: $(cat yaml.out)"
pass "$(sed 's/^# //' yaml.out)"
echo "3 passed, 0 failed"
