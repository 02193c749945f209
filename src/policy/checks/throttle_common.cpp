// NAME
//   throttle_common.cpp - shared throttle rules (see throttle_common.h)
// DESCRIPTION
//   The SQL fragments are plain strings that the throttles join into their
//   NamedSql statements once, at static initialisation; nothing here is
//   built per request except the bound values.
#include "policy/checks/throttle_common.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace policyd {

long long clamp_column(long long v, long long max) { return std::clamp(v, 0LL, max); }

long long row_number(const db::Row& row, std::size_t i) {
    return row[i] ? std::stoll(*row[i]) : 0;
}

long long effective(long long stored, long long config_default) {
    return stored == 0 ? config_default : stored;
}

long long message_size(const Request& request) {
    // atol(): optional blanks and sign, then digits up to the first other
    // character. Only the value matters, and it is clamped anyway.
    const std::string& s = request.size;
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    long long value = 0;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
        value = value * 10 + (s[i] - '0');
        if (value > kIntMax) break;  // saturates below; no overflow
    }
    return negative ? 0 : clamp_column(value, kIntMax);
}

bool window_expired(long long now, long long date, long long time_limit) {
    return now > date + time_limit;
}

std::string window_expired_sql() {
    return "(:now > CAST(_date AS SIGNED) + IF(_time_limit = 0, :time_limit, _time_limit))";
}

std::string decision_sql(const std::string& admit) {
    return "_abuse_tot = IF(" + window_expired_sql() + ", LEAST(_abuse_tot + _abuse_cur, " +
           std::to_string(kIntMax) + "), _abuse_tot), _abuse_cur = IF(" + admit + ", 0, 1)";
}

std::string admitted_counter_sql(const std::string& column, const std::string& reset,
                                 const std::string& step, long long max) {
    return column + " = IF(_abuse_cur = 0, IF(" + window_expired_sql() + ", " + reset +
           ", LEAST(" + column + " + " + step + ", " + std::to_string(max) + ")), " + column + ")";
}

std::string admitted_total_sql(const std::string& column, const std::string& step, long long max) {
    return column + " = IF(_abuse_cur = 0, LEAST(" + column + " + " + step + ", " +
           std::to_string(max) + "), " + column + ")";
}

std::string window_start_sql() {
    return "_date = IF(_abuse_cur = 0 AND " + window_expired_sql() + ", :now, _date)";
}

std::string effective_sql(const std::string& column, const std::string& name) {
    return "IF(" + column + " = 0, :" + name + ", " + column + ")";
}

long long percent(long long cur, long long max) {
    if (max <= 0) return 100;
    return static_cast<long long>(static_cast<double>(cur) / static_cast<double>(max) * 100.0);
}

Verdict verdict_of(long long abuse_cur, long long now, long long date, long long cur,
                   long long tot) {
    if (abuse_cur != 0) return Verdict::Refused;
    return date == now && cur == 1 && tot == 1 ? Verdict::Created : Verdict::Admitted;
}

bool window_restarted(long long now, long long date, long long cur) {
    return date == now && cur == 1;
}

char threshold_letter(long long max_percent) {
    if (max_percent <= 49) return 'a';
    if (max_percent <= 89) return 'w';
    return 'p';
}

NamedSql::NamedSql(std::string_view text) {
    auto is_name = [](char c) { return std::islower(static_cast<unsigned char>(c)) || c == '_'; };
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == ':' && i + 1 < text.size() && is_name(text[i + 1])) {
            std::size_t end = i + 1;
            while (end < text.size() && is_name(text[end])) ++end;
            names_.emplace_back(text.substr(i + 1, end - i - 1));
            sql_ += '?';
            i = end;
        } else {
            sql_ += text[i++];
        }
    }
}

std::vector<db::Param> NamedSql::bind(const std::map<std::string, db::Param>& values) const {
    std::vector<db::Param> params;
    params.reserve(names_.size());
    for (const auto& name : names_) {
        auto it = values.find(name);
        if (it == values.end()) throw std::logic_error("no value for :" + name + " in " + sql_);
        params.push_back(it->second);
    }
    return params;
}

}  // namespace policyd
