// Byte patterns and checksums shared by the native tests: deterministic
// record contents that a reader can verify without the writer's help.
#ifndef RINGPORT_TEST_PATTERNS_H_
#define RINGPORT_TEST_PATTERNS_H_

#include <cstdint>
#include <cstring>

namespace ringport_test {

// splitmix64 finalizer: a cheap, good 64-bit mixer.
inline uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Deterministic bytes for record `seed`.
inline void FillPattern(uint8_t* dst, uint32_t size, uint64_t seed) {
  const uint64_t base = seed * 0xD6E8FEB86659FD93ull;
  uint32_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint64_t w = Mix(base + i);
    std::memcpy(dst + i, &w, 8);
  }
  if (i < size) {
    const uint64_t w = Mix(base + i);
    std::memcpy(dst + i, &w, size - i);
  }
}

inline bool PatternMatches(const uint8_t* p, uint32_t size, uint64_t seed) {
  const uint64_t base = seed * 0xD6E8FEB86659FD93ull;
  uint32_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint64_t w = Mix(base + i);
    if (std::memcmp(p + i, &w, 8) != 0) return false;
  }
  if (i < size) {
    const uint64_t w = Mix(base + i);
    if (std::memcmp(p + i, &w, size - i) != 0) return false;
  }
  return true;
}

// 32-bit checksum of a byte range (word-wise, so it is fast enough for GBs).
inline uint32_t Checksum(const uint8_t* p, uint32_t n) {
  uint64_t h = 0x243F6A8885A308D3ull ^ n;
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001B3ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  h = Mix(h);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace ringport_test

#endif  // RINGPORT_TEST_PATTERNS_H_
