#!/bin/bash
# The Claude Code CLI from npm, for every user.
# Usage: claude-code.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if command -v claude >/dev/null; then
    log "Claude Code already installed: $(claude --version)"
else
    retry npm install --global --no-fund --no-audit @anthropic-ai/claude-code
    log "installed Claude Code $(claude --version)"
fi
