#!/usr/bin/env bash
# scripts/install-deps.sh - install everything needed to build, run and test policyd (Debian 12).
#
# Usage (as root): scripts/install-deps.sh [--bench-peers]
# --bench-peers installs only the peer policy servers scripts/bench.sh --peers compares against
# (postgrey, sqlgrey with its MySQL driver, postfwd); the test suite never needs them. Their services are kept from
# starting and disabled like the others: the bench runs them by hand on loopback ports.
# Idempotent: when every package is already installed it does nothing (no network needed);
# otherwise it runs apt-get update and installs the missing ones non-interactively.
# Postfix is preseeded to "No configuration".  The system MariaDB and Postfix services are kept
# from starting (policy-rc.d during the install) and disabled afterwards: we always run private
# instances (scripts/mariadb.sh, tests/e2e/postfix.sh), never the system ones.
set -euo pipefail

packages=(g++ make autoconf automake pkg-config libmysqlcppconn-dev libevent-dev libssl-dev
          libboost-program-options-dev catch2 mariadb-server mariadb-client python3
          postfix swaks procps bsdutils util-linux clang-14 libclang-rt-14-dev
          python3-prometheus-client valgrind)
services=(mariadb postfix)
if [ "${1:-}" = --bench-peers ]; then
  packages=(postgrey sqlgrey libdbd-mysql-perl postfwd)
  services=(postgrey sqlgrey postfwd)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all packages already installed"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "install-deps.sh: must run as root to install: ${missing[*]}" >&2; exit 1; }

echo "install-deps.sh: installing ${missing[*]}"
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive

# keep apt from starting the system services while installing
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

apt-get update -q
apt-get install -y -q "${missing[@]}"

# never use the system services: stop and disable them if anything started them anyway
if [ -d /run/systemd/system ]; then
  systemctl disable --now "${services[@]/%/.service}" >/dev/null 2>&1 || true
else
  for s in "${services[@]}"; do
    if [ -x "/etc/init.d/$s" ]; then "/etc/init.d/$s" stop >/dev/null 2>&1 || true; fi
  done
fi
echo "install-deps.sh: done"
