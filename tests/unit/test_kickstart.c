/* Kickstart templates: which Host values may become a URL, and placeholder
 * expansion (in commands, not in comment lines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kickstart.h"
#include "strbuf.h"

static const struct {
    const char *host;
    bool valid;
} host_cases[] = {
    {"dcn.example.com", true},
    {"dcn.example.com:8080", true},
    {"127.0.0.1", true},
    {"127.0.0.1:65535", true},
    {"[::1]", true},
    {"[::1]:8080", true},
    {"[fe80::1%25eth0]", false},
    {"localhost", true},
    {"a-b.c", true},
    {"", false},
    {":8080", false},
    {"host:", false},
    {"host:65536", false},
    {"host:123456", false},
    {"host:80a", false},
    {"evil.com/x", false},
    {"evil.com x", false},
    {"evil.com\r\nX: y", false},
    {"evil.com@other", false},
    {"[::1", false},
    {"[]", false},
    {"[::1]x", false},
    {"[g::1]", false},
    {"-leading.dash", false},
    {".leading.dot", false},
    {"user:pass@host", false},
    {"host\"quote", false},
    {"<script>", false},
};

static void test_host_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++) {
        bool got = kickstart_host_valid(host_cases[i].host, strlen(host_cases[i].host));
        if (got != host_cases[i].valid)
            fail_msg("host '%s': got %d, want %d", host_cases[i].host, got, host_cases[i].valid);
    }
    assert_false(kickstart_host_valid(NULL, 0));
}

static const char *const names[] = {"@URL@", "@REPO_URL@", "@REF@", "@COMMIT@"};

static const struct {
    const char *tmpl;
    const char *want;
    bool complete;
} expand_cases[] = {
    {"ostreesetup --url=@REPO_URL@ --ref=@REF@\n", "ostreesetup --url=http://h:1/repo --ref=rhel/9/x86_64/edge\n", true},
    {"@URL@@URL@", "http://h:1http://h:1", true},
    {"no placeholders", "no placeholders", true},
    {"mail root@example.com @FOO@ @", "mail root@example.com @FOO@ @", true},
    {"@@REF@@", "@rhel/9/x86_64/edge@", true},
    {"commit @COMMIT@", "commit ", false}, /* no commit known */
    {"", "", true},
    {"@URL", "@URL", true},
    /* comment lines are served as they are: placeholders only in commands */
    {"# fills in @URL@ and @REF@\nostreesetup --ref=@REF@\n", "# fills in @URL@ and @REF@\nostreesetup --ref=rhel/9/x86_64/edge\n", true},
    {"  \t# indented @REF@\n", "  \t# indented @REF@\n", true},
    {"#@COMMIT@", "#@COMMIT@", true},                      /* no value, but in a comment: complete */
    {"# @COMMIT@\necho @COMMIT@\n", "# @COMMIT@\necho \n", false}, /* used in a command: not */
    {"url --url=@URL@ # trailing @REF@\n", "url --url=http://h:1 # trailing rhel/9/x86_64/edge\n", true},
    {"%post\n# shell comment @URL@\ncurl @URL@/k\n%end\n", "%post\n# shell comment @URL@\ncurl http://h:1/k\n%end\n", true},
    {"a @REF@\n#b @REF@\nc @REF@", "a rhel/9/x86_64/edge\n#b @REF@\nc rhel/9/x86_64/edge", true},
    {"\n\n# @URL@", "\n\n# @URL@", true},
    {"x@URL@\r\n# @URL@\r\n", "xhttp://h:1\r\n# @URL@\r\n", true},
};

static void test_expand(void **state)
{
    (void)state;
    const char *values[] = {"http://h:1", "http://h:1/repo", "rhel/9/x86_64/edge", NULL};
    for (size_t i = 0; i < sizeof expand_cases / sizeof expand_cases[0]; i++) {
        struct strbuf out = STRBUF_INIT;
        bool complete = kickstart_expand(&out, expand_cases[i].tmpl, strlen(expand_cases[i].tmpl), names, values, 4);
        assert_non_null(out.data);
        if (strcmp(out.data, expand_cases[i].want) || complete != expand_cases[i].complete)
            fail_msg("template '%s': got '%s' (complete %d), want '%s' (%d)", expand_cases[i].tmpl, out.data,
                     complete, expand_cases[i].want, expand_cases[i].complete);
        strbuf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_valid),
        cmocka_unit_test(test_expand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
