#include "dir_listing.h"

#include "respond.h"
#include "strbuf.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTING_MAX 10000

static void html_escape(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': strbuf_puts(sb, "&lt;"); break;
        case '>': strbuf_puts(sb, "&gt;"); break;
        case '&': strbuf_puts(sb, "&amp;"); break;
        case '"': strbuf_puts(sb, "&quot;"); break;
        default: strbuf_append(sb, s, 1);
        }
    }
}

static void url_escape(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/+", c)) {
            strbuf_append(sb, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, esc, 3);
        }
    }
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void dir_listing_respond(struct request *r, int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        respond_error(r, 500);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < LISTING_MAX) {
        if (de->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown)
            break;
        names = grown;
        size_t len = strlen(de->d_name);
        names[n] = malloc(len + 2);
        if (!names[n])
            break;
        memcpy(names[n], de->d_name, len + 1);
        if (de->d_type == DT_DIR)
            memcpy(names[n] + len, "/", 2);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>/");
    html_escape(&sb, r->path);
    strbuf_puts(&sb, "</title></head><body><h1>/");
    html_escape(&sb, r->path);
    strbuf_puts(&sb, "</h1><ul>\n");
    for (size_t i = 0; i < n; i++) {
        struct strbuf href = STRBUF_INIT;
        strbuf_puts(&href, "/");
        if (r->path_len) {
            strbuf_puts(&href, r->path);
            strbuf_puts(&href, "/");
        }
        strbuf_puts(&href, names[i]);
        strbuf_puts(&sb, "<li><a href=\"");
        struct strbuf esc = STRBUF_INIT;
        url_escape(&esc, href.data);
        html_escape(&sb, esc.data);
        strbuf_puts(&sb, "\">");
        html_escape(&sb, names[i]);
        strbuf_puts(&sb, "</a></li>\n");
        strbuf_free(&esc);
        strbuf_free(&href);
        free(names[i]);
    }
    free(names);
    strbuf_puts(&sb, "</ul></body></html>\n");
    respond_memory(r, 200, "text/html; charset=utf-8", "Cache-Control: no-cache\r\n", 25, sb.data, sb.len);
    strbuf_free(&sb);
}
