#!/usr/bin/env bash
# Spark resource discovery script: prints this worker's GPUs as {"name":"gpu","addresses":["0",...]}.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | paste -sd, -)
if [ -z "$ids" ]; then
  echo '{"name":"gpu","addresses":[]}'
else
  echo "{\"name\":\"gpu\",\"addresses\":[\"${ids//,/\",\"}\"]}"
fi
