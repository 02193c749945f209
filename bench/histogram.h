// NAME
//   histogram.h - latency histogram with bounded relative error (HDR-style)
// SYNOPSIS
//   #include "histogram.h"
//   bench::Histogram h;
//   h.record(latency_us);
//   double p99_ms = h.percentile(99.0) / 1000.0;
//   total.merge(h);
// DESCRIPTION
//   Values (microseconds) go into log-linear buckets, as HdrHistogram does
//   with two significant figures: below 128 each value has its own bucket;
//   above, every power-of-two range is split into 64 equal buckets, so a
//   reported percentile is within 1/64 (1.6 %) of the true value, whatever
//   the range (1 us to hours), in a fixed 30 KiB of counters. Count, sum
//   and maximum are kept exactly.
//
//   A Histogram is used by one thread; per-thread histograms are merged.
#pragma once

#include <array>
#include <cstdint>

namespace bench {

class Histogram {
public:
    void record(std::uint64_t value);
    void merge(const Histogram& other);

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
    // Smallest bucket bound below which `percent` of the values lie
    // (the highest value equivalent to that bucket), capped at max().
    // 0 when empty.
    std::uint64_t percentile(double percent) const;

    // Bucket arithmetic, exposed for the unit tests.
    static std::size_t bucket_of(std::uint64_t value);
    static std::uint64_t highest_in(std::size_t bucket);

private:
    static constexpr unsigned kSubBits = 6;                       // 64 buckets per octave
    static constexpr std::size_t kBuckets = (64 - kSubBits + 1) << kSubBits;  // to 2^64
    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace bench
