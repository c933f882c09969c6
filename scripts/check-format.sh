#!/usr/bin/env bash
# Fails when a C file of the project differs from .clang-format's layout.
# Generated code (protoc-c output lives in the build tree) is not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
((${#files[@]})) || exit 0
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files clean"
