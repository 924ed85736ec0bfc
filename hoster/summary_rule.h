/* summary_rule: when do <repo>/summary and <repo>/summary.sig, as found on
 * disk, form a pair a client can verify? dcn-hoster cannot check a GPG
 * signature, so it goes by the order every publisher writes them in: the
 * summary first, then its signature (libostree's `ostree summary -u
 * --gpg-sign`: summary, summary.sig unlinked, then written; dcn-builder:
 * summary renamed in, then summary.sig). A pair is complete when
 * summary.sig is at least as new as summary, or when the repo is not
 * signed. Anything else is a publish in progress: the server keeps
 * serving the last complete pair (summary_pair.h). Pure function. */
#ifndef DCN_SUMMARY_RULE_H
#define DCN_SUMMARY_RULE_H

#include <stdbool.h>
#include <time.h>

enum summary_verdict {
    SUMMARY_COMPLETE,    /* serve it */
    SUMMARY_IN_PROGRESS, /* summary newer than its signature, or the signature gone from a signed repo */
};

/* summary_mtime/sig_mtime NULL: the file is absent. serving_signed: the
 * pair served now has a summary.sig (so a missing one is a publish in
 * progress, not an unsigned repository). */
enum summary_verdict summary_rule_judge(const struct timespec *summary_mtime, const struct timespec *sig_mtime,
                                        bool serving_signed);

#endif
