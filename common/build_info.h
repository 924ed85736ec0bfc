/* build_info: which dcn-hoster / dcn-builder this is. The commit is read
 * from git at build time ("unknown" outside a git checkout, "-dirty" with
 * uncommitted changes); both programs print it (--version, version), and
 * put it in /-/status, the startup log lines and the hosting image's labels. */
#ifndef DCN_BUILD_INFO_H
#define DCN_BUILD_INFO_H

/* The project version (CMakeLists.txt project()), e.g. "0.1.0". */
const char *dcn_build_version(void);
/* The short commit hash the binary was built from, e.g. "2461a4f0c1d2". */
const char *dcn_build_commit(void);

#endif
