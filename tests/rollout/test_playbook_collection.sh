#!/bin/bash
# The dcn.edge collection the way AAP consumes it:
#   ansible-galaxy collection build of collection/ and install of the tarball
#     into a temporary path (the tarball holds every playbook and role, and
#     every role its meta/argument_specs.yml);
#   ansible-lint --profile production (Debian's ansible-lint) passes on the
#     source with nothing skipped: no skip_list/warn_list in its config, and
#     every `# noqa` has a comment above it saying why;
#   a missing or wrong variable fails before anything runs, naming it
#     (dcn-builder is a recorder here: it must never be called);
#   the AAP project of docs/operator-guide.md, section 8: its
#     collections/requirements.yml installs dcn.edge from a git repository
#     (this one, committed into a scratch repository) into the project's
#     collections/, and its wrapper playbook runs dcn.edge.build_and_host from
#     there; its execution-environment.yml has ansible-builder 3's sections
#     and installs dcn.edge, dcn-builder and what dcn-builder runs.
# The playbooks themselves run in rollout_playbook_build_and_host and
# rollout_playbook_upgrade_devices, from the installed collection too.
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/rollout/collection_lib.sh"
command -v ansible-lint >/dev/null 2>&1 || skip "no ansible-lint (scripts/deps/test.txt installs it)"
command -v git >/dev/null 2>&1 || skip "no git"
cd "$T"
collection_install
SRC=$DCN_SOURCE_DIR/collection

# what the tarball holds
tar tzf "$COLLECTION_TARBALL" | sort >tarball.list
for f in MANIFEST.json FILES.json meta/runtime.yml README.md CHANGELOG.md \
         playbooks/build_and_host.yml playbooks/rollout.yml playbooks/rollback.yml playbooks/status.yml playbooks/upgrade_devices.yml; do
    grep -qx "$f" tarball.list || fail "the tarball has no $f"
done
! grep -q 'ansible-lint' tarball.list || fail "the lint config went into the tarball"
ROLES=$(cd "$SRC/roles" && ls)
[[ $ROLES == *dcn_builder* && $ROLES == *dcn_device* ]] || fail "roles: $ROLES"
for r in $ROLES; do
    grep -qx "roles/$r/meta/argument_specs.yml" tarball.list || fail "role $r has no meta/argument_specs.yml"
    # role variables carry the role's prefix
    bad=$(python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])) or {}; print(" ".join(k for k in d if not k.startswith(sys.argv[2]+"_")))' \
          "$SRC/roles/$r/defaults/main.yml" "$r")
    [[ -z $bad ]] || fail "role $r: defaults without the ${r}_ prefix: $bad"
    bad=$(python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1]))["argument_specs"]; print(" ".join(sorted({k for e in d.values() for k in e.get("options",{}) if not k.startswith(sys.argv[2]+"_")})))' \
          "$SRC/roles/$r/meta/argument_specs.yml" "$r")
    [[ -z $bad ]] || fail "role $r: argument spec options without the ${r}_ prefix: $bad"
done
pass "$(basename "$COLLECTION_TARBALL"): $(grep -c '^playbooks/.*\.yml$' tarball.list) playbooks, roles $(echo $ROLES), each with argument specs and prefixed variables"

# ansible-lint --profile production, nothing skipped without a reason
python3 - "$SRC/.ansible-lint" <<'PY' || fail "the ansible-lint config skips or downgrades rules"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
sys.exit(0 if c.get("profile") == "production" and not c.get("skip_list") and not c.get("warn_list") else 1)
PY
[[ ! -e $SRC/.ansible-lint-ignore ]] || fail "an .ansible-lint-ignore file skips findings"
# (the comment sits right above the task whose module line carries the noqa)
while IFS=: read -r file line _; do
    sed -n "$((line > 4 ? line - 4 : 1)),$((line - 1))p" "$file" | grep -Eq '^[[:space:]]*#' ||
        fail "$file:$line: a noqa without a comment above its task saying why"
done < <(grep -rn '# *noqa' "$SRC" --include='*.yml' || true)
rc=0
(cd "$SRC" && XDG_CACHE_HOME=$T/lint-cache ansible-lint --nocolor --profile production) >lint.out 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat lint.out; fail "ansible-lint --profile production: exit $rc"; }
grep -q "Passed with production profile: 0 failure(s), 0 warning(s)" lint.out || { cat lint.out; fail "ansible-lint did not pass the production profile"; }
pass "ansible-lint --profile production: $(grep -o 'Passed with production profile.*' lint.out)"

# a missing or wrong variable fails before anything runs, naming it
mkdir -p bin
cat >bin/dcn-builder <<SH
#!/bin/sh
echo "\$*" >>"$T/dcn-builder.calls"
echo '{"ok": false, "error": "the recorder"}'
SH
chmod +x bin/dcn-builder
export PATH=$T/bin:$PATH
cat >inventory.yml <<'INV'
all:
  children:
    dcn_builder:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
INV
refused() { # PLAYBOOK MESSAGE [args...]: the playbook fails with MESSAGE before any other task
    local pb=$1 msg=$2 rc=0; shift 2
    ansible-playbook -i inventory.yml "$pb" "$@" >refused.out 2>&1 || rc=$?
    [[ $rc != 0 ]] || { cat refused.out; fail "$pb $*: succeeded"; }
    grep -qF -- "$msg" refused.out || { cat refused.out; fail "$pb $*: no '$msg'"; }
    [[ $(grep '^TASK \[' refused.out) == "TASK [dcn.edge.dcn_builder : Validating arguments against arg spec"* &&
       $(grep -c '^TASK \[' refused.out) == 1 ]] || { cat refused.out; fail "$pb $*: a task ran before the check"; }
}
refused dcn.edge.build_and_host "missing required arguments: dcn_builder_definition, dcn_builder_version"
refused dcn.edge.build_and_host "argument 'dcn_builder_deploy' is of type <class 'str'> and we were unable to convert to bool" \
    -e dcn_builder_definition=/x.yaml -e dcn_builder_version=1 -e dcn_builder_deploy=maybe
refused dcn.edge.rollback "dcn_builder_rollback_kind must be one of: image, content, got: everything" \
    -e dcn_builder_definition=/x.yaml -e dcn_builder_rollback_kind=everything
refused dcn.edge.rollout "argument 'dcn_builder_overrides' is of type <class 'str'> and we were unable to convert to dict" \
    -e dcn_builder_definition=/x.yaml -e dcn_builder_overrides=source
refused dcn.edge.status "missing required arguments: dcn_builder_definition"
[[ ! -e dcn-builder.calls ]] || fail "dcn-builder ran although the variables were wrong: $(cat dcn-builder.calls)"
pass "missing or wrong variables fail before anything runs, naming the variable (dcn-builder never called)"

# the AAP project of the operator guide: requirements.yml from git, a wrapper playbook
GUIDE=$DCN_SOURCE_DIR/docs/operator-guide.md
extract() { python3 "$DCN_SOURCE_DIR/tests/docs/docs_blocks.py" extract "$GUIDE" --section "8. Ansible Automation Platform" "$@"; }
mkdir -p src project/collections ee
cp -a "$SRC" src/collection
git -C src init -q -b main && git -C src add -A && git -C src -c user.name=t -c user.email=t@t.invalid commit -qm collection
extract --lang yaml --contains "type: git" >project/collections/requirements.yml || fail "guide: no git requirements.yml"
GIT_URL=$(sed -n 's/^ *- name: \(git+[^#]*\)#.*/\1/p' project/collections/requirements.yml)
[[ -n $GIT_URL ]] || fail "guide: requirements.yml names no git URL"
sed -i "s|$GIT_URL|git+file://$T/src|" project/collections/requirements.yml
(cd project && env -u ANSIBLE_COLLECTIONS_PATH ansible-galaxy collection install -r collections/requirements.yml -p collections) \
    >project-install.out 2>&1 || { cat project/collections/requirements.yml project-install.out; fail "the guide's requirements.yml does not install"; }
[[ -f project/collections/ansible_collections/dcn/edge/roles/dcn_device/meta/argument_specs.yml ]] ||
    fail "requirements.yml did not install dcn.edge into the project"
extract --lang yaml --contains "import_playbook: dcn.edge.build_and_host" >project/build_and_host.yml || fail "guide: no wrapper playbook"
rc=0
(cd project && env -u ANSIBLE_COLLECTIONS_PATH ansible-playbook -i "$T/inventory.yml" build_and_host.yml \
    -e dcn_builder_definition=/x.yaml) >wrapper.out 2>&1 || rc=$?
[[ $rc != 0 ]] && grep -qF "missing required arguments: dcn_builder_version" wrapper.out &&
    grep -q "collections/ansible_collections/dcn/edge/roles/dcn_builder" wrapper.out ||
    { cat wrapper.out; fail "the wrapper playbook does not run dcn.edge.build_and_host from the project's collections"; }
(cd project && env -u ANSIBLE_COLLECTIONS_PATH ansible-playbook -i "$T/inventory.yml" build_and_host.yml --list-tasks) >tasks.out 2>&1 ||
    { cat tasks.out; fail "--list-tasks of the wrapper"; }
grep -q "dcn.edge.dcn_builder : Build, publish, package and push the version" tasks.out || { cat tasks.out; fail "the wrapper's tasks are not the collection's"; }
pass "the guide's AAP project: requirements.yml installs dcn.edge from git into collections/, the wrapper playbook runs it"

# the execution environment of the guide
extract --lang yaml --contains "base_image:" >ee/execution-environment.yml || fail "guide: no execution-environment.yml"
grep -q "name: dcn.edge" ee/execution-environment.yml || fail "the execution environment does not install dcn.edge"
grep -q "dcn-builder" ee/execution-environment.yml || fail "the execution environment has no dcn-builder"
# Debian's ansible-lint has only ansible-builder 1's schema; ansible-builder 3's
# definition has seven top-level sections (its docs, "Execution environment definition")
python3 - ee/execution-environment.yml <<'PY' || { cat ee/execution-environment.yml; fail "the guide's execution-environment.yml"; }
import sys, yaml
ee = yaml.safe_load(open(sys.argv[1]))
sections = {"additional_build_files", "additional_build_steps", "build_arg_defaults", "dependencies", "images", "options", "version"}
problems = []
if ee.get("version") != 3: problems.append("version is not 3")
if set(ee) - sections: problems.append("unknown sections %s" % sorted(set(ee) - sections))
if not ee.get("images", {}).get("base_image", {}).get("name"): problems.append("no images.base_image.name")
if "dcn.edge" not in [c.get("name") for c in ee.get("dependencies", {}).get("galaxy", {}).get("collections", [])]:
    problems.append("dependencies.galaxy.collections has no dcn.edge")
system = " ".join(ee.get("dependencies", {}).get("system", []))
for pkg in ("openssh-clients", "gnupg2", "ca-certificates"):
    if pkg not in system: problems.append("dependencies.system has no %s" % pkg)
steps = " ".join(ee.get("additional_build_steps", {}).get("append_final", []))
for want in ("dcn-builder --help", "/usr/local/bin/", "oc", "virtctl"):
    if want not in steps: problems.append("append_final lacks %r" % want)
for f in ee.get("additional_build_files", []):
    if set(f) != {"src", "dest"}: problems.append("additional_build_files entry %s" % f)
print("\n".join(problems), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
pass "the guide's execution-environment.yml: ansible-builder 3 sections, dcn.edge, dcn-builder (checked by --help at build time), ssh, gpg, CA certificates, oc, virtctl"
echo "5 passed, 0 failed"
