#!/usr/bin/env bash
# configurable-http-proxy, JupyterHub's proxy, from the npm registry into .cache/node (not global):
# the hub tests (tests/hub) and a one-machine deployment (deploy/README.md) find it there.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.cache/node/node_modules/.bin/configurable-http-proxy
need_npm() { command -v npm >/dev/null 2>&1 || { echo "npm is missing (make system-deps installs it)" >&2; exit 1; }; }
if [ ! -x "$bin" ]; then
  need_npm
  echo "installing configurable-http-proxy into .cache/node"
  npm install --silent --no-audit --no-fund --prefix .cache/node 'configurable-http-proxy@^5'
  "$bin" --version >/dev/null
fi

# A third-party QTI 3 player (Cito's qti-components web components, GPL-3.0, loaded by the test page only,
# never shipped): tests/qti/test_qti_player.py renders every exported kind in it in chromium.
player=.cache/qti-player/node_modules/@citolab/qti-components/cdn/index.js
if [ ! -f "$player" ]; then
  need_npm
  echo "installing @citolab/qti-components into .cache/qti-player"
  npm install --silent --no-audit --no-fund --prefix .cache/qti-player '@citolab/qti-components@7.27.4'
fi
