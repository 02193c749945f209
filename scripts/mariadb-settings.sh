# scripts/mariadb-settings.sh - what every private test server shares: its [mysqld] settings
# and the daemon's user.
#
# Sourced by scripts/mariadb.sh (one server) and scripts/galera.sh (three nodes);
# test_server_settings prints the lines, to be written after the instance's own paths and port;
# daemon_user_sql DB prints the SQL creating the daemon's user with its grants.
test_server_settings() {
  cat <<'SETTINGS'
skip-name-resolve
performance_schema=OFF
# mirror Debian's packaged server (case-insensitive, like the reference expects)
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
max_connections=300
# small and fast, durability is not needed for tests
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
SETTINGS
}

# The daemon's user (policyd.conf's shipped MYSQLUSER/MYSQLPASS) on every policyd* database, so
# test runs can create their own (policyd_test, ...), and on DB.
daemon_user_sql() {
  cat <<EOF
CREATE USER IF NOT EXISTS 'postfix'@'127.0.0.1' IDENTIFIED BY 'p0stf1x';
CREATE USER IF NOT EXISTS 'postfix'@'localhost' IDENTIFIED BY 'p0stf1x';
GRANT ALL PRIVILEGES ON \`policyd%\`.* TO 'postfix'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`policyd%\`.* TO 'postfix'@'localhost';
GRANT ALL PRIVILEGES ON \`$1\`.* TO 'postfix'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$1\`.* TO 'postfix'@'localhost';
EOF
}
