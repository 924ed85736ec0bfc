/* sigfile: the contents of an ostree `summary.sig`, an a{sv} whose members
 * are arrays of signatures ("ostree.gpgsigs": aay of OpenPGP detached
 * signatures; "ostree.sign.ed25519": aay). Pure functions over GVariants:
 * no I/O, no keys, so the unit tests feed them tables.
 *
 * Note for whoever thinks of serving the signatures of two summaries in one
 * file during a swap: libostree concatenates the "ostree.gpgsigs" packets
 * and GnuPG (2.2.40 here) stops at the first BAD one, so only the first
 * signature decides; that design fails half the time (docs/builder.md). */
#ifndef DCN_BUILDER_SIGFILE_H
#define DCN_BUILDER_SIGFILE_H

#include <glib.h>

/* Signatures of a and then of b in one a{sv}: every array-of-bytestrings
 * member present in either is the concatenation (a's first); any other
 * member is taken from b, else a. Either may be NULL (the other is
 * returned in normal form; both NULL: an empty a{sv}). Members of a or b
 * that are not of type a{sv} are ignored. Returns a new floating-free
 * reference in normal form. */
GVariant *dcn_sigfile_merge(GVariant *a, GVariant *b);

/* sig with one more signature appended to the aay member key (created when
 * absent). sig may be NULL. */
GVariant *dcn_sigfile_append(GVariant *sig, const char *key, GBytes *signature);

/* Number of signatures in the aay member key (0 when absent or another type). */
gsize dcn_sigfile_count(GVariant *sig, const char *key);

/* Parses untrusted bytes as a summary.sig: NULL when they are not a normal
 * form a{sv}. */
GVariant *dcn_sigfile_parse(GBytes *bytes);

#endif
