#include "refs.h"

#include "content_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REFS_MAX 1024
#define REFS_DEPTH 16

static int read_checksum(int fd, char out[REFS_CHECKSUM_LEN + 1])
{
    char buf[REFS_CHECKSUM_LEN + 2];
    ssize_t n = read(fd, buf, sizeof buf);
    out[0] = '\0';
    if (n < REFS_CHECKSUM_LEN)
        return -1;
    for (int i = 0; i < REFS_CHECKSUM_LEN; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
    }
    if (n > REFS_CHECKSUM_LEN && buf[REFS_CHECKSUM_LEN] != '\n')
        return -1;
    memcpy(out, buf, REFS_CHECKSUM_LEN);
    out[REFS_CHECKSUM_LEN] = '\0';
    return 0;
}

static void walk(int dir_fd, const char *prefix, int depth, struct ref_list *out)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) && out->n < REFS_MAX) {
        if (de->d_name[0] == '.')
            continue;
        char name[1024];
        if ((size_t)snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) >= sizeof name)
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) < 0) {
            close(fd);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < REFS_DEPTH)
                walk(fd, name, depth + 1, out);
            else
                close(fd);
        } else if (S_ISREG(st.st_mode)) {
            struct ref_entry e = {.name = strdup(name)};
            read_checksum(fd, e.checksum);
            close(fd);
            struct ref_entry *grown = realloc(out->refs, (out->n + 1) * sizeof *grown);
            if (!grown || !e.name) {
                free(e.name);
                if (grown)
                    out->refs = grown;
                continue;
            }
            out->refs = grown;
            out->refs[out->n++] = e;
        } else {
            close(fd);
        }
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct ref_entry *)a)->name, ((const struct ref_entry *)b)->name);
}

static void heads_path(char *out, size_t cap, const char *repo_path, const char *rest)
{
    snprintf(out, cap, "%s%srefs/heads%s%s", repo_path, *repo_path ? "/" : "", *rest ? "/" : "", rest);
}

int refs_list(const struct content_root *root, const char *repo_path, struct ref_list *out)
{
    char path[1024];
    memset(out, 0, sizeof *out);
    heads_path(path, sizeof path, repo_path, "");
    int fd = content_root_openat(root, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    walk(fd, "", 0, out);
    if (out->n)
        qsort(out->refs, out->n, sizeof *out->refs, by_name);
    return 0;
}

void refs_free(struct ref_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->refs[i].name);
    free(list->refs);
    list->refs = NULL;
    list->n = 0;
}

int refs_read(const struct content_root *root, const char *repo_path, const char *ref,
              char out[REFS_CHECKSUM_LEN + 1])
{
    char path[1024];
    out[0] = '\0';
    if (strstr(ref, "..") || ref[0] == '/')
        return -1;
    heads_path(path, sizeof path, repo_path, ref);
    int fd = content_root_openat(root, path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    int rc = read_checksum(fd, out);
    close(fd);
    return rc;
}
