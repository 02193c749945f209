#!/usr/bin/env bash
# scripts/build.sh - build policyd: autoreconf -fi && ./configure && make -j2, in the repo root.
#
# Usage: scripts/build.sh [make targets...]     (default target: all)
# autoreconf runs when configure is missing or older than configure.ac / Makefile.am;
# ./configure runs when there is no Makefile or config.status is older than configure.
# Extra configure options can be given in CONFIGURE_FLAGS.  Never more than 2 make jobs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
  autoreconf -fi
fi
if [ ! -f Makefile ] || [ ! -f config.status ] || [ configure -nt config.status ]; then
  # shellcheck disable=SC2086
  ./configure ${CONFIGURE_FLAGS:-}
fi
make -j2 "$@"
