/* runtime: the hoster and the shared objects it loads. See runtime.h. */
#include "runtime.h"
#include "error.h"
#include "layer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#ifndef DCN_HOSTER_BUILD_PATH
#define DCN_HOSTER_BUILD_PATH ""
#endif

gboolean dcn_ldd_parse(const char *text, GPtrArray *paths, char **missing)
{
    *missing = NULL;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *line = g_strstrip(*l);
        if (!*line || strstr(line, "statically linked") || strstr(line, "not a dynamic executable"))
            continue;
        const char *arrow = strstr(line, " => ");
        const char *path;
        if (arrow) {
            path = arrow + 4;
            if (g_str_has_prefix(path, "not found")) {
                *missing = g_strndup(line, (gsize)(arrow - line));
                return FALSE;
            }
        } else {
            path = line; /* "/lib64/ld-linux-x86-64.so.2 (0x...)" or "linux-vdso.so.1 (0x...)" */
        }
        if (path[0] != '/')
            continue; /* the vDSO, or "libx.so => (0x...)" with no file */
        const char *end = strstr(path, " (0x");
        g_autofree char *p = end ? g_strndup(path, (gsize)(end - path)) : g_strdup(path);
        g_strchomp(p);
        gboolean seen = FALSE;
        for (guint i = 0; i < paths->len && !seen; i++)
            seen = g_str_equal(paths->pdata[i], p);
        if (!seen)
            g_ptr_array_add(paths, g_steal_pointer(&p));
    }
    return TRUE;
}

const char *dcn_elf_oci_arch(guint16 m)
{
    switch (m) {
    case EM_X86_64: return "amd64";
    case EM_AARCH64: return "arm64";
    case EM_386: return "386";
    case EM_PPC64: return "ppc64le";
    case EM_S390: return "s390x";
    case EM_RISCV: return "riscv64";
    default: return NULL;
    }
}

static gboolean read_elf_arch(const char *path, const char **arch, GError **error)
{
    Elf64_Ehdr h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, &h, sizeof h) : -1;
    if (fd >= 0)
        close(fd);
    if (n < (ssize_t)EI_NIDENT + 4 || memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s is not an ELF executable", path);
        return FALSE;
    }
    /* e_machine sits at the same offset in 32- and 64-bit headers */
    *arch = dcn_elf_oci_arch(h.e_machine);
    if (!*arch) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: unknown ELF machine %u", path, h.e_machine);
        return FALSE;
    }
    return TRUE;
}

char *dcn_runtime_find_hoster(const char *explicit_path, GError **error)
{
    if (explicit_path) {
        if (!g_file_test(explicit_path, G_FILE_TEST_IS_EXECUTABLE) || g_file_test(explicit_path, G_FILE_TEST_IS_DIR)) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                        "image.hoster: %s is not an executable file", explicit_path);
            return NULL;
        }
        return g_strdup(explicit_path);
    }
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        g_autofree char *sibling = g_build_filename(dir, "dcn-hoster", NULL);
        if (g_file_test(sibling, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&sibling);
    }
    if (*DCN_HOSTER_BUILD_PATH && g_file_test(DCN_HOSTER_BUILD_PATH, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup(DCN_HOSTER_BUILD_PATH);
    g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                "no dcn-hoster next to dcn-builder%s%s: set image.hoster (--hoster)",
                *DCN_HOSTER_BUILD_PATH ? " nor at " : "", DCN_HOSTER_BUILD_PATH);
    return NULL;
}

static const char passwd[] = "root:x:0:0:root:/:/sbin/nologin\n"
                             "dcn:x:1001:0:dcn-hoster:/srv/dcn:/sbin/nologin\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n";
static const char group[] = "root:x:0:\n"
                            "nogroup:x:65534:\n";

gboolean dcn_runtime_hoster_version(const char *hoster, char **version, char **commit)
{
    *version = *commit = NULL;
    const char *argv[] = {hoster, "--version", NULL};
    g_autofree char *out = NULL;
    gint status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL) || !out)
        return FALSE;
    g_autoptr(GRegex) re = g_regex_new("^dcn-hoster ([0-9A-Za-z.+~-]+) \\(commit ([0-9a-z-]+)\\)$", G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    if (!g_regex_match(re, out, 0, &m))
        return FALSE;
    *version = g_match_info_fetch(m, 1);
    *commit = g_match_info_fetch(m, 2);
    return TRUE;
}

gboolean dcn_runtime_collect(const char *hoster, GPtrArray *entries, const char **arch, GError **error)
{
    if (!read_elf_arch(hoster, arch, error))
        return FALSE;
    /* ldd asks the loader (LD_TRACE_LOADED_OBJECTS): the same search the
     * program gets at run time, so the list is exactly what it maps */
    const char *argv[] = {"ldd", hoster, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "LC_ALL", "C", TRUE);
    env = g_environ_unsetenv(env, "LD_LIBRARY_PATH");
    env = g_environ_unsetenv(env, "LD_PRELOAD");
    if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, error)) {
        g_prefix_error(error, "running ldd %s: ", hoster);
        return FALSE;
    }
    gboolean is_static = strstr(out, "not a dynamic executable") || strstr(err, "not a dynamic executable") ||
                         strstr(out, "statically linked");
    if (!is_static && !g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "ldd %s failed: %s", hoster, g_strstrip(err));
        return FALSE;
    }
    g_autoptr(GPtrArray) libs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *missing = NULL;
    if (!is_static && !dcn_ldd_parse(out, libs, &missing)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                    "%s needs %s, which the dynamic loader cannot find here", hoster, missing);
        return FALSE;
    }
    dcn_layer_add_file(entries, DCN_IMAGE_HOSTER_PATH, hoster, 0755);
    for (guint i = 0; i < libs->len; i++) {
        const char *lib = libs->pdata[i];
        /* the file's bytes at the path the loader used; symlinks resolved */
        g_autofree char *real = realpath(lib, NULL);
        if (!real) {
            int e = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "resolving %s: %s", lib, g_strerror(e));
            return FALSE;
        }
        dcn_layer_add_file(entries, lib + 1, real, 0755);
    }
    dcn_layer_add_data(entries, "etc/passwd", passwd, 0644);
    dcn_layer_add_data(entries, "etc/group", group, 0644);
    dcn_layer_add_dir(entries, "tmp", 01777);
    /* mount points a runtime (or a test's chroot) needs on a read-only root */
    dcn_layer_add_dir(entries, "proc", 0555);
    dcn_layer_add_dir(entries, "sys", 0555);
    dcn_layer_add_dir(entries, "dev", 0755);
    return TRUE;
}
