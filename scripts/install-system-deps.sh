#!/usr/bin/env bash
# Installs the Debian packages pgverify links against, only those that are missing.
# Non-interactive; uses sudo when not root. Safe to run repeatedly.
set -euo pipefail
# lrzip: the program the PGRP artifact container needs at run time (optional for users, used by the tests).
packages=(libzstd-dev liblzma-dev zlib1g-dev libbrotli-dev libopenblas-dev pkg-config lrzip)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
