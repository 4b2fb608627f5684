#!/usr/bin/env bash
# Regenerates docs/openapi.json: the OpenAPI document `GET /openapi.json` serves, as
# `roster openapi` prints it. Run it after changing an endpoint; the test
# `openapi::checked_in_document_matches_the_served_one` fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
# Written beside the target and moved into place, so a failed build leaves the file whole.
tmp=$(mktemp docs/openapi.json.XXXXXX)
trap 'rm -f "$tmp"' EXIT
cargo run -q -p roster-cli -- openapi > "$tmp"
chmod 644 "$tmp"
mv "$tmp" docs/openapi.json
trap - EXIT
echo "wrote docs/openapi.json" >&2
