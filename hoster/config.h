/* config: dcn-hoster's settings from flags and DCN_HOSTER_* environment
 * variables (flags win), with defaults. */
#ifndef DCN_HOSTER_CONFIG_H
#define DCN_HOSTER_CONFIG_H

#include "trusted_proxy.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#define HOSTER_MAX_LISTEN 16 /* content and ops listeners together */
#define HOSTER_MAX_TRUSTED 64
#define HOSTER_MAX_THREADS 256 /* --threads is capped here; per-worker arrays are sized by it */

struct listen_addr {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char text[64]; /* as given, e.g. "[::1]:8080" */
};

struct hoster_config {
    char *root;                 /* content root path */
    char *repo_path;            /* repo location inside the root, "" if the root is the repo */
    char *public_url;           /* without trailing '/', NULL: from Host */
    char *ref;                  /* NULL: first ref under refs/heads */
    struct listen_addr listen[HOSTER_MAX_LISTEN];
    size_t num_listen;
    struct listen_addr ops_listen[HOSTER_MAX_LISTEN]; /* --ops-listen: /-/ only here, and not on listen[] */
    size_t num_ops_listen;
    struct ip_net trusted_proxy[HOSTER_MAX_TRUSTED]; /* peers whose X-Forwarded-For is believed */
    size_t num_trusted_proxy;
    unsigned adoption_max; /* (client, version) pairs remembered for adoption counts */
    unsigned threads;
    unsigned max_connections;
    size_t max_head_size;
    unsigned max_headers;
    double head_timeout;  /* seconds */
    double idle_timeout;
    double send_timeout;
    double shutdown_delay; /* SIGTERM to drain start: still serving, not ready */
    double drain_timeout;
    size_t cache_size;    /* bytes over all workers */
    size_t sendfile_min;  /* files this large or larger go by sendfile */
    bool access_log;
    bool list_dirs;
    bool follow_symlinks; /* follow links wherever they lead, not only inside the root */
};

/* A duration setting as libevent wants it. */
static inline struct timeval hoster_seconds_tv(double s)
{
    struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
    return tv;
}

/* Fills cfg from the environment and argv. Returns 0 to run, 1 when --help
 * was printed, -1 on a bad flag or value (already reported on stderr). */
int hoster_config_load(struct hoster_config *cfg, int argc, char **argv);
void hoster_config_free(struct hoster_config *cfg);

#endif
