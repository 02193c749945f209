# scripts/bench-peers.sh - other policy servers, run by hand for scripts/bench-compare.sh (sourced).
#
# Needs $repo and the private MariaDB of bench-lib.sh (MARIADB_PORT). Provides:
#   peers_for MIX                  the peers that do MIX's job: greylisting (new, retry):
#                                  postgrey and sqlgrey; a sender throttle (throttled):
#                                  postfwd1 (one process) and postfwd2 (pre-forked)
#   peers_install                  install the Debian packages if a peer is missing
#                                  (scripts/install-deps.sh --bench-peers: as root, services
#                                  kept from starting and disabled)
#   peer_start NAME PORT DIR       start NAME on 127.0.0.1:PORT with its state and log in DIR
#                                  (emptied first); sets peer_pid to the process whose CPU the
#                                  bench watches (postfwd2: its master only)
#   peer_stop NAME DIR             stop it and wait until it is gone
# Each configuration is the peer's closest equivalent of the shipped policyd.conf for that mix;
# docs/PERFORMANCE.md "The peers" lists them with their caveats. Never a system service: each
# runs from its own command line, state and pid file under DIR, and is stopped on exit.

peers_for() {
  case $1 in
    new|retry) echo postgrey sqlgrey ;;
    throttled) echo postfwd1 postfwd2 ;;
  esac
}

peers_install() {
  local missing=0 c
  for c in postgrey sqlgrey postfwd1 postfwd2; do command -v "$c" >/dev/null || missing=1; done
  perl -MDBD::mysql -e 1 2>/dev/null || missing=1
  [ "$missing" = 0 ] || "$repo/scripts/install-deps.sh" --bench-peers >&2
}

# The throttle of the shipped policyd.conf (SENDER_THROTTLE_HOST=1: keyed by client address),
# as postfwd rules: messages, size quota and recipients per SENDERTIMELIMIT, and the largest
# message. postfwd counts every request, policyd every message (instance): the same for the
# throttled mix, which sends one recipient per message. Refusals are spelled as policyd's.
postfwd_rules() {
  cat <<'RULES'
id=MSGS; action=rate(client_address/512/3600/defer_if_permit Policy rejection: Quota Exceeded.)
id=QUOTA; action=size(client_address/250000000/3600/defer_if_permit Policy rejection: Quota Exceeded.)
id=RCPTS; action=rcpt(client_address/3600/3600/defer_if_permit Policy rejection: Quota Exceeded.)
id=BIG; size>10240000; action=defer_if_permit Policy rejection: Message size too big.
RULES
}

# sqlgrey's database in the same MariaDB, emptied for every run (sqlgrey creates its tables).
sqlgrey_database() {
  "$repo/scripts/mariadb.sh" sql -e "DROP DATABASE IF EXISTS sqlgrey; CREATE DATABASE sqlgrey;
    GRANT ALL ON sqlgrey.* TO 'postfix'@'127.0.0.1'; GRANT ALL ON sqlgrey.* TO 'postfix'@'localhost';"
}

peer_start() {  # name port dir
  local name=$1 port=$2 dir=$3 i
  rm -rf "$dir"; mkdir -p "$dir"
  case $name in
    postgrey)
      # --delay=1: postgrey reads 0 as its default 300; --auto-whitelist-clients=0 as
      # AUTO_WHITE_LISTING=0; the Debian whitelist_clients file as the whitelist check.
      chown postgrey:postgrey "$dir"
      postgrey --inet="127.0.0.1:$port" --dbdir="$dir" --delay=1 --auto-whitelist-clients=0 \
        --user=postgrey --group=postgrey >"$dir/log" 2>&1 &
      peer_pid=$! ;;
    sqlgrey)
      sqlgrey_database
      # reconnect_delay=0 (minutes) as TRIPLET_TIME=0; everything else as Debian ships it
      # (greymethod smart, its whitelists, its auto-whitelists, X-Greylist headers).
      cat >"$dir/sqlgrey.conf" <<CONF
conf_dir = /etc/sqlgrey
user = sqlgrey
group = sqlgrey
inet = 127.0.0.1:$port
pidfile = $dir/sqlgrey.pid
reconnect_delay = 0
db_type = mysql
db_name = sqlgrey
db_host = 127.0.0.1
db_port = $MARIADB_PORT
db_user = postfix
db_pass = p0stf1x
admin_mail =
CONF
      sqlgrey -f "$dir/sqlgrey.conf" >"$dir/log" 2>&1 &
      peer_pid=$! ;;
    postfwd1|postfwd2)
      postfwd_rules >"$dir/rules"
      local listen=(--interface 127.0.0.1 --port "$port")
      [ "$name" = postfwd2 ] && listen=(--server_socket "tcp:127.0.0.1:$port"
                                        --cache_socket "tcp:127.0.0.1:$(free_port)")
      # -c 0: no request cache (every request is decided); -n: no DNS lookups.
      "$name" -d -f "$dir/rules" "${listen[@]}" --pidfile "$dir/pid" -n -c 0 \
        -u nobody -g nogroup >"$dir/log" 2>&1
      for i in $(seq 1 100); do [ -s "$dir/pid" ] && break; sleep 0.1; done
      peer_pid=$(cat "$dir/pid") ;;
    *) echo "bench: unknown peer $name" >&2; return 1 ;;
  esac
  wait_listening "$port" "$peer_pid" || { cat "$dir/log" >&2; echo "bench: $name did not start" >&2; return 1; }
}

peer_stop() {  # name dir
  local name=$1 dir=$2 i
  case $name in
    postfwd1|postfwd2) "$name" -k --pidfile "$dir/pid" -f "$dir/rules" >/dev/null 2>&1 || true ;;
    *) kill "$peer_pid" 2>/dev/null || true ;;
  esac
  for i in $(seq 1 100); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$peer_pid" 2>/dev/null || true
  peer_pid=
}
