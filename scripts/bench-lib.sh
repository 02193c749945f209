# scripts/bench-lib.sh - helpers shared by scripts/bench.sh and scripts/bench-compare.sh (sourced).
#
# Needs $repo (the source tree). Provides:
#   free_port                  a free TCP port on 127.0.0.1
#   port_busy PORT             whether something listens on 127.0.0.1:PORT
#   wait_listening PORT PID    wait up to 10 s for PORT to listen while PID lives
#   write_conf FILE KEY=value...   the shipped policyd.conf with the keys replaced in place
#                              (or appended when the file has no such line)
#   bench_mix_of MIX           the policyd-bench --mix of a bench mix (all-modules: retry,
#                              throttled-admit: throttled)
#   bench_reset_db             a fresh $MARIADB_DB with the whitelist row 203.0.113.% and the
#                              blacklist row 192.0.2.% the whitelisted/blacklisted mixes use, in
#                              the form of $BENCH_LIST_FORM: octets (those), cidr (203.0.113.0/24,
#                              192.0.2.0/24) or cidr6 (2001:db8:77::/48, 2001:db8:66::/48, with
#                              bench_prefixes giving those mixes their clients there); and
#                              $BENCH_LIST_ROWS (0..65535, default 0) rows of each kind in both
#                              lists (addresses, a.b.c.% strings, IPv4 and IPv6 networks) that
#                              hold no client of policyd-bench
#   bench_prefixes             the policyd-bench arguments of $BENCH_LIST_FORM (an array)
#   bench_policyd_conf FILE PORT MIX   policyd.conf for the private database, PORT, TRIPLET_TIME=0
#                              (so seeded retry triplets pass) and MIX's switches (below)
#   bench_mariadb_start        start (or re-check) the private MariaDB of $WORKDIR/$MARIADB_PORT
#                              sized as docs/PERFORMANCE.md recommends; sets started_mariadb=1
#                              when it started it (the caller stops it on exit)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_listening() {  # port pid
  local i
  for i in $(seq 1 100); do
    port_busy "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

write_conf() {  # file KEY=value...
  local file=$1; shift
  python3 - "$repo/policyd.conf" "$file" "$@" <<'PY'
import re, sys
src, dst, pairs = sys.argv[1], sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
want = dict(pairs)
lines = []
for line in open(src):
    m = re.match(r"^([A-Z_]+)=", line)
    if m and m.group(1) in want:
        line = "%s=%s\n" % (m.group(1), want.pop(m.group(1)))
    lines.append(line)
lines += ["%s=%s\n" % (k, v) for k, v in pairs if k in want]
open(dst, "w").write("".join(lines))
PY
}

started_mariadb=0
bench_mariadb_start() {
  # Sized as docs/PERFORMANCE.md recommends for a policy database, so that a run measures
  # requests, not InnoDB checkpoints forced by the test server's small redo log.
  export MARIADB_CNF_EXTRA=$'innodb_buffer_pool_size=256M\ninnodb_log_file_size=256M'
  if "$repo/scripts/mariadb.sh" status >/dev/null 2>&1; then
    # Left running by someone: its settings are what it was started with.
    echo "bench: using the MariaDB already running in $WORKDIR as it is (stop it to get the sizing above)" >&2
    "$repo/scripts/mariadb.sh" start >/dev/null  # only re-checks the database and users
    return
  fi
  if port_busy "$MARIADB_PORT"; then MARIADB_PORT=$(free_port); fi
  "$repo/scripts/mariadb.sh" start >/dev/null
  started_mariadb=1
}

# The configuration switches of a mix beyond the shipped policyd.conf.
mix_switches() {
  case $1 in
    blacklisted) echo BLACKLISTING=1 ;;
    throttled) echo SENDERTHROTTLE=1 GREYLISTING=0 ;;  # else greylisting defers them first
    # The same sender under the highest limits policyd.conf(5) allows: every message admitted
    # (the 4 GB quota holds about 42,000 of the mix's messages, 101 kB on average).
    throttled-admit) echo SENDERTHROTTLE=1 GREYLISTING=0 SENDERMSGLIMIT=16777215 \
                          SENDERRCPTLIMIT=16777215 SENDERQUOTALIMIT=4294967295 ;;
    # Every module of docs/PERFORMANCE.md "with every module on", passing retried triplets.
    all-modules) echo RCPT_ACL=1 WHITELISTSENDER=1 WHITELISTDNSNAME=1 BLACKLISTING=1 \
                      BLACKLIST_HELO=1 BLACKLISTSENDER=1 BLACKLISTDNSNAME=1 SPAMTRAPPING=1 \
                      DISTRIBUTED_ORIGIN=1 HELO_CHECK=1 AUTO_WHITE_LISTING=1 AUTO_BLACK_LISTING=1 \
                      SENDERTHROTTLE=1 RECIPIENTTHROTTLE=1 ;;
  esac
}

bench_mix_of() {
  case $1 in
    all-modules) echo retry ;;
    throttled-admit) echo throttled ;;
    *) echo "$1" ;;
  esac
}

bench_list_rows=${BENCH_LIST_ROWS:-0}
case $bench_list_rows in
  ''|*[!0-9]*) echo "bench: BENCH_LIST_ROWS must be a number 0..65535" >&2; exit 1 ;;
esac
[ "$bench_list_rows" -le 65535 ] || { echo "bench: BENCH_LIST_ROWS must be at most 65535" >&2; exit 1; }
case ${BENCH_LIST_FORM:-octets} in
  octets) bench_white_row=203.0.113.% bench_black_row=192.0.2.% bench_prefixes=() ;;
  cidr) bench_white_row=203.0.113.0/24 bench_black_row=192.0.2.0/24 bench_prefixes=() ;;
  cidr6) bench_white_row=2001:db8:77::/48 bench_black_row=2001:db8:66::/48
         bench_prefixes=(--whitelisted-prefix 2001:db8:77 --blacklisted-prefix 2001:db8:66) ;;
  *) echo "bench: BENCH_LIST_FORM must be octets, cidr or cidr6" >&2; exit 1 ;;
esac

bench_reset_db() {
  local table
  "$repo/scripts/mariadb.sh" reset >/dev/null
  "$repo/scripts/mariadb.sh" sql -e "
    INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('$bench_white_row','policyd-bench',0);
    INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('$bench_black_row','policyd-bench',0);"
  [ "$bench_list_rows" -gt 0 ] || return 0
  for table in whitelist blacklist; do
    # in 10.0.0.0/8, 172.16.0.0/12 and 2001:db8:ff::/48, where policyd-bench has no clients
    "$repo/scripts/mariadb.sh" sql -e "
      INSERT INTO $table (_$table,_description,_expire)
        SELECT CONCAT('10.', seq DIV 256, '.', seq % 256, '.1'), 'filler', 0 FROM seq_1_to_$bench_list_rows
        UNION ALL SELECT CONCAT('10.', seq DIV 256, '.', seq % 256, '.%'), 'filler', 0 FROM seq_1_to_$bench_list_rows
        UNION ALL SELECT CONCAT('172.', 16 + seq DIV 4096, '.', seq DIV 16 % 256, '.', seq % 16 * 16, '/28'), 'filler', 0 FROM seq_1_to_$bench_list_rows
        UNION ALL SELECT CONCAT('2001:db8:ff:', HEX(seq), '::/64'), 'filler', 0 FROM seq_1_to_$bench_list_rows;
      ANALYZE TABLE $table;" >/dev/null
  done
}

bench_policyd_conf() {  # file port mix
  # shellcheck disable=SC2046
  write_conf "$1" MYSQLHOST='"127.0.0.1"' MYSQLPORT="$MARIADB_PORT" MYSQLDBASE="\"$MARIADB_DB\"" \
    DAEMON=0 DEBUG=0 BINDHOST=127.0.0.1 BINDPORT="$2" PIDFILE="${1%.conf}.pid" CHROOT=/ \
    UID="$(id -u)" GID="$(id -g)" TRIPLET_TIME=0 $(mix_switches "$3")
}
