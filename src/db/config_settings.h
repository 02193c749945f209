// NAME
//   config_settings.h - the database settings a policyd.conf asks for
// SYNOPSIS
//   #include "db/config_settings.h"
//   db::Session session(db::settings_from_config(config));
// DESCRIPTION
//   MYSQLHOST, MYSQLPORT, MYSQLSOCKET, MYSQLUSER, MYSQLPASS, MYSQLDBASE and
//   MYSQL_TIMEOUT (connect, read and write timeout; 5 s when not positive,
//   the reference's budget), shared by the daemon and the cleanup program.
#pragma once

#include "config/config.h"
#include "db/session.h"

namespace policyd::db {

Settings settings_from_config(const Config& config);

}  // namespace policyd::db
