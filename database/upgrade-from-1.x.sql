-- upgrade-from-1.x.sql - bring a policyd 1.x database to this policyd's schema, keeping every row.
--
-- Takes any policyd 1.8x/1.9x database (MyISAM, pre-IPv6 char(15)/char(16) address columns,
-- tables or columns of later releases missing, e.g. rcpt_acl or throttle._priority) to exactly
-- the tables of DATABASE.mysql: every missing table is created, every missing column added with
-- its default, every column given its final type (only ever widened: no value is cut), the keys
-- completed, and every table converted to InnoDB.  distributed_origin (ours) is created.
--
-- Idempotent: run it twice and the second run changes nothing.  It never drops or deletes.
--
-- Server: MariaDB 10.3 or newer (tested with 10.11).  It uses MariaDB's ADD COLUMN IF NOT EXISTS
-- and ADD [UNIQUE] KEY IF NOT EXISTS, which MySQL 8 does not have: for MySQL see
-- docs/MIGRATION.md, "MySQL 8".
--
-- Usage (after a backup, with the old daemon stopped; the database is the one in MYSQLDBASE):
--   mysqldump --single-transaction policyd > policyd-1.x-backup.sql
--   mariadb policyd < upgrade-from-1.x.sql
--
-- Character sets are left alone: columns keep the table's character set and collation (the
-- case-insensitive server default of the day), so lookups fold case as before.
--
-- Each table: CREATE TABLE IF NOT EXISTS (the full definition, for databases that lack it), one
-- ALTER adding what is missing, one ALTER setting the final types, keys and engine.  The
-- generated _cidr columns of whitelist and blacklist (ours, see DATABASE.mysql) are left to the
-- ALTERs, so their long definition is written once per table.  A table is
-- rebuilt once per run; on a large triplet table that takes a while: schedule the upgrade.

-- Strict: a value that would not fit its new column stops the script with an error instead of
-- being cut, and a server without InnoDB fails instead of silently keeping MyISAM.
SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION';

-- ---- triplet -----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS triplet (
  _from char(60) NOT NULL default '',
  _rcpt char(60) NOT NULL default '',
  _host char(46) NOT NULL default '',
  _datenew int(10) unsigned NOT NULL default '0',
  _datelast int(10) unsigned NOT NULL default '0',
  _count smallint(5) unsigned NOT NULL default '0',
  UNIQUE KEY _host (_host,_from,_rcpt),
  KEY _datelast (_datelast),
  KEY _datenew (_datenew)
) ENGINE=InnoDB;
ALTER TABLE triplet
  ADD COLUMN IF NOT EXISTS _from char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' AFTER _from,
  ADD COLUMN IF NOT EXISTS _host char(46) NOT NULL default '' AFTER _rcpt,
  ADD COLUMN IF NOT EXISTS _datenew int(10) unsigned NOT NULL default '0' AFTER _host,
  ADD COLUMN IF NOT EXISTS _datelast int(10) unsigned NOT NULL default '0' AFTER _datenew,
  ADD COLUMN IF NOT EXISTS _count smallint(5) unsigned NOT NULL default '0' AFTER _datelast;
ALTER TABLE triplet
  MODIFY COLUMN _from char(60) NOT NULL default '',
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _host char(46) NOT NULL default '',
  MODIFY COLUMN _datenew int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _datelast int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _count smallint(5) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _host (_host,_from,_rcpt),
  ADD KEY IF NOT EXISTS _datelast (_datelast),
  ADD KEY IF NOT EXISTS _datenew (_datenew),
  ENGINE=InnoDB;

-- ---- whitelist ---------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS whitelist (
  _whitelist char(46) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _whitelist (_whitelist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE whitelist
  ADD COLUMN IF NOT EXISTS _whitelist char(46) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _whitelist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description,
  ADD COLUMN IF NOT EXISTS _cidr varchar(36) AS (IF(
      RTRIM(_whitelist) REGEXP '^[0-9a-f.:]+/[0-9]{1,3}$'
        AND CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED)
            <= 4 * LENGTH(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_whitelist), '/', 1)))),
      CONCAT(
        RPAD(CONCAT(
               LEFT(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_whitelist), '/', 1))),
                    CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED) DIV 4),
               IF(CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED) % 4 = 0, '',
                  HEX(CONV(SUBSTRING(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_whitelist), '/', 1))),
                                     CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED) DIV 4 + 1,
                                     1), 16, 10)
                      & (240 >> CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED) % 4) & 15))),
             LENGTH(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_whitelist), '/', 1)))), '0'),
        '/', CAST(SUBSTRING_INDEX(RTRIM(_whitelist), '/', -1) AS UNSIGNED)),
      NULL)) STORED INVISIBLE AFTER _expire;
ALTER TABLE whitelist
  MODIFY COLUMN _whitelist char(46) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _whitelist (_whitelist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ADD KEY IF NOT EXISTS _cidr (_cidr),
  ENGINE=InnoDB;

-- ---- whitelist_sender --------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS whitelist_sender (
  _whitelist char(60) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _whitelist (_whitelist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE whitelist_sender
  ADD COLUMN IF NOT EXISTS _whitelist char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _whitelist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description;
ALTER TABLE whitelist_sender
  MODIFY COLUMN _whitelist char(60) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _whitelist (_whitelist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- whitelist_dnsname -------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS whitelist_dnsname (
  _whitelist char(60) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _whitelist (_whitelist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE whitelist_dnsname
  ADD COLUMN IF NOT EXISTS _whitelist char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _whitelist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description;
ALTER TABLE whitelist_dnsname
  MODIFY COLUMN _whitelist char(60) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _whitelist (_whitelist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- blacklist ---------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS blacklist (
  _blacklist char(46) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _blacklist (_blacklist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE blacklist
  ADD COLUMN IF NOT EXISTS _blacklist char(46) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _blacklist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description,
  ADD COLUMN IF NOT EXISTS _cidr varchar(36) AS (IF(
      RTRIM(_blacklist) REGEXP '^[0-9a-f.:]+/[0-9]{1,3}$'
        AND CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED)
            <= 4 * LENGTH(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_blacklist), '/', 1)))),
      CONCAT(
        RPAD(CONCAT(
               LEFT(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_blacklist), '/', 1))),
                    CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED) DIV 4),
               IF(CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED) % 4 = 0, '',
                  HEX(CONV(SUBSTRING(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_blacklist), '/', 1))),
                                     CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED) DIV 4 + 1,
                                     1), 16, 10)
                      & (240 >> CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED) % 4) & 15))),
             LENGTH(HEX(INET6_ATON(SUBSTRING_INDEX(RTRIM(_blacklist), '/', 1)))), '0'),
        '/', CAST(SUBSTRING_INDEX(RTRIM(_blacklist), '/', -1) AS UNSIGNED)),
      NULL)) STORED INVISIBLE AFTER _expire;
ALTER TABLE blacklist
  MODIFY COLUMN _blacklist char(46) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _blacklist (_blacklist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ADD KEY IF NOT EXISTS _cidr (_cidr),
  ENGINE=InnoDB;

-- ---- blacklist_helo ----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS blacklist_helo (
  _helo char(60) NOT NULL default '',
  UNIQUE KEY _helo (_helo)
) ENGINE=InnoDB;
ALTER TABLE blacklist_helo
  ADD COLUMN IF NOT EXISTS _helo char(60) NOT NULL default '' FIRST;
ALTER TABLE blacklist_helo
  MODIFY COLUMN _helo char(60) NOT NULL default '',
  ADD UNIQUE KEY IF NOT EXISTS _helo (_helo),
  ENGINE=InnoDB;

-- ---- blacklist_sender --------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS blacklist_sender (
  _blacklist char(60) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _blacklist (_blacklist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE blacklist_sender
  ADD COLUMN IF NOT EXISTS _blacklist char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _blacklist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description;
ALTER TABLE blacklist_sender
  MODIFY COLUMN _blacklist char(60) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _blacklist (_blacklist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- blacklist_dnsname -------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS blacklist_dnsname (
  _blacklist char(60) NOT NULL default '',
  _description char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _blacklist (_blacklist),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE blacklist_dnsname
  ADD COLUMN IF NOT EXISTS _blacklist char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _description char(60) NOT NULL default '' AFTER _blacklist,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _description;
ALTER TABLE blacklist_dnsname
  MODIFY COLUMN _blacklist char(60) NOT NULL default '',
  MODIFY COLUMN _description char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _blacklist (_blacklist),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- spamtrap ----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS spamtrap (
  _rcpt char(60) NOT NULL default '',
  _active tinyint(1) unsigned NOT NULL default '1',
  UNIQUE KEY _rcpt (_rcpt,_active)
) ENGINE=InnoDB;
ALTER TABLE spamtrap
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _active tinyint(1) unsigned NOT NULL default '1' AFTER _rcpt;
ALTER TABLE spamtrap
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _active tinyint(1) unsigned NOT NULL default '1',
  ADD UNIQUE KEY IF NOT EXISTS _rcpt (_rcpt,_active),
  ENGINE=InnoDB;

-- ---- policy ------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS policy (
  _rcpt char(60) NOT NULL default '',
  _optin tinyint(1) unsigned NOT NULL default '1',
  _priority tinyint(1) unsigned NOT NULL default '0',
  UNIQUE KEY _rcpt (_rcpt,_optin)
) ENGINE=InnoDB;
ALTER TABLE policy
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _optin tinyint(1) unsigned NOT NULL default '1' AFTER _rcpt,
  ADD COLUMN IF NOT EXISTS _priority tinyint(1) unsigned NOT NULL default '0' AFTER _optin;
ALTER TABLE policy
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _optin tinyint(1) unsigned NOT NULL default '1',
  MODIFY COLUMN _priority tinyint(1) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _rcpt (_rcpt,_optin),
  ENGINE=InnoDB;

-- ---- policy_training ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS policy_training (
  _rcpt char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _rcpt (_rcpt),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE policy_training
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _rcpt;
ALTER TABLE policy_training
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _rcpt (_rcpt),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- rcpt_acl ----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS rcpt_acl (
  _sender char(60) NOT NULL default '',
  _rcpt char(60) NOT NULL default '',
  _wblist char(60) NOT NULL default '',
  _priority int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _rcpt (_rcpt,_sender)
) ENGINE=InnoDB;
ALTER TABLE rcpt_acl
  ADD COLUMN IF NOT EXISTS _sender char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' AFTER _sender,
  ADD COLUMN IF NOT EXISTS _wblist char(60) NOT NULL default '' AFTER _rcpt,
  ADD COLUMN IF NOT EXISTS _priority int(10) unsigned NOT NULL default '0' AFTER _wblist;
ALTER TABLE rcpt_acl
  MODIFY COLUMN _sender char(60) NOT NULL default '',
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _wblist char(60) NOT NULL default '',
  MODIFY COLUMN _priority int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _rcpt (_rcpt,_sender),
  ENGINE=InnoDB;

-- ---- helo --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS helo (
  _host char(46) NOT NULL default '',
  _helo char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _host (_host,_helo),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE helo
  ADD COLUMN IF NOT EXISTS _host char(46) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _helo char(60) NOT NULL default '' AFTER _host,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _helo;
ALTER TABLE helo
  MODIFY COLUMN _host char(46) NOT NULL default '',
  MODIFY COLUMN _helo char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _host (_host,_helo),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- throttle ----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS throttle (
  _from char(60) NOT NULL default '',
  _count_max mediumint(8) unsigned NOT NULL default '0',
  _count_cur mediumint(8) unsigned NOT NULL default '1',
  _date int(10) unsigned NOT NULL default '0',
  _quota_cur int(10) unsigned NOT NULL default '0',
  _quota_max int(10) unsigned NOT NULL default '0',
  _time_limit int(10) unsigned NOT NULL default '0',
  _mail_size int(10) unsigned NOT NULL default '0',
  _count_tot mediumint(8) unsigned NOT NULL default '1',
  _rcpt_max mediumint(8) unsigned NOT NULL default '0',
  _rcpt_cur mediumint(8) unsigned NOT NULL default '1',
  _rcpt_tot mediumint(8) unsigned NOT NULL default '1',
  _abuse_cur int(10) unsigned NOT NULL default '0',
  _abuse_tot int(10) unsigned NOT NULL default '0',
  _log_warn int(10) unsigned NOT NULL default '0',
  _log_panic int(10) unsigned NOT NULL default '0',
  _priority tinyint(1) unsigned NOT NULL default '0',
  UNIQUE KEY _from (_from)
) ENGINE=InnoDB;
ALTER TABLE throttle
  ADD COLUMN IF NOT EXISTS _from char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _count_max mediumint(8) unsigned NOT NULL default '0' AFTER _from,
  ADD COLUMN IF NOT EXISTS _count_cur mediumint(8) unsigned NOT NULL default '1' AFTER _count_max,
  ADD COLUMN IF NOT EXISTS _date int(10) unsigned NOT NULL default '0' AFTER _count_cur,
  ADD COLUMN IF NOT EXISTS _quota_cur int(10) unsigned NOT NULL default '0' AFTER _date,
  ADD COLUMN IF NOT EXISTS _quota_max int(10) unsigned NOT NULL default '0' AFTER _quota_cur,
  ADD COLUMN IF NOT EXISTS _time_limit int(10) unsigned NOT NULL default '0' AFTER _quota_max,
  ADD COLUMN IF NOT EXISTS _mail_size int(10) unsigned NOT NULL default '0' AFTER _time_limit,
  ADD COLUMN IF NOT EXISTS _count_tot mediumint(8) unsigned NOT NULL default '1' AFTER _mail_size,
  ADD COLUMN IF NOT EXISTS _rcpt_max mediumint(8) unsigned NOT NULL default '0' AFTER _count_tot,
  ADD COLUMN IF NOT EXISTS _rcpt_cur mediumint(8) unsigned NOT NULL default '1' AFTER _rcpt_max,
  ADD COLUMN IF NOT EXISTS _rcpt_tot mediumint(8) unsigned NOT NULL default '1' AFTER _rcpt_cur,
  ADD COLUMN IF NOT EXISTS _abuse_cur int(10) unsigned NOT NULL default '0' AFTER _rcpt_tot,
  ADD COLUMN IF NOT EXISTS _abuse_tot int(10) unsigned NOT NULL default '0' AFTER _abuse_cur,
  ADD COLUMN IF NOT EXISTS _log_warn int(10) unsigned NOT NULL default '0' AFTER _abuse_tot,
  ADD COLUMN IF NOT EXISTS _log_panic int(10) unsigned NOT NULL default '0' AFTER _log_warn,
  ADD COLUMN IF NOT EXISTS _priority tinyint(1) unsigned NOT NULL default '0' AFTER _log_panic;
ALTER TABLE throttle
  MODIFY COLUMN _from char(60) NOT NULL default '',
  MODIFY COLUMN _count_max mediumint(8) unsigned NOT NULL default '0',
  MODIFY COLUMN _count_cur mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _date int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _quota_cur int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _quota_max int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _time_limit int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _mail_size int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _count_tot mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _rcpt_max mediumint(8) unsigned NOT NULL default '0',
  MODIFY COLUMN _rcpt_cur mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _rcpt_tot mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _abuse_cur int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _abuse_tot int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _log_warn int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _log_panic int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _priority tinyint(1) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _from (_from),
  ENGINE=InnoDB;

-- ---- throttle_from_instance --------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS throttle_from_instance (
  _instance char(60) NOT NULL default '',
  _from char(60) NOT NULL default '',
  _expire int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _instance (_instance),
  KEY _expire (_expire)
) ENGINE=InnoDB;
ALTER TABLE throttle_from_instance
  ADD COLUMN IF NOT EXISTS _instance char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _from char(60) NOT NULL default '' AFTER _instance,
  ADD COLUMN IF NOT EXISTS _expire int(10) unsigned NOT NULL default '0' AFTER _from;
ALTER TABLE throttle_from_instance
  MODIFY COLUMN _instance char(60) NOT NULL default '',
  MODIFY COLUMN _from char(60) NOT NULL default '',
  MODIFY COLUMN _expire int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _instance (_instance),
  ADD KEY IF NOT EXISTS _expire (_expire),
  ENGINE=InnoDB;

-- ---- throttle_rcpt -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS throttle_rcpt (
  _rcpt char(60) NOT NULL default '',
  _count_max mediumint(8) unsigned NOT NULL default '0',
  _count_cur mediumint(8) unsigned NOT NULL default '1',
  _date int(10) unsigned NOT NULL default '0',
  _time_limit int(10) unsigned NOT NULL default '0',
  _count_tot mediumint(8) unsigned NOT NULL default '1',
  _abuse_cur int(10) unsigned NOT NULL default '0',
  _abuse_tot int(10) unsigned NOT NULL default '0',
  _log_warn int(10) unsigned NOT NULL default '0',
  _log_panic int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _rcpt (_rcpt)
) ENGINE=InnoDB;
ALTER TABLE throttle_rcpt
  ADD COLUMN IF NOT EXISTS _rcpt char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _count_max mediumint(8) unsigned NOT NULL default '0' AFTER _rcpt,
  ADD COLUMN IF NOT EXISTS _count_cur mediumint(8) unsigned NOT NULL default '1' AFTER _count_max,
  ADD COLUMN IF NOT EXISTS _date int(10) unsigned NOT NULL default '0' AFTER _count_cur,
  ADD COLUMN IF NOT EXISTS _time_limit int(10) unsigned NOT NULL default '0' AFTER _date,
  ADD COLUMN IF NOT EXISTS _count_tot mediumint(8) unsigned NOT NULL default '1' AFTER _time_limit,
  ADD COLUMN IF NOT EXISTS _abuse_cur int(10) unsigned NOT NULL default '0' AFTER _count_tot,
  ADD COLUMN IF NOT EXISTS _abuse_tot int(10) unsigned NOT NULL default '0' AFTER _abuse_cur,
  ADD COLUMN IF NOT EXISTS _log_warn int(10) unsigned NOT NULL default '0' AFTER _abuse_tot,
  ADD COLUMN IF NOT EXISTS _log_panic int(10) unsigned NOT NULL default '0' AFTER _log_warn;
ALTER TABLE throttle_rcpt
  MODIFY COLUMN _rcpt char(60) NOT NULL default '',
  MODIFY COLUMN _count_max mediumint(8) unsigned NOT NULL default '0',
  MODIFY COLUMN _count_cur mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _date int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _time_limit int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _count_tot mediumint(8) unsigned NOT NULL default '1',
  MODIFY COLUMN _abuse_cur int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _abuse_tot int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _log_warn int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _log_panic int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _rcpt (_rcpt),
  ENGINE=InnoDB;

-- ---- distributed_origin ------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS distributed_origin (
  _key char(60) NOT NULL default '',
  _origin char(46) NOT NULL default '',
  _first int(10) unsigned NOT NULL default '0',
  _last int(10) unsigned NOT NULL default '0',
  UNIQUE KEY _key (_key,_origin),
  KEY _key_last (_key,_last),
  KEY _last (_last)
) ENGINE=InnoDB;
ALTER TABLE distributed_origin
  ADD COLUMN IF NOT EXISTS _key char(60) NOT NULL default '' FIRST,
  ADD COLUMN IF NOT EXISTS _origin char(46) NOT NULL default '' AFTER _key,
  ADD COLUMN IF NOT EXISTS _first int(10) unsigned NOT NULL default '0' AFTER _origin,
  ADD COLUMN IF NOT EXISTS _last int(10) unsigned NOT NULL default '0' AFTER _first;
ALTER TABLE distributed_origin
  MODIFY COLUMN _key char(60) NOT NULL default '',
  MODIFY COLUMN _origin char(46) NOT NULL default '',
  MODIFY COLUMN _first int(10) unsigned NOT NULL default '0',
  MODIFY COLUMN _last int(10) unsigned NOT NULL default '0',
  ADD UNIQUE KEY IF NOT EXISTS _key (_key,_origin),
  ADD KEY IF NOT EXISTS _key_last (_key,_last),
  ADD KEY IF NOT EXISTS _last (_last),
  ENGINE=InnoDB;
