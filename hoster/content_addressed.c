#include "content_addressed.h"

#include <string.h>

static const struct {
    const char *name;
    size_t len;
    int depth;
} dirs[] = {
    {"objects", 7, 1},
    {"deltas", 6, 2},
    {"delta-indexes", 13, 1},
};

#define NUM_DIRS (sizeof dirs / sizeof dirs[0])

bool content_addressed_path(const char *repo_path, const char *path, size_t len)
{
    size_t rl = strlen(repo_path);
    if (rl) {
        if (len <= rl || memcmp(path, repo_path, rl) || path[rl] != '/')
            return false;
        path += rl + 1;
        len -= rl + 1;
    }
    for (size_t i = 0; i < NUM_DIRS; i++)
        if (len > dirs[i].len && path[dirs[i].len] == '/' && !memcmp(path, dirs[i].name, dirs[i].len))
            return true;
    return false;
}

int content_addressed_dir_depth(const char *name)
{
    for (size_t i = 0; i < NUM_DIRS; i++)
        if (!strcmp(name, dirs[i].name))
            return dirs[i].depth;
    return 0;
}
