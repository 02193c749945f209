#!/usr/bin/env bash
# tests/e2e/postfix.sh - end to end: a real Postfix asks our policyd, swaks talks SMTP to Postfix.
#
# Usage (as root, from anywhere): tests/e2e/postfix.sh
# Starts (and always removes again, via trap):
#   - a private Postfix in a temporary directory, smtpd on 127.0.0.1:$POSTFIX_PORT (default 2525,
#     or a free port if that is taken), configured with exactly the policy lines documented in
#     docs/POSTFIX.md (docs/postfix-main.cf, our port instead of 10031); nothing is ever
#     delivered (discard:);
#   - src/policyd (or $POLICYD) on a free port with the reference's default policyd.conf
#     (greylisting on, TRIPLET_TIME=$TRIPLET_TIME, default 4m) against database $MARIADB_DB
#     (default policyd_e2e) of the private MariaDB given by WORKDIR / MARIADB_PORT (defaults
#     <repo>/work/e2e/mariadb and 13307); that MariaDB is started here and stopped afterwards
#     unless it was already running.
#   policyd also listens on the Unix-domain socket $queue_directory/private/policyd
#   (BINDSOCKET, mode 0666 inside Postfix's 0700 private/ directory, as docs/POSTFIX.md says).
# Tests: the instance answers EHLO; a first RCPT is deferred "450 4.7.1 ... Please try later";
# Postfix logged the NOQUEUE reject; after moving triplet._datenew back, the retry gets 250.
# Then main.cf is switched to the documented "check_policy_service unix:private/policyd" and
# smtpd to chroot=y (the chroot caveat of docs/POSTFIX.md), Postfix reloaded, and the same
# greylisting round goes over the socket; at the end policyd's SIGTERM removes the socket.
# Prints "PASS name" / "FAIL name: reason" and a last line "N passed, M failed"; exit 1 on failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export WORKDIR=${WORKDIR:-$repo/work/e2e/mariadb}
export MARIADB_PORT=${MARIADB_PORT:-13307}
export MARIADB_DB=${MARIADB_DB:-policyd_e2e}
POLICYD=${POLICYD:-$repo/src/policyd}
TRIPLET_TIME=${TRIPLET_TIME:-4m}
POSTFIX_PORT=${POSTFIX_PORT:-2525}
MARIADB=$repo/scripts/mariadb.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { local i; for i in $(seq 1 "$2"); do port_busy "$1" && return 0; sleep 0.02; done; return 1; }

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

dir=$(mktemp -d /tmp/policyd-e2e.XXXXXX)
chmod 755 "$dir"
postfix_started=0 mariadb_started=0 daemon_pid=""
cleanup() {
  set +e
  [ "$postfix_started" = 1 ] && postfix -c "$dir/etc" stop >/dev/null 2>&1
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"; sleep 0.5; kill -KILL "$daemon_pid" 2>/dev/null
  fi
  [ "$mariadb_started" = 1 ] && "$MARIADB" stop >/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# --- the database and our daemon ------------------------------------------------------------
"$MARIADB" status >/dev/null 2>&1 || mariadb_started=1
"$MARIADB" start >/dev/null
"$MARIADB" reset >/dev/null
policy_port=$(free_port)
# Postfix's private/ directory (postfix start keeps it as it is: owner postfix, mode 0700)
mkdir -p "$dir/queue/private"
chown postfix "$dir/queue/private"
chmod 700 "$dir/queue/private"
policy_socket=$dir/queue/private/policyd
python3 - "$dir/policyd.conf" "$policy_port" <<EOF
import importlib.util, sys, types
spec = importlib.util.spec_from_file_location("c", "$repo/tests/conformance/run.py")
c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
opts = types.SimpleNamespace(mysql_host="127.0.0.1", mysql_port=$MARIADB_PORT, db="$MARIADB_DB",
                             mysql_user="postfix", mysql_password="p0stf1x", port=int(sys.argv[2]))
with open(sys.argv[1], "w") as f:
    f.write(c.policyd_conf(opts, "$dir", {"TRIPLET_TIME": "$TRIPLET_TIME",
                                          "BINDSOCKET": "$policy_socket", "BINDSOCKET_MODE": "0666"}))
EOF
if [ -x "$POLICYD" ]; then
  "$POLICYD" -c "$dir/policyd.conf" >"$dir/policyd.log" 2>&1 &
  daemon_pid=$!
  wait_port "$policy_port" 750 || echo "postfix.sh: policyd did not listen on $policy_port (log below)" >&2
else
  echo "postfix.sh: $POLICYD not built: the policy service is down" >&2
fi

# --- the private Postfix ----------------------------------------------------------------------
if port_busy "$POSTFIX_PORT"; then POSTFIX_PORT=$(free_port); fi
mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
chown postfix "$dir/data"
cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = e2e.example.net
mydomain = example.net
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
mydestination = example.org
alias_maps =
alias_database =
local_recipient_maps =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
smtputf8_enable = no
biff = no
EOF
# the documented lines, pointed at our daemon
sed "s/127\.0\.0\.1:10031/127.0.0.1:$policy_port/" "$repo/docs/postfix-main.cf" >>"$dir/etc/main.cf"
# smtpd on our loopback port, and no chroot for any service
awk -v listen="127.0.0.1:$POSTFIX_PORT" '
  /^smtp[ \t]+inet/ { $1 = listen }
  /^[a-z]/ && NF >= 8 { $5 = "n" }
  { print }' /usr/share/postfix/master.cf.dist >"$dir/etc/master.cf"

if out=$(script -qec "postfix -c $dir/etc start" /dev/null 2>&1) && wait_port "$POSTFIX_PORT" 500; then
  postfix_started=1
else
  postfix_started=1
  echo "$out" >&2
fi

swaks_rcpt() {  # [recipient]
  swaks --server "127.0.0.1:$POSTFIX_PORT" --helo mail.example.com --from alice@example.com \
    --to "${1:-bob@example.org}" --quit-after RCPT --timeout 30 2>&1 || true
}
rcpt_reply() { grep -A1 -E '^ -> RCPT TO' <<<"$1" | tail -n 1; }

# --- tests ------------------------------------------------------------------------------------
out=$(swaks --server "127.0.0.1:$POSTFIX_PORT" --helo mail.example.com --quit-after EHLO --timeout 10 2>&1 || true)
if grep -q '^<-  250' <<<"$out"; then pass postfix-instance-answers-ehlo
else fail postfix-instance-answers-ehlo "no 250 to EHLO: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi

out=$(swaks_rcpt)
line=$(grep -E '^<~?\*+ +[0-9]{3}' <<<"$out" | tail -n 1 || true)
if grep -q '450 4.7.1 .*Please try later' <<<"$out"; then pass first-attempt-greylisted
else fail first-attempt-greylisted "expected 450 4.7.1 ... Please try later, got: ${line:-$(tail -n 2 <<<"$out" | tr '\n' ' ')}"; fi

sleep 0.3  # postlogd writes asynchronously
if grep -q 'NOQUEUE: reject: RCPT from .*450 4.7.1 .*Please try later' "$dir/maillog" 2>/dev/null; then
  pass postfix-logged-greylist-reject
else
  fail postfix-logged-greylist-reject "no NOQUEUE reject line in the maillog: $(tail -n 2 "$dir/maillog" 2>/dev/null | tr '\n' ' ')"
fi

moved=$("$MARIADB" sql -N -e "UPDATE triplet SET _datenew=_datenew-86400; SELECT ROW_COUNT()" 2>&1 || true)
out=$(swaks_rcpt)
if grep -qE '^<-  250 .*(Ok|OK)' <<<"$(grep -A1 -E '^ -> RCPT TO' <<<"$out")"; then
  pass retry-after-triplet-time-accepted
else
  fail retry-after-triplet-time-accepted "expected 250 at RCPT (triplets moved back: $moved), got: $(grep -A1 -E '^ -> RCPT TO' <<<"$out" | tail -n 1)"
fi

# --- the same over the Unix-domain socket, smtpd chrooted ------------------------------------
mode=$(stat -c '%F %a' "$policy_socket" 2>&1 || true)
if [ "$mode" = "socket 666" ]; then pass unix-socket-created-with-bindsocket-mode
else fail unix-socket-created-with-bindsocket-mode "expected 'socket 666', got '$mode'"; fi

unix_lines() { grep -c "^connection from: unix:$policy_socket port: 0 " "$dir/policyd.log" || true; }
before=$(unix_lines)
reloads() { grep -c 'reload -- version' "$dir/maillog" 2>/dev/null || true; }
reloaded=$(reloads)
sed -i "s|check_policy_service inet:127\.0\.0\.1:$policy_port|check_policy_service unix:private/policyd|" \
  "$dir/etc/main.cf"
postconf -c "$dir/etc" -F "127.0.0.1:$POSTFIX_PORT/inet/chroot=y"
postfix -c "$dir/etc" reload >/dev/null 2>&1 || true
for _ in $(seq 1 250); do [ "$(reloads)" -gt "$reloaded" ] && break; sleep 0.02; done
if grep -q '^ *check_policy_service unix:private/policyd$' "$dir/etc/main.cf" &&
   [ "$(postconf -c "$dir/etc" -Fh "127.0.0.1:$POSTFIX_PORT/inet/chroot")" = y ] &&
   [ "$(reloads)" -gt "$reloaded" ]; then
  pass postfix-reloaded-with-unix-policy-service-and-chroot
else
  fail postfix-reloaded-with-unix-policy-service-and-chroot "main.cf: $(grep check_policy_service "$dir/etc/main.cf" | tr '\n' ' '); reloads: $(reloads)"
fi

out=$(swaks_rcpt carol@example.org)
if grep -q '450 4.7.1 .*Please try later' <<<"$(rcpt_reply "$out")" && [ "$(unix_lines)" -gt "$before" ] &&
   grep -q "greylist=new, .*to=carol@example.org" "$dir/policyd.log"; then
  pass unix-socket-first-attempt-greylisted
else
  fail unix-socket-first-attempt-greylisted "RCPT reply: $(rcpt_reply "$out"); unix connection lines: $before -> $(unix_lines)"
fi

moved=$("$MARIADB" sql -N -e "UPDATE triplet SET _datenew=_datenew-86400; SELECT ROW_COUNT()" 2>&1 || true)
out=$(swaks_rcpt carol@example.org)
if grep -qE '^<-  250 .*(Ok|OK)' <<<"$(rcpt_reply "$out")"; then
  pass unix-socket-retry-accepted
else
  fail unix-socket-retry-accepted "expected 250 at RCPT (triplets moved back: $moved), got: $(rcpt_reply "$out")"
fi

if [ -n "$daemon_pid" ]; then
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null && status=0 || status=$?
  daemon_pid=""
  if [ "$status" = 0 ] && [ ! -e "$policy_socket" ]; then pass unix-socket-removed-at-exit
  else fail unix-socket-removed-at-exit "exit status $status; $(ls -l "$policy_socket" 2>&1)"; fi
else
  fail unix-socket-removed-at-exit "policyd was not running"
fi

if [ "$failed" -gt 0 ]; then
  echo "--- policyd output (tail) ---"; tail -n 20 "$dir/policyd.log" 2>/dev/null | sed 's/^/| /'
  echo "--- maillog (tail) ---"; tail -n 20 "$dir/maillog" 2>/dev/null | sed 's/^/| /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
