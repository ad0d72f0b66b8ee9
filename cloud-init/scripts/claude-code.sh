#!/bin/bash
# The Claude Code CLI from npm, for every user (in the prepared layer, or at first boot).
# Usage: claude-code.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if command -v claude >/dev/null; then
    log "Claude Code already installed: $(claude --version)"
else
    ensure_packages nodejs npm
    retry npm install --global --no-fund --no-audit @anthropic-ai/claude-code
    log "installed Claude Code $(claude --version)"
fi
