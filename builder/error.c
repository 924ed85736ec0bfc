/* error: dcn-builder's GError domain. See error.h. */
#include "error.h"

G_DEFINE_QUARK(dcn-builder-error-quark, dcn_builder_error)
