# Helpers for the installer ISO tests (tests/builder/test_iso_*.sh). Source
# after tests/builder/lib.sh.
#   iso_need_tools           skip (77) without xorriso, mtools, QEMU, OVMF
#   make_boot_iso OUT        the stand-in RHEL boot.iso (make-boot-iso.sh); skips (77) when it cannot be made
#   boot_cmdline ISO FW      the kernel command line the ISO's default entry boots with (boot-iso.sh)
#   iso_get ISO PATH DEST    copies one file or tree out of the ISO
ISO_HELPERS=$DCN_SOURCE_DIR/tests/iso

iso_need_tools() {
    local t missing=()
    for t in xorriso mtype mcopy qemu-system-x86_64; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    [[ -r /usr/share/OVMF/OVMF_CODE.fd ]] || missing+=(OVMF)
    if ((${#missing[@]})); then
        skip "missing ${missing[*]} (scripts/deps/test.txt installs them)"
    fi
}

make_boot_iso() {
    local rc=0
    "$ISO_HELPERS"/make-boot-iso.sh "$1" 2>"$T/make-boot-iso.err" || rc=$?
    if [[ $rc == 77 ]]; then skip "$(cat "$T/make-boot-iso.err")"; fi
    [[ $rc == 0 ]] || { cat "$T/make-boot-iso.err" >&2; fail "making the stand-in boot ISO"; }
}

boot_cmdline() {
    "$ISO_HELPERS"/boot-iso.sh "$1" "$2" 300 || fail "booting $1 through $2 (serial log above)"
}

iso_get() {
    rm -rf "$3"
    xorriso -osirrox on -indev "$1" -extract "$2" "$3" >"$T/iso_get.log" 2>&1 || { cat "$T/iso_get.log" >&2; fail "extracting $2 from $1"; }
}

# the El Torito and partition setup of an ISO without the block addresses:
# what must be the same before and after dcn-builder iso
boot_equipment() {
    {
        xorriso -indev "$1" -report_el_torito plain 2>&1 | grep -E '^(Volume id|Boot record|El Torito (cat path|img path|img opts|boot img))'
        xorriso -indev "$1" -report_system_area plain 2>&1 | grep -E '^(MBR partition path|GPT partition path|GPT type GUID|MBR partition  )'
    } | sed -E 's/ +$//; s/^(El Torito boot img +:.*) +[0-9]+$/\1/; s/^(MBR partition +: +[0-9]+ +0x[0-9a-f]+ +0x[0-9a-f]+) .*/\1/; s/ +$//'
}
