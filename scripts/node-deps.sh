#!/usr/bin/env bash
# configurable-http-proxy, JupyterHub's proxy, from the npm registry into .cache/node (not global):
# the hub tests (tests/hub) and a one-machine deployment (deploy/README.md) find it there.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.cache/node/node_modules/.bin/configurable-http-proxy
[ -x "$bin" ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "npm is missing (make system-deps installs it)" >&2; exit 1; }
echo "installing configurable-http-proxy into .cache/node"
npm install --silent --no-audit --no-fund --prefix .cache/node 'configurable-http-proxy@^5'
"$bin" --version >/dev/null
