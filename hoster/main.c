/* dcn-hoster: serves ostree repositories, static deltas and kickstarts. */
#include "config.h"
#include "log.h"
#include "server.h"

int main(int argc, char **argv)
{
    log_init("dcn-hoster");
    struct hoster_config cfg;
    int rc = hoster_config_load(&cfg, argc, argv);
    if (rc == 0)
        rc = server_run(&cfg);
    else
        rc = rc > 0 ? 0 : 2;
    hoster_config_free(&cfg);
    return rc;
}
