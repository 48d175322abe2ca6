#!/usr/bin/env bash
# Installs the pinned pnpm (when missing) and the workspace's dependencies from the lockfile.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
fi
cd "$ROOT"
pnpm install --frozen-lockfile --reporter=append-only
