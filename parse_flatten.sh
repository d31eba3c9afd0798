#!/usr/bin/env bash
# Flattens CloudTrail log files into NDJSON, one record per line, on stdout (jq).
#
# usage: parse_flatten.sh PATH [PATH ...]
#
#   PATH  a log file or a folder, walked recursively: .json.gz, .json, .jsonl, .ndjson
#         (plain or gzip). CloudTrail-Digest files and ConfigWritabilityCheckFile objects
#         are skipped. A file that cannot be read is named on stderr and the rest go on.
#
# examples:
#   ./parse_flatten.sh logs/ | python analyze_ingest.py cases.db -
#   ./parse_flatten.sh logs/ | jq -c 'select(.eventSource == "iam.amazonaws.com")' \
#       | python analyze_ingest.py cases.db -
#
# exit status: 0 every file read, 1 some file or folder could not be read, 2 usage or no jq.
set -uo pipefail

prog=$(basename "$0")
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
for argument in "$@"; do
    if [ "$argument" = "-h" ] || [ "$argument" = "--help" ]; then
        usage
        exit 0
    fi
done
if [ $# -eq 0 ]; then
    usage >&2
    exit 2
fi

# A file name (attacker-chosen in a shared bucket) shown on stderr: control characters,
# newlines among them, and the bidirectional-text controls become '?', so a name can neither
# start a line of its own nor reorder what the terminal shows.
shown() {
    printf '%s' "$1" | LC_ALL=C tr '\000-\037\177' '?' \
        | LC_ALL=C sed -e $'s/\xe2\x80[\x8e\x8f\xaa-\xae]/?/g' -e $'s/\xe2\x81[\xa6-\xa9]/?/g' -e $'s/\xd8\x9c/?/g'
}
# jq from PATH, or the one `make` installs into the project's .venv/bin when it cannot use
# the system's package manager.
if ! command -v jq >/dev/null 2>&1; then
    local_jq="$(cd "$(dirname "$0")" && pwd)/.venv/bin/jq"
    if [ -x "$local_jq" ]; then
        jq() { "$local_jq" "$@"; }
    else
        echo "$prog: jq is not installed - install jq 1.6 or later (make test installs it)" >&2
        exit 2
    fi
fi

# A log file holds {"Records": [...]}; NDJSON files hold one record (or one such object) per
# line. Anything else is named as not CloudTrail rather than silently dropped.
filter='
  if type == "object" and (.Records | type) == "array" then .Records[]
  elif type == "object" and (has("eventSource") or has("eventVersion") or has("userIdentity")) then .
  elif type == "object" and has("digestStartTime") then empty
  else error("not a CloudTrail log (no Records list)") end'

status=0
files=0
failed=0
skipped=0

flatten() {
    local file=$1
    case "$file" in
        *.gz) gzip -dc -- "$file" | jq -c "$filter" ;;
        *) jq -c "$filter" < "$file" ;;
    esac
}

# find's own complaints (a folder it cannot read, a link loop) are collected here and named.
find_errors=$(mktemp)
trap 'rm -f "$find_errors"' EXIT

for path in "$@"; do
    if [ ! -e "$path" ]; then
        echo "$prog: $(shown "$path"): no such file or folder" >&2
        status=1
        continue
    fi
    while IFS= read -r -d '' file; do
        case "$file" in
            *CloudTrail-Digest*|*ConfigWritabilityCheckFile*) skipped=$((skipped + 1)); continue ;;
        esac
        files=$((files + 1))
        flatten "$file"
        result=$?
        if [ $result -eq 141 ]; then
            exit 0    # whoever reads stdout stopped reading (e.g. `| head`): stop quietly
        elif [ $result -ne 0 ]; then
            echo "$prog: $(shown "$file"): could not be read as CloudTrail JSON (corrupt, truncated or not a log); the other files go on" >&2
            failed=$((failed + 1))
            status=1
        fi
    done < <(find -L "$path" -type f \( -name '*.json.gz' -o -name '*.json' -o -name '*.jsonl' \
                 -o -name '*.jsonl.gz' -o -name '*.ndjson' -o -name '*.ndjson.gz' \
                 -o -name 'ConfigWritabilityCheckFile' \) -print0 2>"$find_errors" | sort -z)
    if [ -s "$find_errors" ]; then
        while IFS= read -r complaint; do
            echo "$prog: cannot walk part of $(shown "$path") (files there were not read): $(shown "${complaint#find: }")" >&2
            failed=$((failed + 1))
        done < "$find_errors"
        status=1
        : > "$find_errors"
    fi
done

echo "$prog: $files file(s) read, $failed failed, $skipped digest or check file(s) skipped" >&2
exit $status
