/* idle-conns: opens N keep-alive HTTP/1.1 connections to one server, sends one
 * GET on each, reads each response completely (Content-Length) and keeps every
 * connection open. Used by bench/run (workload 5) to measure a server's memory
 * with many idle clients.
 *
 * usage: idle-conns HOST PORT PATH N
 *   prints "open N STATUS_OK BYTES" once every connection got its response,
 *   then reads commands on stdin, one a line:
 *     check  -> prints "alive K": connections the server has not closed
 *   and exits (closing everything) at end of input.
 * Exit status 1 when a connection cannot be opened or a response is not 200.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define WINDOW 256 /* connections being set up at once */

struct conn {
    int fd;
    size_t got;        /* bytes read */
    long body_len;     /* -1 until the head is complete */
    size_t head_len;
    int status;
    char head[2048];
};

static int open_conn(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("idle-conns: socket");
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        perror("idle-conns: connect");
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads what is available; returns 1 when the response is complete, 0 when
 * more is needed, -1 on error. */
static int read_some(struct conn *c)
{
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        fprintf(stderr, "idle-conns: connection closed or failed before the response ended (%s)\n",
                n < 0 ? strerror(errno) : "EOF");
        return -1;
    }
    if (c->body_len < 0) {
        size_t room = sizeof c->head - 1 - c->head_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(c->head + c->head_len, buf, take);
        c->head_len += take;
        c->head[c->head_len] = 0;
        char *end = strstr(c->head, "\r\n\r\n");
        if (!end) {
            if (c->head_len >= sizeof c->head - 1) {
                fprintf(stderr, "idle-conns: response head too long\n");
                return -1;
            }
            c->got += (size_t)n;
            return 0;
        }
        size_t hlen = (size_t)(end - c->head) + 4;
        if (sscanf(c->head, "HTTP/1.%*d %d", &c->status) != 1) {
            fprintf(stderr, "idle-conns: bad status line\n");
            return -1;
        }
        const char *cl = strcasestr(c->head, "\r\ncontent-length:");
        if (!cl || cl > end) {
            fprintf(stderr, "idle-conns: response without Content-Length\n");
            return -1;
        }
        c->body_len = strtol(cl + 17, NULL, 10);
        c->got = c->got + (size_t)n - hlen; /* body bytes read so far */
    } else {
        c->got += (size_t)n;
    }
    return c->got >= (size_t)c->body_len;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: idle-conns HOST PORT PATH N\n");
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "idle-conns: bad address %s\n", argv[1]);
        return 2;
    }
    int n = atoi(argv[4]);
    char req[1024];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: idle-conns\r\n\r\n",
                          argv[3], argv[1], argv[2]);
    struct conn *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return 1;
    int ok = 0;
    long long body_bytes = 0;
    /* Set up in windows: connect + send WINDOW connections, then read their responses. */
    for (int base = 0; base < n; base += WINDOW) {
        int end = base + WINDOW < n ? base + WINDOW : n;
        for (int i = base; i < end; i++) {
            cs[i].fd = open_conn(&sa);
            if (cs[i].fd < 0) {
                fprintf(stderr, "idle-conns: connection %d of %d failed\n", i + 1, n);
                return 1;
            }
            cs[i].body_len = -1;
            if (write(cs[i].fd, req, (size_t)reqlen) != reqlen) {
                perror("idle-conns: write");
                return 1;
            }
        }
        for (int i = base; i < end; i++) {
            int r;
            while ((r = read_some(&cs[i])) == 0)
                ;
            if (r < 0) {
                fprintf(stderr, "idle-conns: connection %d of %d: no complete response\n", i + 1, n);
                return 1;
            }
            if (cs[i].status == 200)
                ok++;
            body_bytes += cs[i].body_len;
        }
    }
    printf("open %d %d %lld\n", n, ok, body_bytes);
    fflush(stdout);

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "check", 5) == 0) {
            int alive = 0;
            for (int i = 0; i < n; i++) {
                struct pollfd p = {.fd = cs[i].fd, .events = POLLIN | POLLRDHUP};
                /* an idle open connection has nothing to read; a closed one polls readable (EOF) */
                if (poll(&p, 1, 0) == 0)
                    alive++;
            }
            printf("alive %d\n", alive);
            fflush(stdout);
        }
    }
    for (int i = 0; i < n; i++)
        close(cs[i].fd);
    free(cs);
    return ok == n ? 0 : 1;
}
