#include "build_info.h"

#include "dcn_build_info.h" /* generated: cmake/build-info.cmake */

const char *dcn_build_version(void) { return DCN_BUILD_VERSION; }
const char *dcn_build_commit(void) { return DCN_BUILD_COMMIT; }
