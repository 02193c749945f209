// NAME
//   fuzz_config.cpp - libFuzzer target: the policyd.conf parser
// SYNOPSIS
//   tests/fuzz/run.sh            (builds with clang++ -fsanitize=fuzzer,address,undefined)
// DESCRIPTION
//   parse_config() on arbitrary text must either return a Config or throw
//   ConfigError naming the problem: no other exception, no crash, no
//   undefined behaviour (overflowing durations, odd CONN_ACL entries, long
//   lines, NUL bytes). A Config it returns must hold every numeric value
//   inside its key's range and no '\r' in any text, survive config_dump()
//   and never show the password there.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

using namespace policyd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    try {
        const Config config = parse_config(text, "fuzz.conf");
        for (const KeySpec& key : config_keys()) {
            if (is_numeric(key) && (config.*key.number < key.min || config.*key.number > key.max))
                std::abort();  // accepted a value outside its documented range
            if (key.text && (config.*key.text).find('\r') != std::string::npos)
                std::abort();  // a carriage return reached a value
        }
        Config other = config;
        other.mysqlpass = config.mysqlpass + "-other";
        if (config_dump(config, "fuzz") != config_dump(other, "fuzz"))
            std::abort();  // the password shows in the dump
    } catch (const ConfigError&) {
        // a rejected file: what it is for
    }
    return 0;
}
