// NAME
//   ascii.h - locale-independent ASCII case folding for protocol text
// SYNOPSIS
//   #include "protocol/ascii.h"
//   char c = ascii_lower(byte);
// DESCRIPTION
//   The reference folded with tolower() in the C locale: only 'A'..'Z'
//   change, every other byte (including >= 0x80) is left alone. Doing it
//   by hand keeps that true whatever locale the process runs in.
#pragma once

namespace policyd {

constexpr char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace policyd
