// NAME
//   config_settings.cpp - db::Settings from a Config (see config_settings.h)
// DESCRIPTION
//   A field-by-field copy; the only rules are the 5 s default timeout and
//   a lock wait one second below the I/O timeout (at least 1 s).
#include "db/config_settings.h"

#include <algorithm>

namespace policyd::db {

Settings settings_from_config(const Config& c) {
    Settings s;
    s.host = c.mysqlhost;
    s.port = static_cast<unsigned>(c.mysqlport);
    s.socket = c.mysqlsocket;
    s.user = c.mysqluser;
    s.password = c.mysqlpass;
    s.database = c.mysqldbase;
    s.connect_timeout_s = static_cast<int>(c.mysql_timeout > 0 ? c.mysql_timeout : 5);
    s.io_timeout_s = s.connect_timeout_s;
    // A statement behind a row lock must fail on the server before the
    // client gives up on it, or it runs later, unseen (see session.h).
    s.lock_wait_timeout_s = std::max(1, s.io_timeout_s - 1);
    return s;
}

}  // namespace policyd::db
