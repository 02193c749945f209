#!/usr/bin/env bash
# scripts/run.sh - install, build and run policyd in the foreground (README command 1).
#
# Usage (as root, from anywhere): scripts/run.sh
# 1. scripts/install-deps.sh, scripts/build.sh;
# 2. a private MariaDB (scripts/mariadb.sh: WORKDIR=<repo>/work/mariadb, 127.0.0.1:$MARIADB_PORT,
#    default 13306) with database $MARIADB_DB (default policyd) loaded from DATABASE.mysql;
# 3. work/policyd.conf = the repo's policyd.conf with MYSQLHOST=127.0.0.1, MYSQLPORT, MYSQLDBASE,
#    DAEMON=0, DEBUG=0, BINDHOST=127.0.0.1, BINDPORT=10031, PIDFILE=work/policyd.pid, CHROOT=/
#    replaced in place (missing keys appended);
# 4. exec src/policyd -c work/policyd.conf: decision lines on the terminal, Ctrl-C stops it.
# The MariaDB keeps running afterwards; stop it with scripts/mariadb.sh stop.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export WORKDIR=$repo/work/mariadb
export MARIADB_PORT=${MARIADB_PORT:-13306}
export MARIADB_DB=${MARIADB_DB:-policyd}

[ -f policyd.conf ] || { echo "run.sh: $repo/policyd.conf is missing: cannot write work/policyd.conf" >&2; exit 1; }

scripts/install-deps.sh
scripts/build.sh
scripts/mariadb.sh start

mkdir -p work
conf=$repo/work/policyd.conf
# replace KEY=value lines in place, keep everything else; append keys the file lacks
awk -v port="$MARIADB_PORT" -v db="$MARIADB_DB" -v pid="$repo/work/policyd.pid" '
  BEGIN {
    n = split("MYSQLHOST MYSQLPORT MYSQLDBASE DAEMON DEBUG BINDHOST BINDPORT PIDFILE CHROOT", order, " ")
    v["MYSQLHOST"] = "\"127.0.0.1\""; v["MYSQLPORT"] = port; v["MYSQLDBASE"] = "\"" db "\""
    v["DAEMON"] = 0; v["DEBUG"] = 0; v["BINDHOST"] = "127.0.0.1"; v["BINDPORT"] = 10031
    v["PIDFILE"] = pid; v["CHROOT"] = "/"
  }
  match($0, /^[A-Z_]+=/) {
    k = substr($0, 1, RLENGTH - 1)
    if (k in v) { print k "=" v[k]; seen[k] = 1; next }
  }
  { print }
  END { for (i = 1; i <= n; i++) if (!(order[i] in seen)) print order[i] "=" v[order[i]] }
' policyd.conf >"$conf"

echo "run.sh: policyd on 127.0.0.1:10031 with $conf (MariaDB 127.0.0.1:$MARIADB_PORT); Ctrl-C stops it"
exec "$repo/src/policyd" -c "$conf"
