// NAME
//   explain.cpp - run the Pipeline in a rolled-back transaction and report (see explain.h)
// DESCRIPTION
//   A Recorder is both the session's StatementObserver and the pipeline's
//   CheckObserver: statements and decision lines are filed under the check
//   that is running. The row a list-style check matched (Check::row_lookup)
//   is read back with that same question, so the report names the table
//   and the row's key columns without knowing any check's tables.
#include "explain/explain.h"

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/config_settings.h"
#include "db/session.h"
#include "policy/pipeline.h"
#include "protocol/attributes.h"
#include "protocol/normalizer.h"

namespace policyd {
namespace {

constexpr std::size_t kRowsShown = 5;

// Finds tables of the current database that cannot roll back.
const std::string kNonTransactional =
    "SELECT t.TABLE_NAME, t.ENGINE FROM information_schema.TABLES t "
    "JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE "
    "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' "
    "AND e.TRANSACTIONS <> 'YES' ORDER BY t.TABLE_NAME";

// What the decision tokens mean, for the verdict line; others show as is.
// The throttles' tokens are looked up without their "(letter)".
const std::map<std::string, std::string, std::less<>> kMeanings = {
    {"greylist=new", "new triplet"},
    {"greylist=new_train", "new triplet (training: not deferred)"},
    {"greylist=update", "known triplet retried after the delay"},
    {"greylist=update_train", "known triplet (training)"},
    {"greylist=abuse", "known triplet retried too soon"},
    {"greylist=optout", "recipient opted out of greylisting"},
    {"greylist=awl", "client auto-whitelisted"},
    {"greylist=abl", "client auto-blacklisted"},
    {"whitelist=update", "client address whitelisted"},
    {"whitelist_sender=update", "sender whitelisted"},
    {"whitelist_dnsname=update", "client name whitelisted"},
    {"blacklist=update", "client address blacklisted"},
    {"blacklist_sender=update", "sender blacklisted"},
    {"blacklist_dnsname=update", "client name blacklisted"},
    {"blacklist_helo=new", "HELO name blacklisted"},
    {"spamtrap=new", "recipient is a spamtrap"},
    {"helo=abuse", "too many HELO names from this client"},
    {"rcpt_acl=block", "recipient refused by rcpt_acl"},
    {"distributed_origin=block", "too many origins for this sender"},
    {"throttle=new", "first message of this sender: a throttle row is created"},
    {"throttle=update", "sender within its limits"},
    {"throttle=clear", "sender's window is over: its counters start again"},
    {"throttle=abuse", "sender over a limit of its throttle row"},
    {"throttle=blacklisted", "sender blacklisted by the throttle"},
    {"throttle_rcpt=new", "first message to this recipient: a throttle_rcpt row is created"},
    {"throttle_rcpt=update", "recipient within its limit"},
    {"throttle_rcpt=clear", "recipient's window is over: its counter starts again"},
    {"throttle_rcpt=abuse", "recipient over the limit of its throttle_rcpt row"},
    {"module=bypass", "no check decided"},
};

std::string quoted(const db::Param& p) {
    if (const auto* s = std::get_if<std::string>(&p)) return "'" + *s + "'";
    return std::to_string(std::get<long long>(p));
}

// The values a statement was given; the lists' dozens of CIDR candidates
// are cut short.
std::string values_of(const std::vector<db::Param>& params) {
    constexpr std::size_t kShown = 8;
    std::string text;
    for (std::size_t i = 0; i < params.size() && i < kShown; ++i)
        text += (text.empty() ? "" : ", ") + quoted(params[i]);
    if (params.size() > kShown) text += ", ... (" + std::to_string(params.size()) + " values)";
    return text;
}

std::string row_text(const std::vector<std::string>& columns, const db::Row& row) {
    std::string text;
    for (std::size_t c = 0; c < row.size(); ++c) {
        if (!text.empty()) text += ", ";
        text += (c < columns.size() ? columns[c] : "?") + "=" + row[c].value_or("NULL");
    }
    return text;
}

// "UPDATE throttle", "INSERT INTO triplet", "SELECT ... FROM whitelist": the
// statements are long; the verb and table say what they touch.
std::string summary(const std::string& sql) {
    if (sql.find(" UNION ALL ") != std::string::npos) {  // the checks' row lookups together
        std::string tables;
        for (std::size_t at = sql.find(" FROM "); at != std::string::npos;
             at = sql.find(" FROM ", at + 1)) {
            const std::size_t start = at + 6;
            tables += (tables.empty() ? "" : ", ") + sql.substr(start, sql.find(' ', start) - start);
        }
        return "the row lookups of " + tables + " in one statement";
    }
    const std::string verb = sql.substr(0, sql.find(' '));
    // (an INSERT ... SELECT ... FROM DUAL WHERE NOT EXISTS ... carries row lookups)
    for (const char* marker : {verb == "INSERT" ? " INTO " : " FROM ", " FROM ", " INTO ", "UPDATE "}) {
        const std::size_t at = sql.find(marker);
        if (at == std::string::npos) continue;
        const std::size_t start = at + std::string(marker).size();
        const std::string table = sql.substr(start, sql.find_first_of(" (", start) - start);
        if (verb == "SELECT") return "SELECT ... FROM " + table;
        if (verb == "UPDATE") return "UPDATE " + table;
        return verb + " INTO " + table;
    }
    return sql.size() > 60 ? sql.substr(0, 60) + " ..." : sql;
}

struct CheckReport {
    explicit CheckReport(const Check* c) : check(c) {}
    const Check* check;
    enum class State { NotReached, NotEnabled, SkippedAfterPass, Ran } state = State::NotReached;
    std::vector<std::string> lines;   // statements and their answers
    std::vector<std::string> logged;  // decision and other log lines
    std::string last_token;
    Decision decision = Decision::Continue;
    std::string failure;
};

class Recorder final : public db::StatementObserver, public CheckObserver {
public:
    Recorder(const Pipeline& pipeline, const Config& config, db::Session& db) : db_(db) {
        for (const auto& check : pipeline.checks()) {
            reports_.emplace_back(check.get());
            if (!check->enabled(config)) reports_.back().state = CheckReport::State::NotEnabled;
        }
    }
    void attach(CheckContext& ctx) { ctx_ = &ctx; }

    void statement(const std::string& sql, const std::vector<db::Param>& params,
                   const std::vector<std::string>& columns, const std::vector<db::Row>* rows,
                   std::uint64_t affected) override {
        std::vector<std::string>& out = current().lines;
        const std::string with = params.empty() ? "" : " with " + values_of(params);
        if (!rows || db::writes_rows(sql)) {
            // A write; with RETURNING (the throttles, distributed_origin) it
            // returns the rows it wrote, shown like a lookup's.
            const std::uint64_t changed = rows ? rows->size() : affected;
            out.push_back("would change: " + summary(sql) + with + " -> " +
                          std::to_string(changed) + (changed == 1 ? " row" : " rows"));
            ++writes_;
            rows_written_ += changed;
            for (std::size_t i = 0; rows && i < rows->size() && i < kRowsShown; ++i)
                out.push_back("    " + row_text(columns, (*rows)[i]));
            return;
        }
        out.push_back("looked up: " + summary(sql) + with + " -> " +
                      (rows->empty() ? "no row" : std::to_string(rows->size()) +
                                                      (rows->size() == 1 ? " row" : " rows")));
        // A row lookup's answer is the index of each check that matched;
        // show_matched_row() shows the rows themselves.
        const bool lookup_indices = columns.size() == 1 && !columns[0].empty() &&
                                    columns[0].find_first_not_of("0123456789") == std::string::npos;
        for (std::size_t i = 0; !lookup_indices && i < rows->size() && i < kRowsShown; ++i)
            out.push_back("    " + row_text(columns, (*rows)[i]));
    }
    void failed(const std::string& sql, const std::vector<db::Param>& params,
                const std::string& error) override {
        current().lines.push_back("failed: " + summary(sql) + " with " + values_of(params) + ": " +
                                  error);
    }

    void skipped_after_pass(const Check& check) override {
        find(check).state = CheckReport::State::SkippedAfterPass;
    }
    void started(const Check& check) override {
        running_ = &find(check);
        running_->state = CheckReport::State::Ran;
    }
    void finished(const Check& check, Decision decision, const std::exception* failure) override {
        CheckReport& report = find(check);
        report.decision = decision;
        if (failure) report.failure = failure->what();
        if (decision != Decision::Continue && !failure) show_matched_row(report);
        running_ = nullptr;
    }

    // A statement sent for another check than the running one (the triplet
    // INSERT that carries the lists' lookups) is filed under that check.
    void working_for(const Check& check) { running_ = &find(check); }

    void logged(std::string_view token, std::string line) {
        current().logged.push_back(std::move(line));
        if (!token.empty()) current().last_token = token;
    }

    const std::vector<CheckReport>& reports() const { return reports_; }
    const CheckReport& pipeline_report() const { return outside_; }
    std::uint64_t writes() const { return writes_; }
    std::uint64_t rows_written() const { return rows_written_; }

private:
    CheckReport& current() { return running_ ? *running_ : outside_; }
    CheckReport& find(const Check& check) {
        for (auto& r : reports_)
            if (r.check == &check) return r;
        return outside_;
    }
    // The rows behind a list-style check's match, asked with its own question.
    void show_matched_row(CheckReport& report) {
        const auto lookup = report.check->row_lookup(*ctx_);
        if (!lookup) return;
        db_.set_observer(nullptr);
        std::vector<db::Row> rows;
        try {
            rows = db_.query(std::string("SELECT * FROM ") + lookup->table + " WHERE " +
                             lookup->condition + " LIMIT " + std::to_string(kRowsShown),
                             lookup->params);
        } catch (const db::Error& e) {
            report.lines.push_back(std::string("matched a row of ") + lookup->table +
                                   " (cannot show it: " + e.what() + ")");
        }
        const auto columns = db_.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                                       "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
                                       "ORDER BY ORDINAL_POSITION",
                                       {std::string(lookup->table)});
        std::vector<std::string> names;
        for (const auto& c : columns) names.push_back(c[0].value_or("?"));
        for (const auto& row : rows)
            report.lines.push_back(std::string("matched ") + lookup->table + " row: " +
                                   row_text(names, row));
        db_.set_observer(this);
    }

    db::Session& db_;
    CheckContext* ctx_ = nullptr;
    std::vector<CheckReport> reports_;
    CheckReport outside_{nullptr};  // the pipeline's own lines (module=bypass)
    CheckReport* running_ = nullptr;
    std::uint64_t writes_ = 0;
    std::uint64_t rows_written_ = 0;
};

// Decision lines go to the report instead of the log.
class RecordingContext final : public CheckContext {
public:
    RecordingContext(const Request& request, const Config& config, db::Session& db,
                     Recorder& recorder)
        : CheckContext(request, config, db, std::time(nullptr), 1, -1), recorder_(recorder) {}
    void log_decision_tail(std::string_view token, std::string_view tail) override {
        recorder_.logged(token, decision_text(token, tail));
    }
    void log_line(std::string_view line) override { recorder_.logged({}, std::string(line)); }
    void working_for(const Check& check) override { recorder_.working_for(check); }

private:
    Recorder& recorder_;
};

std::string action_of(Decision decision, const Request& request, const Config& config) {
    switch (decision) {
    case Decision::Continue: return "no opinion: the next check decides";
    case Decision::Pass: return "would pass (checks that resume after a pass still run)";
    default: break;
    }
    const std::string reply = reply_for(decision, request, config);
    if (reply.rfind("action=reject", 0) == 0) return "would reject";
    if (reply.rfind("action=defer", 0) == 0) return "would defer";
    return "would accept";
}

std::string meaning(const std::string& token) {
    auto it = kMeanings.find(token);
    if (it == kMeanings.end()) it = kMeanings.find(std::string_view(token).substr(0, token.find('(')));
    return it != kMeanings.end() ? it->second : token;
}

void print_check(std::ostream& out, const CheckReport& r, const Request& request,
                 const Config& config) {
    const std::string name(r.check->name());
    switch (r.state) {
    case CheckReport::State::NotEnabled:
        out << name << ": not enabled\n";
        return;
    case CheckReport::State::SkippedAfterPass:
        out << name << ": enabled, not run (an earlier check passed the request)\n";
        return;
    case CheckReport::State::NotReached:
        out << name << ": enabled, not reached\n";
        return;
    case CheckReport::State::Ran: break;
    }
    out << name << ": enabled\n";
    for (const auto& line : r.lines) out << "  " << line << "\n";
    for (const auto& line : r.logged) out << "  logs: " << line << "\n";
    if (!r.failure.empty()) out << "  database failure: " << r.failure << " (FAILSAFE applies)\n";
    const std::string what = r.last_token.empty() ? "no match" : meaning(r.last_token);
    out << "  verdict: " << name << ": " << what << ", " << action_of(r.decision, request, config)
        << "\n";
}

}  // namespace

int explain(const Config& config, const ExplainInput& input, std::ostream& out) {
    db::Settings settings = db::settings_from_config(config);
    settings.log_outages = false;
    db::Session db(settings);
    try {
        db.connect();
        const auto unsafe = db.query(kNonTransactional);
        if (!unsafe.empty()) {
            out << "policyd --explain: refused: these tables cannot roll back, so explaining "
                   "would change them:\n";
            for (const auto& row : unsafe)
                out << "  " << row[0].value_or("?") << " (ENGINE=" << row[1].value_or("?") << ")\n";
            out << "convert them to InnoDB (database/upgrade-from-1.x.sql does, see "
                   "docs/MIGRATION.md), e.g. ALTER TABLE "
                << unsafe.front()[0].value_or("?") << " ENGINE=InnoDB\n";
            return 1;
        }
    } catch (const db::Error& e) {
        out << "policyd --explain: cannot use the database: " << e.what() << "\n";
        return 1;
    }

    const Request request = normalize(Attributes(input.request),
                                      static_cast<int>(config.greylist_hostaddr),
                                      static_cast<int>(config.greylist_ipv6_prefix));
    out << "policyd --explain: evaluating the " << input.origin
        << " against the live database; nothing is changed (one transaction, rolled back)\n";
    out << "request:\n";
    for (std::size_t at = 0; at < input.request.size();) {
        const std::size_t nl = input.request.find('\n', at);
        out << "  " << input.request.substr(at, nl - at) << "\n";
        at = nl + 1;
    }
    out << "\n";

    const Pipeline pipeline = Pipeline::standard();
    Recorder recorder(pipeline, config, db);
    std::string reply;
    try {
        db.begin();
    } catch (const db::Error& e) {
        out << "policyd --explain: cannot start a transaction: " << e.what() << "\n";
        return 1;
    }
    db.set_observer(&recorder);
    {
        RecordingContext ctx(request, config, db, recorder);
        recorder.attach(ctx);
        reply = pipeline.evaluate_observed(ctx, recorder);
    }
    db.set_observer(nullptr);
    db.rollback();

    for (const auto& report : recorder.reports()) print_check(out, report, request, config);
    for (const auto& line : recorder.pipeline_report().logged) out << "logs: " << line << "\n";
    if (reply == "action=defer_if_permit Invalid data")
        out << "the request lacks an attribute an enabled check needs: no check ran\n";
    out << "\nreply: " << reply << "\n";
    out << "nothing was changed: " << recorder.writes() << " write statement"
        << (recorder.writes() == 1 ? "" : "s") << " (" << recorder.rows_written() << " row"
        << (recorder.rows_written() == 1 ? "" : "s") << ") rolled back\n";
    return 0;
}

}  // namespace policyd
