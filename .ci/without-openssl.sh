#!/usr/bin/env bash
# Runs a command where OpenSSL's development files and pkg-config do not exist, as on a machine
# with only the Rust toolchain, a C compiler, make and perl (README.md, "Set-up on a fresh
# machine"): a private mount namespace hides /usr/include/openssl, the libssl/libcrypto link
# libraries and pkg-config. A build that needed any of them fails here.
#
#   .ci/without-openssl.sh COMMAND [ARGS…]
set -euo pipefail
if [ "$#" -eq 0 ]; then echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; fi
hidden_pkg_config="$(mktemp -d)/pkg-config"
printf '#!/bin/sh\necho "pkg-config is hidden (.ci/without-openssl.sh)" >&2\nexit 1\n' > "$hidden_pkg_config"
chmod +x "$hidden_pkg_config"
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --mount --propagation private bash -c '
  set -euo pipefail
  hidden_pkg_config="$1"; shift
  if [ -d /usr/include/openssl ]; then mount -t tmpfs none /usr/include/openssl; fi
  for tool in /usr/bin/pkg-config /usr/bin/x86_64-linux-gnu-pkg-config; do
    if [ -e "$tool" ]; then mount --bind "$hidden_pkg_config" "$tool"; fi
  done
  for lib in /usr/lib/*/libssl.so /usr/lib/*/libcrypto.so /usr/lib/*/libssl.a /usr/lib/*/libcrypto.a; do
    if [ -e "$lib" ]; then mount --bind /dev/null "$lib"; fi
  done
  if [ -n "$(ls -A /usr/include/openssl 2>/dev/null)" ] || pkg-config --exists openssl 2>/dev/null; then
    echo "OpenSSL development files are still visible" >&2; exit 1
  fi
  exec "$@"
' bash "$hidden_pkg_config" "$@"
