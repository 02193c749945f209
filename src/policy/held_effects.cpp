// NAME
//   held_effects.cpp - a request's log lines and counts (see held_effects.h)
#include "policy/held_effects.h"

#include <chrono>
#include <map>
#include <mutex>

#include "log/log.h"

namespace policyd {
namespace {

void log_at_most_once_a_minute(const std::string& key) {
    static std::mutex mutex;
    static std::map<std::string, std::chrono::steady_clock::time_point> last_logged;
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto [it, inserted] = last_logged.try_emplace(key, now);
        if (!inserted) {
            if (now - it->second < std::chrono::minutes(1)) return;
            it->second = now;
        }
    }
    log::line("error: " + key);
}

}  // namespace

void HeldEffects::failure(std::string_view check, std::string_view what) {
    failures_.push_back(std::string(check).append(": ").append(what));
}

void HeldEffects::release(Stats* stats) {
    for (const std::string& key : failures_) log_at_most_once_a_minute(key);
    for (const std::string& text : lines_) log::line(text);
    if (stats) {
        for (const std::string& token : tokens_) stats->token(token);
        for (unsigned i = 0; i < database_errors_; ++i) stats->database_error();
        if (outcome_) stats->outcome(outcome_->first, outcome_->second);
    }
    drop();
}

void HeldEffects::drop() {
    lines_.clear();
    tokens_.clear();
    database_errors_ = 0;
    failures_.clear();
    outcome_.reset();
}

}  // namespace policyd
