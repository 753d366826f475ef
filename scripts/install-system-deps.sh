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
find_312() {
    for python in python3.14 python3.13 python3.12 python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3; do
        if runs_312 "$python"; then echo "$python"; return; fi
    done
}
# No 3.12+ anywhere pgverify looks (PATH, pyenv; README "Helper programs"): Debian 12 offers only 3.11, so
# build CPython 3.13 from Debian's own source archive (the upstream tarball Debian 13 ships, pinned by
# SHA-256) into /usr/local, once: python3.13 on PATH. Only its `ast` module is used, as a parser.
# PGVERIFY_NO_PYTHON_BUILD=1 skips this (pgverify then reports 3.12-only code as not analysed);
# PGVERIFY_PYTHON_PREFIX installs elsewhere than /usr/local.
python_prefix=${PGVERIFY_PYTHON_PREFIX:-/usr/local}
python_source=python3.13_3.13.5.orig.tar.xz
python_source_url=http://deb.debian.org/debian/pool/main/p/python3.13/$python_source
python_source_sha256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
if [ -z "$(find_312)" ] && [ -z "$(newer_python)" ] && [ "${PGVERIFY_NO_PYTHON_BUILD:-0}" != 1 ]; then
    tools=()
    for p in gcc make libc6-dev xz-utils curl ca-certificates; do installed "$p" || tools+=("$p"); done
    if [ ${#tools[@]} -gt 0 ]; then
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq --no-install-recommends "${tools[@]}" >&2
    fi
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    echo "building Python 3.13.5 from $python_source_url into $python_prefix (no 3.12+ found; a few minutes)" >&2
    curl -fsSL --retry 3 -o "$build/$python_source" "$python_source_url"
    echo "$python_source_sha256  $build/$python_source" | sha256sum -c --quiet -
    tar -xJf "$build/$python_source" -C "$build"
    (cd "$build/Python-3.13.5" &&
        ./configure --prefix="$python_prefix" --without-ensurepip --disable-test-modules >"$build/configure.log" 2>&1 &&
        make -j"$(nproc)" >"$build/make.log" 2>&1 &&
        { mkdir -p "$python_prefix" 2>/dev/null && [ -w "$python_prefix" ] && make altinstall || $sudo make altinstall; } >"$build/install.log" 2>&1) ||
        { echo "building Python 3.13 failed; the last lines of its logs:" >&2; tail -n 20 "$build"/*.log >&2; exit 1; }
fi
found_312=$(find_312)
if [ -z "$found_312" ] && runs_312 "$python_prefix/bin/python3.13"; then
    echo "the analyzer's parser: $python_prefix/bin/python3.13, which is not on PATH: set PGVERIFY_PYTHON=$python_prefix/bin/python3.13" >&2
elif [ -z "$found_312" ]; then
    echo "note: no Python 3.12 or newer (/usr/bin/python3 is $(/usr/bin/python3 -V 2>&1));" \
         "pgverify reports code that only 3.12 parses as not analysed (incomplete)." \
         "Point PGVERIFY_PYTHON at a 3.12+ interpreter to analyse it." >&2
else
    echo "the analyzer's parser: $found_312 ($("$found_312" -V 2>&1))" >&2
fi
