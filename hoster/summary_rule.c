/* summary_rule: see summary_rule.h. */
#include "summary_rule.h"

#include <stddef.h>

enum summary_verdict summary_rule_judge(const struct timespec *summary_mtime, const struct timespec *sig_mtime,
                                        bool serving_signed)
{
    if (!summary_mtime)
        return SUMMARY_COMPLETE; /* no summary: nothing a signature could disagree with */
    if (!sig_mtime)
        return serving_signed ? SUMMARY_IN_PROGRESS : SUMMARY_COMPLETE;
    if (sig_mtime->tv_sec != summary_mtime->tv_sec)
        return sig_mtime->tv_sec > summary_mtime->tv_sec ? SUMMARY_COMPLETE : SUMMARY_IN_PROGRESS;
    return sig_mtime->tv_nsec >= summary_mtime->tv_nsec ? SUMMARY_COMPLETE : SUMMARY_IN_PROGRESS;
}
