#!/usr/bin/env bash
# Spark resource discovery script: prints this worker's GPUs as {"name":"gpu","addresses":["0",...]}.
set -euo pipefail
ids=""
if command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | paste -sd, -)
fi
if [ -z "$ids" ]; then
  echo '{"name":"gpu","addresses":[]}'
else
  echo "{\"name\":\"gpu\",\"addresses\":[\"${ids//,/\",\"}\"]}"
fi
