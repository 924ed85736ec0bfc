#!/bin/bash
# Request smuggling and parser differentials (RFC 9112 2.2, 3, 5, 6, 7, 9.3):
# each request of tests/smuggling/requests.tsv goes to dcn-hoster over a raw
# socket, and must get exactly the responses and the connection state the
# table gives (a 400 and a close where the framing cannot be trusted, never
# a response taken from body bytes). With nginx installed, the same bytes go
# to nginx too and the differences are printed, not asserted (docs/hoster.md,
# "Request parsing compared with nginx", explains each).
source "$(dirname "$0")/lib.sh"
CORPUS_DIR=$DCN_SOURCE_DIR/tests/smuggling
python3 "$CORPUS_DIR/http_corpus.py" --make-root "$T/root"
hoster_start smuggling --root "$T/root" --threads 2
python3 "$CORPUS_DIR/http_corpus.py" --port "$PORT" || fail "dcn-hoster answered some of the corpus wrongly (above)"
kill -0 "$HOSTER_PID" 2>/dev/null || fail "dcn-hoster died during the corpus"

if command -v nginx >/dev/null; then
    echo "--- for information: how nginx answers the same bytes ---"
    python3 "$CORPUS_DIR/compare_nginx.py" --hoster "$DCN_HOSTER" || echo "info: the nginx comparison did not run (status $?)"
else
    echo "info: nginx not installed (scripts/install-deps bench): comparison skipped"
fi
pass "request-smuggling corpus"
