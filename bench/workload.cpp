// NAME
//   workload.cpp - request generation for policyd-bench (see workload.h)
// DESCRIPTION
//   Each kind keeps its own counter, so the n-th "new" message is the same
//   whatever else the mix contains; the kind of a message is a hash of the
//   message number mapped onto the weights, so mixes interleave evenly
//   without a shared random generator.
#include "workload.h"

#include <charconv>

namespace bench {
namespace {

constexpr std::array<std::string_view, kKinds> kNames = {
    "new", "retry", "whitelisted", "blacklisted", "throttled", "multi-rcpt"};

constexpr std::string_view kMixed =
    "new=20,retry=50,whitelisted=15,blacklisted=5,throttled=5,multi-rcpt=5";

// The attributes that vary; everything else is the same for every request.
struct Fields {
    std::string client_address;
    std::string client_name;
    std::string helo;
    std::string sender;
    std::string recipient;
    std::string instance;
    std::string sasl_method;
    std::string sasl_username;
    std::uint64_t size = 0;
    unsigned client_port = 0;
};

// Postfix 3.x smtpd_check.c sends these, in this order.
std::string render(const Fields& f) {
    std::string s;
    s.reserve(900);
    auto add = [&s](std::string_view name, std::string_view value) {
        s.append(name).append("=").append(value).append("\n");
    };
    add("request", "smtpd_access_policy");
    add("protocol_state", "RCPT");
    add("protocol_name", "ESMTP");
    add("helo_name", f.helo);
    add("queue_id", "");
    add("sender", f.sender);
    add("recipient", f.recipient);
    add("recipient_count", "0");
    add("client_address", f.client_address);
    add("client_name", f.client_name);
    add("reverse_client_name", f.client_name);
    add("instance", f.instance);
    add("sasl_method", f.sasl_method);
    add("sasl_username", f.sasl_username);
    add("sasl_sender", "");
    add("size", std::to_string(f.size));
    add("ccert_subject", "");
    add("ccert_issuer", "");
    add("ccert_fingerprint", "");
    add("ccert_pubkey_fingerprint", "");
    add("encryption_protocol", "TLSv1.3");
    add("encryption_cipher", "TLS_AES_256_GCM_SHA384");
    add("encryption_keysize", "256");
    add("etrn_domain", "");
    add("stress", "");
    add("policy_context", "");
    add("server_address", "127.0.0.1");
    add("server_port", "25");
    add("compatibility_level", "3.6");
    add("mail_version", "3.7.11");
    add("client_port", std::to_string(f.client_port));
    s.append("\n");
    return s;
}

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string octets(std::uint64_t n) {  // two low octets "x.y" of a /16
    return std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
}

std::string hex(std::uint64_t n) {
    char buf[17];
    auto end = std::to_chars(buf, buf + sizeof buf, n, 16).ptr;
    return std::string(buf, end);
}

// One of 254 hosts: "a.b.c" + ".1-254", or an IPv6 prefix "x:y:z" + "::1-fe".
std::string host_in(const std::string& prefix, std::uint64_t n) {
    const std::uint64_t host = n % 254 + 1;
    if (prefix.find(':') != std::string::npos) return prefix + "::" + hex(host);
    return prefix + "." + std::to_string(host);
}

// The base of every kind: a client, its names and a unique envelope.
Fields unique_envelope(std::string_view tag, std::uint64_t n, const std::string& run,
                       std::string client_address) {
    Fields f;
    const std::string id = std::string(tag) + std::to_string(n) + "." + run;
    f.client_address = std::move(client_address);
    f.client_name = "mx" + std::to_string(n % 1000) + ".sender.bench.example";
    f.helo = f.client_name;
    f.sender = "s" + id + "@sender.bench.example";
    f.recipient = "r" + id + "@rcpt.bench.example";
    f.instance = hex(n) + "." + run + ".0";
    f.size = 1000 + mix64(n) % 200000;
    f.client_port = 1024 + static_cast<unsigned>(mix64(n + 1) % 64000);
    return f;
}

}  // namespace

std::string_view kind_name(Kind kind) { return kNames[static_cast<std::size_t>(kind)]; }

Mix parse_mix(std::string_view text) {
    if (text == "mixed") text = kMixed;
    Mix mix;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        unsigned weight = 1;
        if (const auto eq = item.find('='); eq != std::string_view::npos) {
            const std::string_view w = item.substr(eq + 1);
            const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
            if (ec != std::errc() || ptr != w.data() + w.size() || weight == 0)
                throw std::invalid_argument("bad weight in mix: '" + std::string(item) + "'");
            item = item.substr(0, eq);
        }
        bool known = false;
        for (std::size_t k = 0; k < kKinds; ++k) {
            if (kNames[k] != item) continue;
            mix.push_back({static_cast<Kind>(k), weight});
            known = true;
        }
        if (!known)
            throw std::invalid_argument("unknown mix '" + std::string(item) +
                                        "' (new, retry, whitelisted, blacklisted, throttled, "
                                        "multi-rcpt, mixed, or kind=weight,...)");
    }
    if (mix.empty()) throw std::invalid_argument("empty mix");
    return mix;
}

std::string describe(const Mix& mix) {
    std::string s;
    for (const auto& e : mix) {
        if (!s.empty()) s += ",";
        s.append(kind_name(e.kind)).append("=").append(std::to_string(e.weight));
    }
    return s;
}

Workload::Workload(Mix mix, WorkloadOptions options)
    : mix_(std::move(mix)), options_(std::move(options)) {
    for (const auto& e : mix_) total_weight_ += e.weight;
    if (options_.retry_pool == 0) options_.retry_pool = 1;
    if (options_.rcpts == 0) options_.rcpts = 1;
}

bool Workload::needs_seeding() const {
    for (const auto& e : mix_)
        if (e.kind == Kind::Retry) return true;
    return false;
}

Kind Workload::kind_for(std::uint64_t message) const {
    if (mix_.size() == 1) return mix_.front().kind;
    auto slot = static_cast<unsigned>(mix64(message) % total_weight_);
    for (const auto& e : mix_) {
        if (slot < e.weight) return e.kind;
        slot -= e.weight;
    }
    return mix_.back().kind;
}

Message Workload::next() {
    const Kind kind = kind_for(messages_.fetch_add(1, std::memory_order_relaxed));
    const auto n = per_kind_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    return build(kind, n);
}

std::string Workload::seed_request(std::uint64_t index) const {
    return build(Kind::Retry, index).front();
}

Message Workload::build(Kind kind, std::uint64_t n) const {
    const std::string& run = options_.run_id;
    switch (kind) {
    case Kind::New:
        return {render(unique_envelope("n", n, run, "198.18." + octets(n)))};
    case Kind::Retry: {
        const std::uint64_t i = n % options_.retry_pool;
        return {render(unique_envelope("t", i, run, "198.19." + octets(i)))};
    }
    case Kind::Whitelisted:
        return {render(unique_envelope("w", n, run, host_in(options_.whitelisted_prefix, n)))};
    case Kind::Blacklisted:
        return {render(unique_envelope("b", n, run, host_in(options_.blacklisted_prefix, n)))};
    case Kind::Throttled: {
        Fields f = unique_envelope("h", n, run, "198.51.100.7");
        f.client_name = f.helo = "mx.hammer.bench.example";
        f.sender = "hammer." + run + "@hammer.bench.example";
        f.sasl_method = "PLAIN";
        f.sasl_username = "hammer." + run;
        return {render(f)};
    }
    case Kind::MultiRcpt: {
        Fields f = unique_envelope("m", n, run, "198.18.255." + std::to_string(n % 254 + 1));
        Message message;
        for (unsigned j = 0; j < options_.rcpts; ++j) {
            f.recipient = "r" + std::to_string(j) + ".m" + std::to_string(n) + "." + run +
                          "@rcpt.bench.example";
            message.push_back(render(f));
        }
        return message;
    }
    }
    return {};
}

}  // namespace bench
