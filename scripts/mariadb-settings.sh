# scripts/mariadb-settings.sh - the [mysqld] settings every private test server shares.
#
# Sourced by scripts/mariadb.sh (one server) and scripts/galera.sh (three nodes);
# test_server_settings prints the lines, to be written after the instance's own paths and port.
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
