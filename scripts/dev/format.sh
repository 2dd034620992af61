#!/usr/bin/env bash
# Formats the Swift code with swift-format (part of the Swift toolchain) and the repository's
# .swift-format; `scripts/dev/format.sh --lint` only reports what it would change.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--lint" ]; then
  exec swift format lint --recursive Sources Tests Package.swift
fi
exec swift format --in-place --recursive --parallel Sources Tests Package.swift
