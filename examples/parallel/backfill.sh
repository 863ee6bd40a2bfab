#!/usr/bin/env bash
# Runs the shards of a backfill with GNU parallel, here or on other machines, and merges
# their summaries:
#   examples/parallel/backfill.sh chats.jsonl 4                    # 4 shards on this machine
#   SSH_LOGINS=host1,host2 examples/parallel/backfill.sh chats.jsonl 4
# With SSH_LOGINS the input (and synap) must be at the same path on every host, on a shared
# filesystem, so the report finds every shard's files; SYNAP_API_KEY is passed along.
# Every shard takes 1/N of the key's rate limit; run the script again to resume the shards
# that stopped (a finished shard ends at once). The exit code is the report's.
set -euo pipefail
input=${1:?usage: backfill.sh INPUT [SHARDS]}
shards=${2:-4}
remote=()
if [[ -n "${SSH_LOGINS:-}" ]]; then
  remote=(--sshlogin "$SSH_LOGINS" --workdir . --env SYNAP_API_KEY)
fi
# --line-buffer: each shard's progress lines whole; --tagstring: which shard said what.
# A shard that stopped early or failed shows in the report below.
seq 0 $((shards - 1)) |
  parallel --jobs "$shards" --line-buffer --tagstring 'shard {}' "${remote[@]}" \
    synap ingest "$input" --shard "{}/$shards" --max-duration 50m ||
  true
# Exit 0: every shard finished; 3: finished with failed records; 5: some shard did not finish.
exec synap ingest "$input" --shards "$shards" --shard-report
