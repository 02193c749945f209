// NAME
//   histogram.cpp - log-linear latency buckets (see histogram.h)
// DESCRIPTION
//   Bucket b of octave e >= 1 holds values whose top 7 bits are 64+s:
//   index = e*64 + (value >> e), which continues the exact buckets 0..127
//   of octave 0 without a gap.
#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bench {

std::size_t Histogram::bucket_of(std::uint64_t value) {
    const int msb = 63 - std::countl_zero(value | 1);
    const int octave = std::max(0, msb - static_cast<int>(kSubBits));
    return (static_cast<std::size_t>(octave) << kSubBits) + (value >> octave);
}

std::uint64_t Histogram::highest_in(std::size_t bucket) {
    const std::size_t per_octave = std::size_t{1} << kSubBits;
    const std::size_t octave = bucket < 2 * per_octave ? 0 : bucket / per_octave - 1;
    const std::uint64_t low = static_cast<std::uint64_t>(bucket - (octave << kSubBits)) << octave;
    return low + ((std::uint64_t{1} << octave) - 1);
}

void Histogram::record(std::uint64_t value) {
    const std::size_t b = std::min(bucket_of(value), kBuckets - 1);
    ++counts_[b];
    ++count_;
    sum_ += value;
    max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double percent) const {
    if (count_ == 0) return 0;
    const double wanted = std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_);
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(wanted)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(highest_in(i), max_);
    }
    return max_;
}

}  // namespace bench
