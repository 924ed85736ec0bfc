/* keys: what the definition's files share, not for the stages (they read
 * definition.h). Every key has one entry in the table (keys.c) naming its
 * type, its field in DcnDefinition and its check; YAML keys (yaml.c) and
 * command-line overrides (dcn_definition_set) go through the same entry
 * and the same dcn_def_set_value (value.c), so both are validated alike.
 * The definition's files:
 *   keys.c        the key table and the checks of single values
 *   value.c       parsing and storing one value (integers, durations, ...)
 *   yaml.c        walking the YAML document: dcn_definition_parse
 *   finish.c      required keys, keys against each other, the defaults
 *   definition.c  the definition's life, its problems, where keys were set */
#ifndef DCN_BUILDER_DEFINITION_KEYS_H
#define DCN_BUILDER_DEFINITION_KEYS_H

#include <stddef.h>

#include "definition.h"

typedef enum {
    KT_MAP,     /* a nested mapping: its keys are "parent.child" entries */
    KT_STRING,  /* a non-empty single-line string, checked by `check` */
    KT_STRING0, /* the same, or "" (kickstart.disk: "" is the default, all disks) */
    KT_TEXT,    /* any string, newlines allowed (kickstart.extra) */
    KT_PATH,    /* a path: relative ones resolve against the definition's directory */
    KT_UINT,    /* a decimal integer in [min, max] */
    KT_DURATION,/* seconds in [min, max]: N, or N with s, m, h or d (90s, 30m, 1h, 7d) */
    KT_BOOL,    /* true/false (also yes/no, on/off) */
    KT_BACKEND, /* tree | edge-commit | weldr */
    KT_LIST,    /* a YAML list of single-line strings (GStrv), each checked by `check`; from a flag: comma-separated */
} KeyType;

/* Returns NULL when value is acceptable, else what was expected. */
typedef const char *(*KeyCheck)(const char *value);

typedef struct {
    const char *key; /* dotted path as written in YAML */
    KeyType type;
    size_t offset;   /* field in DcnDefinition (unused for KT_MAP) */
    KeyCheck check;  /* KT_STRING, KT_STRING0 and KT_LIST items; NULL: any single-line string */
    guint min, max;  /* KT_UINT, KT_DURATION (seconds) only */
} KeyDef;

extern const KeyDef dcn_def_keys[];
extern const size_t dcn_def_n_keys;

/* The DcnDefinition the stages see, and beside it where each key was set
 * ("file.yaml:7", "--keep"), for messages that involve two keys. Freed
 * with it. The arrays have dcn_def_n_keys entries, in table order. */
typedef struct {
    DcnDefinition def;
    char **origin;
    gboolean *seen;            /* set already (duplicate keys are errors) */
    gboolean *rejected;        /* its value was refused: a problem names it */
    GPtrArray *problems;       /* "WHERE: what", in the order found */
    char *first_line;          /* "FILE:1" of the parsed file: where to point at keys it lacks */
    gboolean finished;         /* dcn_definition_finish() filled the defaults */
} DefinitionPriv;

/* keys.c: the entry of key (dotted), its index into *index; NULL when none. */
const KeyDef *dcn_def_find_key(const char *key, size_t *index);
/* keys.c: index of a key the code itself names (always in the table). */
size_t dcn_def_key_index(const char *key);
/* keys.c: name's check (an image or user name); NULL when fine. */
const char *dcn_def_check_name(const char *v);

/* value.c: validates value for dcn_def_keys[i] and stores it; origin
 * prefixes errors; relative paths resolve against base_dir. */
gboolean dcn_def_set_value(DcnDefinition *def, size_t i, const char *value, const char *origin,
                           const char *base_dir, GError **error);

/* definition.c: where key was set, or "default". */
const char *dcn_def_origin_of(DcnDefinition *def, const char *key);

#endif
