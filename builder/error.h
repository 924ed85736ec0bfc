/* error: dcn-builder's GError domain. Messages read like a path, outermost
 * first: "publish: rhel/9/x86_64/edge 2.0.0: Writing delta a-b: No space left". */
#ifndef DCN_BUILDER_ERROR_H
#define DCN_BUILDER_ERROR_H

#include <glib.h>

#define DCN_BUILDER_ERROR (dcn_builder_error_quark())
GQuark dcn_builder_error_quark(void);

typedef enum {
    DCN_BUILDER_ERROR_USAGE,      /* bad command line: exit 2 */
    DCN_BUILDER_ERROR_DEFINITION, /* bad image definition: exit 2 */
    DCN_BUILDER_ERROR_INPUT,      /* bad input content (tarball, tree, staged commit) */
    DCN_BUILDER_ERROR_CONFLICT,   /* refused: would change something published */
    DCN_BUILDER_ERROR_NOT_FOUND,  /* a version, commit or file that should exist does not */
    DCN_BUILDER_ERROR_UNSUPPORTED,/* the installed libraries cannot do what was asked */
} DcnBuilderError;

#endif
