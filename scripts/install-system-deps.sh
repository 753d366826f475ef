#!/usr/bin/env bash
# Installs the Debian packages pgverify links against and the programs it starts, only those that
# are missing. Non-interactive; uses sudo when not root. Safe to run repeatedly.
set -euo pipefail
# lrzip: the program the PGRP artifact container needs at run time (optional for users, used by the tests).
# python3: the static analyzer's parser (only its ast module; submission code is never run).
packages=(libzstd-dev liblzma-dev zlib1g-dev libbrotli-dev libopenblas-dev pkg-config lrzip python3)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# The analyzer parses every record only with Python 3.12 or newer (3.12 f-string syntax); Debian 12's
# python3 is 3.11. The newest python3.1x package the package lists offer, if any is newer.
newer_python() {
    for candidate in python3.14 python3.13 python3.12; do
        if installed "$candidate" || [ -n "$(apt-cache policy "$candidate" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)')" ]; then
            echo "$candidate"
            return
        fi
    done
}

missing=()
for p in "${packages[@]}" $(newer_python); do
    installed "$p" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    # Fresh package lists may offer a newer Python than the old ones did.
    newer=$(newer_python)
    if [ -n "$newer" ] && ! installed "$newer"; then missing+=("$newer"); fi
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
runs_312() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
found_312=""
for python in python3.14 python3.13 python3.12 python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3; do
    if runs_312 "$python"; then found_312=$python; break; fi
done
# pgverify looks on PATH and in pyenv's versions (README, "Helper programs").
if [ -z "$(newer_python)" ] && [ -z "$found_312" ]; then
    echo "note: the package lists offer no Python 3.12 or newer (/usr/bin/python3 is $(/usr/bin/python3 -V 2>&1));" \
         "pgverify reports code that only 3.12 parses as not analysed (incomplete)." \
         "Point PGVERIFY_PYTHON at a 3.12+ interpreter to analyse it." >&2
fi
