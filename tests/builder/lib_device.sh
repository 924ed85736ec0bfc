# Helpers for the device tests: a device is a sysroot directory that real
# `ostree admin` commands install, upgrade and inspect, which is what
# Anaconda's ostreesetup and rpm-ostree do underneath. Source after lib.sh.

# ostree makes each deployment's root immutable (chattr +i); let rm remove it
unpin_deployments() { chattr -i "$T"/sysroot/ostree/deploy/*/deploy/*.[0-9] 2>/dev/null || true; }
on_exit unpin_deployments

# ks_option KS NAME: the value of --NAME= on the kickstart's ostreesetup line.
ks_option() { sed -n 's/^ostreesetup .*--'"$2"'=\([^ ]*\).*/\1/p' "$1"; }
ks_has_flag() { grep -Eq "^ostreesetup .*--$2( |\$)" "$1"; }

# install KS SYSROOT: ostreesetup as Anaconda's payload carries it out.
install_device() {
    local ks=$1 sysroot=$2 osname remote url ref gpg=true
    osname=$(ks_option "$ks" osname); remote=$(ks_option "$ks" remote); url=$(ks_option "$ks" url); ref=$(ks_option "$ks" ref)
    [[ -n $osname && -n $remote && -n $url && -n $ref ]] || { cat "$ks"; fail "kickstart has no complete ostreesetup line"; }
    ks_has_flag "$ks" nogpg && gpg=false
    mkdir -p "$sysroot"
    ostree admin init-fs "$sysroot" >/dev/null
    local repo=$sysroot/ostree/repo
    # an offline ISO's repository: where the installer mounts the ISO
    [[ -n ${DEV_ISO_ROOT:-} ]] && url=${url/#file:\/\/\/run\/install\/repo/file:\/\/$DEV_ISO_ROOT}
    ostree --repo="$repo" remote add --set=gpg-verify=$gpg "$remote" "$url"
    if [[ $gpg == true ]]; then
        # %pre puts the key the kickstart names into the installer's keyring
        local key_url
        key_url=$(sed -n "s|^curl -fsS -o /usr/share/ostree/trusted.gpg.d/[^ ]* '\\{0,1\\}\\([^']*\\)'\\{0,1\\}\$|\\1|p" "$ks" | head -n1)
        [[ -n $key_url ]] || fail "signed kickstart has no key download in %pre"
        [[ -n ${DEV_ISO_ROOT:-} ]] && key_url=${key_url/#file:\/\/\/run\/install\/repo/file:\/\/$DEV_ISO_ROOT}
        curl -fsS --noproxy '*' -o installer-key.gpg "$key_url" || fail "key $key_url not served"
        ostree --repo="$repo" remote gpg-import --keyring=installer-key.gpg "$remote" >/dev/null
    fi
    ostree --repo="$repo" pull "$remote" "$ref" >/dev/null || fail "installer pull of $remote:$ref"
    ostree admin os-init --sysroot="$sysroot" "$osname" >/dev/null
    ostree admin deploy --sysroot="$sysroot" --os="$osname" "$remote:$ref" >deploy.out 2>&1 ||
        { cat deploy.out; fail "ostree admin deploy of $remote:$ref"; }
    DEV_OS=$osname DEV_REMOTE=$remote DEV_REF=$ref
}

# deployments SYSROOT: "commit version" per deployment, default first.
deployments() {
    local d
    for d in $(ostree admin status --sysroot="$1" | awk '$1 == "*" {print $3; next} $2 ~ /^[0-9a-f]+\.[0-9]+$/ {print $2}'); do
        printf '%s %s\n' "${d%.*}" "$(sed -n 's/^VERSION_ID="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$1/ostree/deploy/$DEV_OS/deploy/$d/usr/lib/os-release")"
    done
}

upgrade_device() {
    local sysroot=$1; shift
    ostree --repo="$sysroot/ostree/repo" pull --commit-metadata-only "$DEV_REMOTE" "$DEV_REF" >/dev/null ||
        fail "metadata-only pull"
    ostree admin upgrade --sysroot="$sysroot" --os="$DEV_OS" "$@" >upgrade.out 2>&1 || { cat upgrade.out; fail "ostree admin upgrade"; }
}

