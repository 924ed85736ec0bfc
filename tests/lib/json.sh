# Reading JSON in the shell tests: one reader.
#   json_get JSON KEY    a top-level member of JSON (a string): strings and
#                        numbers as they are, lists/objects/booleans as JSON
#                        (true/false), "" when absent or null.
# For a file: json_get "$(<FILE)" KEY.
json_get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else (json.dumps(v) if isinstance(v,(list,dict,bool)) else v))' "$1" "$2"; }
