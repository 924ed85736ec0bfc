# The dcn.edge collection as AAP gets it, for the playbook tests. Source
# after tests/rollout/lib.sh (or tests/builder/lib.sh).
#
# collection_install: `ansible-galaxy collection build` of collection/ and
# `ansible-galaxy collection install` of the tarball into $T/collections,
# which becomes the only place dcn.edge is found (ANSIBLE_COLLECTIONS_PATH);
# the playbooks then run as dcn.edge.<name>, from the installed copy. Also
# writes $T/ansible.cfg (YAML results, no retry files) and keeps Ansible's
# own files under $T. Sets COLLECTION_TARBALL and COLLECTION_DIR.

collection_install() {
    local t
    for t in ansible-galaxy ansible-playbook; do
        command -v $t >/dev/null 2>&1 || skip "no $t (scripts/deps/test.txt installs ansible)"
    done
    export LC_ALL=C.UTF-8   # ansible refuses other encodings
    export ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_HOME=$T/ansible-home ANSIBLE_ASYNC_DIR=$T/ansible-async
    export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
    cat >"$T/ansible.cfg" <<'CFG'
[defaults]
retry_files_enabled = False
interpreter_python = auto_silent
callback_result_format = yaml
stdout_callback = default
CFG
    export ANSIBLE_CONFIG=$T/ansible.cfg
    mkdir -p "$T/collection-build" "$T/collections"
    ansible-galaxy collection build "$DCN_SOURCE_DIR/collection" --output-path "$T/collection-build" \
        >"$T/collection-build.out" 2>&1 || { cat "$T/collection-build.out"; fail "ansible-galaxy collection build"; }
    COLLECTION_TARBALL=$(ls "$T"/collection-build/dcn-edge-*.tar.gz)
    ansible-galaxy collection install "$COLLECTION_TARBALL" -p "$T/collections" \
        >"$T/collection-install.out" 2>&1 || { cat "$T/collection-install.out"; fail "ansible-galaxy collection install"; }
    export ANSIBLE_COLLECTIONS_PATH=$T/collections
    COLLECTION_DIR=$T/collections/ansible_collections/dcn/edge
    [[ -f $COLLECTION_DIR/MANIFEST.json ]] || fail "dcn.edge is not installed in $T/collections"
    local where
    where=$(ansible-galaxy collection list dcn.edge 2>/dev/null | sed -n 's/^# \(.*\)$/\1/p')
    [[ $where == "$T/collections/ansible_collections" ]] || fail "dcn.edge is found elsewhere too: $where"
    echo "# dcn.edge built ($(basename "$COLLECTION_TARBALL")) and installed into $T/collections"
}
