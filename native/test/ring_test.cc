// Unit and stress tests of native/ring.h.
//
// Built with -DRINGPORT_TEST_HOOKS so that ringport::test_live_segments counts
// live segments; SegmentLeakCheck compares it before and after each test.
// Environment:
//   RINGPORT_STRESS_N  records per two-thread stress run (default 5,000,000)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <thread>
#include <vector>

#include "../ring.h"
#include "patterns.h"
#include "test.h"

#ifndef RINGPORT_TEST_HOOKS
#error "build the tests with -DRINGPORT_TEST_HOOKS"
#endif

namespace {

using ringport_test::Checksum;
using ringport_test::FillPattern;
using ringport_test::Mix;
using ringport_test::PatternMatches;

using ringport::kMaxCapacity;
using ringport::kMaxPayload;
using ringport::kRecordHeader;
using ringport::RecordBytes;
using ringport::RecordKind;
using ringport::RecordView;
using ringport::Ring;
using ringport::Segment;

int64_t LiveSegments() {
  // relaxed: read while no other thread touches segments.
  return ringport::test_live_segments.load(std::memory_order_relaxed);
}

// Declare first in a test (so it is destroyed last): fails the test if the
// number of live segments differs at the end.
class SegmentLeakCheck {
 public:
  SegmentLeakCheck() : before_(LiveSegments()) {}
  ~SegmentLeakCheck() {
    if (LiveSegments() != before_) {
      testing::Fail(__FILE__, __LINE__,
                    "segment leak: " + std::to_string(LiveSegments() - before_) +
                        " segment(s) still alive at the end of the test");
    }
  }

 private:
  const int64_t before_;
};

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

struct Rng {
  uint64_t state;
  uint64_t Next() {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t x = state;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
};


// Writes one record of `size` pattern bytes with Write().
bool WriteOne(Ring& r, uint32_t size, uint64_t seed, RecordKind kind = RecordKind::kMessage) {
  std::vector<uint8_t> buf(size);
  FillPattern(buf.data(), size, seed);
  return r.Write(kind, buf.data(), size);
}

// Reads one record and checks its kind, size and bytes. If `payload_at` is
// not null, also checks where the payload lies.
bool ReadOne(Ring& r, uint32_t size, uint64_t seed, RecordKind kind = RecordKind::kMessage,
             const uint8_t* payload_at = nullptr) {
  RecordView v;
  CHECK_OR_FALSE(r.Peek(&v));
  CHECK_EQ_OR_FALSE(v.kind, kind);
  CHECK_EQ_OR_FALSE(v.size, size);
  CHECK_OR_FALSE(PatternMatches(v.payload, v.size, seed));
  if (payload_at != nullptr) CHECK_EQ_OR_FALSE(v.payload, payload_at);
  r.Pop(v);
  return true;
}

uint32_t Tail(Segment* s) { return s->tail().load(std::memory_order_relaxed); }
uint32_t Head(Segment* s) { return s->head().load(std::memory_order_relaxed); }
uint32_t Pos(Segment* s, uint32_t counter) { return counter & (s->capacity() - 1); }

// Segments from the consumer's to the producer's, both included.
int ChainLength(const Ring& r) {
  int n = 1;
  for (Segment* s = r.consumer_segment(); s != r.producer_segment(); s = s->next()) ++n;
  return n;
}

// Places both counters of the (unused) first segment at `counter`: the layout
// is public and JavaScript shares it, so this is a legal state to start from.
void SetCounters(Ring& r, uint32_t counter) {
  Segment* s = r.producer_segment();
  s->tail().store(counter, std::memory_order_relaxed);
  s->head().store(counter, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Helpers and constants

TEST(ring_constants_and_sizes) {
  CHECK_EQ(RecordBytes(0), 8u);
  CHECK_EQ(RecordBytes(1), 16u);
  CHECK_EQ(RecordBytes(8), 16u);
  CHECK_EQ(RecordBytes(9), 24u);
  CHECK_EQ(ringport::NextPowerOfTwo(0), 64u);
  CHECK_EQ(ringport::NextPowerOfTwo(65), 128u);
  CHECK_EQ(ringport::NextPowerOfTwo(1024), 1024u);
  CHECK_EQ(ringport::NextPowerOfTwo(uint64_t{1} << 40), kMaxCapacity);
  CHECK_EQ(ringport::GrownCapacity(256, 16), 512u);
  CHECK_EQ(ringport::GrownCapacity(256, 1000), 2048u);
  CHECK_EQ(ringport::GrownCapacity(kMaxCapacity, RecordBytes(kMaxPayload)), kMaxCapacity);
  // Past kChainCapacity growth chains equal segments, unless a record needs more.
  CHECK_EQ(ringport::GrownCapacity(ringport::kChainCapacity, 16), ringport::kChainCapacity);
  CHECK_EQ(ringport::GrownCapacity(ringport::kChainCapacity, ringport::kChainCapacity / 2),
           2 * ringport::kChainCapacity);
  // The largest record still fits, with its trailing marker, in the largest segment.
  CHECK(RecordBytes(kMaxPayload) + kRecordHeader <= kMaxCapacity);
  SegmentLeakCheck leaks;
  Ring small(1);
  CHECK_EQ(small.initial_capacity(), 64u);
  CHECK_EQ(small.producer_segment()->capacity(), 64u);
  Ring odd(300);
  CHECK_EQ(odd.initial_capacity(), 512u);
  CHECK_EQ(odd.producer_segment(), odd.consumer_segment());
  // Layout shared with JavaScript.
  Segment* s = odd.producer_segment();
  CHECK_EQ(reinterpret_cast<uint8_t*>(&s->tail()), s->memory());
  CHECK_EQ(reinterpret_cast<uint8_t*>(&s->head()), s->memory() + ringport::kCacheLine);
  CHECK_EQ(s->data(), s->memory() + ringport::kSegmentHeaderBytes);
  CHECK_EQ(s->memory_bytes(), ringport::kSegmentHeaderBytes + 512u);
  CHECK_EQ(reinterpret_cast<uintptr_t>(s->memory()) % ringport::kCacheLine, 0u);
}

// ---------------------------------------------------------------------------
// Single-threaded edge cases

TEST(segment_pool_reuses_large_blocks_and_trims) {
  ringport::SegmentPool& pool = ringport::SegmentPool::Get();
  pool.Trim();
  SegmentLeakCheck leaks;
  {
    // Small segments are not pooled.
    Ring small(256);
    CHECK(small.SwitchSegment(1024));
  }
  CHECK_EQ(pool.pooled_bytes(), 0u);
  const uint8_t* first_memory;
  {
    Ring ring(64);
    CHECK(ring.SwitchSegment(1u << 20));
    first_memory = ring.producer_segment()->memory();
  }
  // The 1 MiB block went to the pool, and the next segment of that size reuses it.
  CHECK(pool.pooled_bytes() >= (1u << 20));
  {
    Ring ring(64);
    CHECK(ring.SwitchSegment(1u << 20));
    CHECK(ring.producer_segment()->memory() == first_memory);
    CHECK_EQ(pool.pooled_bytes(), 0u);
    // Shrinking back to the first size ends the burst: the pool empties.
    CHECK(ring.SwitchSegment(2u << 20));
    CHECK(ring.SwitchSegment(64));
    RecordView rec;
    CHECK(!ring.Peek(&rec));  // the consumer follows both markers, freeing both
    CHECK(pool.pooled_bytes() >= (1u << 20));
    CHECK(ring.SwitchSegment(64));
    CHECK_EQ(pool.pooled_bytes(), 0u);
  }
  pool.Trim();
}

TEST(ring_empty_peek_returns_false) {
  SegmentLeakCheck leaks;
  Ring r;
  RecordView v;
  CHECK(!r.Peek(&v));
  CHECK(!r.Peek(&v));
  CHECK(r.EmptyApprox());
  CHECK(r.DrainedApprox());
  CHECK_EQ(Tail(r.producer_segment()), 0u);
  CHECK_EQ(Head(r.consumer_segment()), 0u);
  CHECK_EQ(LiveSegments(), 1);
}

TEST(ring_readable_for_sleep_sees_records_and_markers) {
  SegmentLeakCheck leaks;
  Ring r(64);
  CHECK(!r.ReadableForSleep());
  CHECK(WriteOne(r, 3, 1));
  CHECK(r.ReadableForSleep());
  CHECK(ReadOne(r, 3, 1));
  CHECK(!r.ReadableForSleep());
  CHECK(r.SwitchSegment(64));  // only a kNext marker waits
  CHECK(r.ReadableForSleep());
  CHECK(r.EmptyApprox());  // follows it
  CHECK(!r.ReadableForSleep());
  for (int i = 0; i < 6; ++i) CHECK(WriteOne(r, 0, 0));  // 48 bytes, then a kWrap
  for (int i = 0; i < 6; ++i) CHECK(ReadOne(r, 0, 0));
  CHECK(WriteOne(r, 20, 2));
  CHECK(r.ReadableForSleep());
  CHECK(ReadOne(r, 20, 2));
  CHECK(!r.ReadableForSleep());
}

TEST(ring_each_size_0_to_300_one_at_a_time) {
  SegmentLeakCheck leaks;
  Ring r(256);
  for (uint32_t size = 0; size <= 300; ++size) {
    Segment* seg = r.producer_segment();
    const uint32_t t0 = Tail(seg);
    CHECK(WriteOne(r, size, size));
    CHECK(!r.DrainedApprox());
    CHECK(ReadOne(r, size, size));
    RecordView v;
    CHECK(!r.Peek(&v));
    CHECK(r.DrainedApprox());
    if (r.producer_segment() == seg) {
      const uint32_t moved = Tail(seg) - t0;
      CHECK(moved >= RecordBytes(size));  // > when it wrapped
    }
  }
  // 300 bytes do not fit in 256: the ring grew once.
  CHECK(r.producer_segment()->capacity() > 256u);
  CHECK_EQ(r.producer_segment(), r.consumer_segment());
  CHECK_EQ(LiveSegments(), 1);
}

TEST(ring_each_size_0_to_300_batched) {
  SegmentLeakCheck leaks;
  Ring r(64);
  for (uint32_t size = 0; size <= 300; ++size) CHECK(WriteOne(r, size, 1000 + size));
  CHECK(ChainLength(r) > 1);
  CHECK_EQ(LiveSegments(), ChainLength(r));
  for (uint32_t size = 0; size <= 300; ++size) CHECK(ReadOne(r, size, 1000 + size));
  CHECK(r.EmptyApprox());
  CHECK_EQ(LiveSegments(), 1);
}

TEST(ring_peek_is_idempotent_and_kinds_pass_through) {
  SegmentLeakCheck leaks;
  Ring r(128);
  CHECK(WriteOne(r, 5, 1, RecordKind::kMessage));
  CHECK(WriteOne(r, 0, 2, RecordKind::kClose));
  CHECK(WriteOne(r, 3, 3, static_cast<RecordKind>(77)));
  RecordView a, b;
  CHECK(r.Peek(&a));
  CHECK(r.Peek(&b));
  CHECK_EQ(a.payload, b.payload);
  CHECK_EQ(a.size, b.size);
  CHECK(ReadOne(r, 5, 1, RecordKind::kMessage));
  CHECK(ReadOne(r, 0, 2, RecordKind::kClose));
  CHECK(ReadOne(r, 3, 3, static_cast<RecordKind>(77)));
  CHECK(r.EmptyApprox());
}

TEST(ring_record_exactly_fills_to_end) {
  SegmentLeakCheck leaks;
  Ring r(256);
  Segment* seg = r.producer_segment();
  // Move to position 64, then write a 192-byte record: it ends exactly at the
  // end of the data area, with no kWrap.
  CHECK(WriteOne(r, 56, 1));
  CHECK(ReadOne(r, 56, 1));
  CHECK_EQ(Tail(seg), 64u);
  CHECK(WriteOne(r, 192 - kRecordHeader, 2));
  CHECK_EQ(Tail(seg), 256u);
  CHECK_EQ(r.producer_segment(), seg);
  CHECK(ReadOne(r, 184, 2, RecordKind::kMessage, seg->data() + 64 + kRecordHeader));
  // The next record starts at position 0 without a marker.
  CHECK(WriteOne(r, 100, 3));
  CHECK_EQ(Tail(seg), 256u + RecordBytes(100));
  CHECK(ReadOne(r, 100, 3, RecordKind::kMessage, seg->data() + kRecordHeader));
  CHECK(r.EmptyApprox());
  // At position 0, the largest record an empty segment takes is capacity -
  // one header (room stays for a marker); one byte more grows the ring.
  Ring r2(256);
  Segment* seg2 = r2.producer_segment();
  CHECK(WriteOne(r2, 256 - 2 * kRecordHeader, 4));
  CHECK_EQ(r2.producer_segment(), seg2);
  CHECK_EQ(Tail(seg2), 248u);
  CHECK(ReadOne(r2, 240, 4));
  Ring r3(256);
  Segment* seg3 = r3.producer_segment();
  CHECK(WriteOne(r3, 256 - 2 * kRecordHeader + 1, 5));
  CHECK(r3.producer_segment() != seg3);
  CHECK(ReadOne(r3, 241, 5));
  CHECK(r3.EmptyApprox());
}

// For every position of the producer, every record size up to the capacity,
// several amounts of unread data and counters near the u32 wrap, checks that
// Reserve places the record as the layout rules say (in place, after a kWrap,
// or in a new segment) and that it reads back intact.
TEST(ring_wrap_at_every_offset) {
  SegmentLeakCheck leaks;
  constexpr uint32_t cap = 256;
  uint64_t cases = 0, in_place = 0, wrapped = 0, grown = 0;
  for (uint32_t base : {0u, 0xFFFFFF80u, 0xFFFFFFF8u, 0x7FFFFF00u}) {
    for (uint32_t pending : {0u, 1u, 5u}) {
      for (uint32_t p = 0; p < cap; p += 8) {
        for (uint32_t size = 0; size <= cap; ++size) {
          Ring r(cap);
          SetCounters(r, base);
          Segment* seg = r.producer_segment();
          // Advance (write + read empty records) to p - 8 * pending, then
          // leave `pending` unread empty records so the producer is at p.
          const uint32_t start = (p - 8 * pending) & (cap - 1);
          while (Pos(seg, Tail(seg)) != start) {
            CHECK(WriteOne(r, 0, 0));
            CHECK(ReadOne(r, 0, 0));
          }
          for (uint32_t i = 0; i < pending; ++i) CHECK(WriteOne(r, 0, 0));
          CHECK_EQ(Pos(seg, Tail(seg)), p);
          const uint32_t t0 = Tail(seg);
          const uint32_t used = 8 * pending;
          const uint32_t need = RecordBytes(size);
          const uint32_t to_end = cap - p;
          const uint64_t seed = (uint64_t{p} << 32) | size;
          CHECK(WriteOne(r, size, seed));
          const uint8_t* expect_payload;
          if (need <= to_end && used + need + kRecordHeader <= cap) {
            ++in_place;
            CHECK_EQ(r.producer_segment(), seg);
            CHECK_EQ(Tail(seg), t0 + need);
            expect_payload = seg->data() + p + kRecordHeader;
          } else if (need > to_end && used + to_end + need + kRecordHeader <= cap) {
            ++wrapped;
            CHECK_EQ(r.producer_segment(), seg);
            CHECK_EQ(Tail(seg), t0 + to_end + need);
            expect_payload = seg->data() + kRecordHeader;
          } else {
            ++grown;
            Segment* next = r.producer_segment();
            CHECK(next != seg);
            CHECK_EQ(seg->next(), next);
            CHECK_EQ(Tail(seg), t0 + kRecordHeader);  // just the kNext marker
            CHECK(next->capacity() >= need + kRecordHeader);
            CHECK_EQ(Tail(next), need);
            expect_payload = next->data() + kRecordHeader;
          }
          for (uint32_t i = 0; i < pending; ++i) CHECK(ReadOne(r, 0, 0));
          CHECK(ReadOne(r, size, seed, RecordKind::kMessage, expect_payload));
          CHECK(r.EmptyApprox());
          CHECK(r.DrainedApprox());
          ++cases;
        }
      }
    }
  }
  std::printf("    %" PRIu64 " cases: %" PRIu64 " in place, %" PRIu64 " after kWrap, %" PRIu64
              " grown\n",
              cases, in_place, wrapped, grown);
  CHECK(in_place > 0 && wrapped > 0 && grown > 0);
}

TEST(ring_record_larger_than_segment_grows) {
  SegmentLeakCheck leaks;
  for (uint32_t big : {300u, 1000u, 1025u, 5000u /* > 4x */, 100000u}) {
    Ring r(256);
    Segment* first = r.producer_segment();
    // Some unread records first, then the big one, then more small ones.
    for (uint32_t i = 0; i < 3; ++i) CHECK(WriteOne(r, 20, i));
    CHECK(WriteOne(r, big, big));
    Segment* grown = r.producer_segment();
    CHECK(grown != first);
    CHECK(grown->capacity() >= RecordBytes(big) + kRecordHeader);
    CHECK(grown->capacity() >= 2 * first->capacity());
    for (uint32_t i = 0; i < 3; ++i) CHECK(WriteOne(r, 20, 10 + i));
    CHECK_EQ(r.producer_segment(), grown);
    CHECK_EQ(ChainLength(r), 2);
    for (uint32_t i = 0; i < 3; ++i) CHECK(ReadOne(r, 20, i));
    CHECK(ReadOne(r, big, big));
    CHECK_EQ(r.consumer_segment(), grown);
    for (uint32_t i = 0; i < 3; ++i) CHECK(ReadOne(r, 20, 10 + i));
    CHECK(r.EmptyApprox());
    CHECK(r.DrainedApprox());
  }
}

TEST(ring_chain_of_growths_then_drain_in_order) {
  SegmentLeakCheck leaks;
  const int64_t live0 = LiveSegments();
  constexpr int kRecords = 20000;
  Ring r(64);
  Rng rng{42};
  std::vector<uint32_t> sizes;
  std::vector<Segment*> segs{r.producer_segment()};
  for (int i = 0; i < kRecords; ++i) {
    const uint32_t size = static_cast<uint32_t>(rng.Next() % 600);
    sizes.push_back(size);
    CHECK(WriteOne(r, size, i));
    if (r.producer_segment() != segs.back()) segs.push_back(r.producer_segment());
  }
  std::printf("    %zu segments chained, last capacity %u\n", segs.size(), segs.back()->capacity());
  CHECK(segs.size() >= 10);
  CHECK_EQ(ChainLength(r), static_cast<int>(segs.size()));
  CHECK_EQ(LiveSegments() - live0, static_cast<int64_t>(segs.size()));
  for (size_t i = 1; i < segs.size(); ++i) {
    CHECK_EQ(segs[i - 1]->next(), segs[i]);
    CHECK(segs[i]->capacity() >= 2 * segs[i - 1]->capacity());
  }
  size_t at = 0;  // index in segs of the consumer's segment
  for (int i = 0; i < kRecords; ++i) {
    CHECK(ReadOne(r, sizes[i], i));
    while (segs[at] != r.consumer_segment()) ++at;  // each one it left is freed
    CHECK_EQ(LiveSegments() - live0, static_cast<int64_t>(segs.size() - at));
  }
  CHECK(r.EmptyApprox());
  CHECK_EQ(r.consumer_segment(), segs.back());
  CHECK_EQ(LiveSegments() - live0, 1);
}

TEST(ring_shrink_after_drain_and_continue) {
  SegmentLeakCheck leaks;
  const int64_t live0 = LiveSegments();
  Ring r(256);
  for (int i = 0; i < 200; ++i) CHECK(WriteOne(r, 500, i));
  Segment* big = r.producer_segment();
  CHECK(big->capacity() >= 4096u);
  CHECK(!r.DrainedApprox());
  for (int i = 0; i < 200; ++i) CHECK(ReadOne(r, 500, i));
  CHECK_EQ(r.consumer_segment(), big);
  CHECK_EQ(LiveSegments() - live0, 1);
  CHECK(r.DrainedApprox());

  CHECK(r.SwitchSegment(r.initial_capacity()));
  Segment* small = r.producer_segment();
  CHECK(small != big);
  CHECK_EQ(small->capacity(), 256u);
  CHECK(!r.DrainedApprox());  // the consumer has not followed the kNext marker yet
  CHECK_EQ(LiveSegments() - live0, 2);
  RecordView v;
  CHECK(!r.Peek(&v));  // follows kNext, frees `big`, finds nothing
  CHECK_EQ(r.consumer_segment(), small);
  CHECK_EQ(LiveSegments() - live0, 1);
  CHECK(r.DrainedApprox());

  // Continued use of the small segment, with a few records in flight.
  Rng rng{7};
  std::vector<uint32_t> in_flight;
  uint64_t written = 0, read = 0;
  for (int i = 0; i < 5000; ++i) {
    const uint32_t size = static_cast<uint32_t>(rng.Next() % 60);
    CHECK(WriteOne(r, size, written++));
    in_flight.push_back(size);
    if (in_flight.size() > 3) {
      CHECK(ReadOne(r, in_flight.front(), read++));
      in_flight.erase(in_flight.begin());
    }
  }
  for (uint32_t size : in_flight) CHECK(ReadOne(r, size, read++));
  CHECK(r.EmptyApprox());

  // Switching while records are unread keeps them, in order; so do two
  // switches in a row that leave an empty segment in the chain.
  for (int i = 0; i < 5; ++i) CHECK(WriteOne(r, 30, 100 + i));
  CHECK(r.SwitchSegment(64));
  CHECK(!r.DrainedApprox());
  for (int i = 5; i < 10; ++i) CHECK(WriteOne(r, 30, 100 + i));
  CHECK(r.SwitchSegment(1024));
  CHECK(r.SwitchSegment(256));
  for (int i = 10; i < 12; ++i) CHECK(WriteOne(r, 30, 100 + i));
  CHECK(ChainLength(r) >= 4);
  for (int i = 0; i < 12; ++i) CHECK(ReadOne(r, 30, 100 + i));
  CHECK(r.EmptyApprox());
  CHECK(r.DrainedApprox());
  CHECK_EQ(LiveSegments() - live0, 1);
}

// The producer caches the consumer's head per segment. When a segment is freed
// and a new one is allocated at the same address (malloc reuses it at once),
// a cache keyed on the address alone would use the old segment's head for the
// new segment and overwrite unread records.
TEST(ring_switch_twice_with_reused_segment_address) {
  SegmentLeakCheck leaks;
  int reused = 0;
  for (int round = 0; round < 50; ++round) {
    Ring r(256);
    Segment* a = r.producer_segment();
    // Make the producer cache head == 192 for `a`.
    for (int i = 0; i < 3; ++i) CHECK(WriteOne(r, 56, i));
    for (int i = 0; i < 3; ++i) CHECK(ReadOne(r, 56, i));
    CHECK(WriteOne(r, 56, 3));  // 192 + 64 + 8 > 256 with the cached head 0: reload
    CHECK(ReadOne(r, 56, 3));
    CHECK_EQ(Tail(a), 256u);
    CHECK(r.SwitchSegment(256));
    RecordView v;
    CHECK(!r.Peek(&v));  // the consumer leaves `a`: freed
    CHECK(r.SwitchSegment(256));
    CHECK(!r.Peek(&v));
    if (r.producer_segment() == a) ++reused;  // pointer value only, never dereferenced
    // Fill the new segment without reading: 200 + 48 + (8 + 64) bytes need
    // more than 256 - 8, so the third record must not go in place.
    CHECK(WriteOne(r, 192, 10));
    CHECK(WriteOne(r, 40, 11));
    CHECK(WriteOne(r, 56, 12));
    CHECK(ReadOne(r, 192, 10));
    CHECK(ReadOne(r, 40, 11));
    CHECK(ReadOne(r, 56, 12));
    CHECK(r.EmptyApprox());
  }
  std::printf("    segment address reused in %d of 50 rounds\n", reused);
}

TEST(ring_counters_wrap_near_2_pow_32) {
  SegmentLeakCheck leaks;
  Ring r(1024);  // room for 4 records of < 100 bytes plus a kWrap: never grows
  SetCounters(r, 0xFFFFF000u);
  Segment* seg = r.producer_segment();
  Rng rng{99};
  std::vector<uint32_t> in_flight;
  uint64_t written = 0, read = 0;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t size = static_cast<uint32_t>(rng.Next() % 100);
    CHECK(WriteOne(r, size, written++));
    in_flight.push_back(size);
    while (in_flight.size() > (rng.Next() % 4)) {
      CHECK(ReadOne(r, in_flight.front(), read++));
      in_flight.erase(in_flight.begin());
    }
  }
  for (uint32_t size : in_flight) CHECK(ReadOne(r, size, read++));
  CHECK_EQ(r.producer_segment(), seg);
  CHECK(Tail(seg) < 0xFFFFF000u);  // wrapped
  CHECK_EQ(Head(seg), Tail(seg));
}

// Pushes more than 4 GiB through a 4 KiB segment so that tail and head wrap
// around 2^32 for real, checking every counter against a 64-bit model.
TEST(ring_u32_counters_wrap_after_4gib) {
  SegmentLeakCheck leaks;
  constexpr uint32_t kCap = 4096;
  constexpr uint32_t kSize = 1024;
  constexpr uint64_t kRecords = 5000000;
  Ring r(kCap);
  Segment* seg = r.producer_segment();
  const uint32_t need = RecordBytes(kSize);
  uint64_t model = 0;  // bytes the counters have advanced, without wrapping
  uint32_t prev_tail = 0;
  int wraps = 0;
  for (uint64_t i = 0; i < kRecords; ++i) {
    const uint32_t pos = static_cast<uint32_t>(model) & (kCap - 1);
    model += need <= kCap - pos ? need : (kCap - pos) + need;
    uint8_t* rec = r.Reserve(kSize);
    CHECK(rec != nullptr);
    uint8_t* payload = rec + kRecordHeader;
    const bool full = i % 4096 == 0;
    if (full) {
      FillPattern(payload, kSize, i);
    } else {  // stamp both ends only, to keep 5 GB of traffic fast
      std::memcpy(payload, &i, 8);
      std::memcpy(payload + kSize - 8, &i, 8);
    }
    r.Publish(rec, RecordKind::kMessage, kSize);
    RecordView v;
    CHECK(r.Peek(&v));
    CHECK_EQ(v.size, kSize);
    CHECK_EQ(v.payload, payload);
    if (full) {
      CHECK(PatternMatches(v.payload, kSize, i));
    } else {
      uint64_t a, b;
      std::memcpy(&a, v.payload, 8);
      std::memcpy(&b, v.payload + kSize - 8, 8);
      CHECK_EQ(a, i);
      CHECK_EQ(b, i);
    }
    r.Pop(v);
    const uint32_t tail = Tail(seg);
    CHECK_EQ(tail, static_cast<uint32_t>(model));
    CHECK_EQ(Head(seg), tail);
    if (tail < prev_tail) ++wraps;
    prev_tail = tail;
  }
  std::printf("    %" PRIu64 " records, %.2f GiB through the counters, %d wrap(s) of 2^32\n",
              kRecords, static_cast<double>(model) / (1ull << 30), wraps);
  CHECK(model > (uint64_t{1} << 32));
  CHECK(wraps >= 1);
  CHECK_EQ(r.producer_segment(), seg);  // never grew
  CHECK(r.EmptyApprox());
}

TEST(ring_write_above_max_payload_fails_cleanly) {
  SegmentLeakCheck leaks;
  const int64_t live0 = LiveSegments();
  Ring r(256);
  CHECK(WriteOne(r, 10, 1));
  Segment* seg = r.producer_segment();
  const uint32_t t0 = Tail(seg);
  uint8_t dummy[16] = {};
  CHECK(!r.Write(RecordKind::kMessage, dummy, kMaxPayload + 1));
  CHECK(!r.Write(RecordKind::kMessage, dummy, 0xFFFFFFFFu));
  CHECK(r.Reserve(kMaxPayload + 1) == nullptr);
  CHECK(r.Reserve(0xFFFFFFF9u) == nullptr);  // RecordBytes() would overflow u32
  CHECK_EQ(r.producer_segment(), seg);
  CHECK_EQ(Tail(seg), t0);
  CHECK_EQ(LiveSegments() - live0, 1);
  CHECK(WriteOne(r, 20, 2));
  CHECK(ReadOne(r, 10, 1));
  CHECK(ReadOne(r, 20, 2));
  CHECK(r.EmptyApprox());
}

// The largest record: a 1 GiB segment, of which only a few pages are touched.
TEST(ring_max_payload_record) {
  SegmentLeakCheck leaks;
  Ring r(256);
  uint8_t* rec = r.Reserve(kMaxPayload);
  CHECK(rec != nullptr);
  CHECK_EQ(r.producer_segment()->capacity(), kMaxCapacity);
  const uint64_t a = 0x1122334455667788ull, b = 0x99AABBCCDDEEFF00ull;
  std::memcpy(rec + kRecordHeader, &a, 8);
  std::memcpy(rec + kRecordHeader + kMaxPayload - 8, &b, 8);
  r.Publish(rec, RecordKind::kMessage, kMaxPayload);
  CHECK(WriteOne(r, 3, 3));  // does not fit next to it: another segment
  CHECK_EQ(ChainLength(r), 3);
  RecordView v;
  CHECK(r.Peek(&v));
  CHECK_EQ(v.size, kMaxPayload);
  uint64_t a2, b2;
  std::memcpy(&a2, v.payload, 8);
  std::memcpy(&b2, v.payload + kMaxPayload - 8, 8);
  CHECK_EQ(a2, a);
  CHECK_EQ(b2, b);
  r.Pop(v);
  CHECK(ReadOne(r, 3, 3));
  CHECK(r.EmptyApprox());
}

TEST(ring_destroy_with_unread_data_and_chains) {
  SegmentLeakCheck leaks;
  const int64_t live0 = LiveSegments();
  {  // unread records in the only segment
    Ring r(256);
    for (int i = 0; i < 10; ++i) CHECK(WriteOne(r, 17, i));
  }
  {  // a long chain, nothing read
    Ring r(64);
    for (int i = 0; i < 2000; ++i) CHECK(WriteOne(r, i % 300, i));
    CHECK(ChainLength(r) >= 5);
    CHECK_EQ(LiveSegments() - live0, ChainLength(r));
  }
  {  // a chain, half read (the consumer is in the middle of it)
    Ring r(64);
    for (int i = 0; i < 2000; ++i) CHECK(WriteOne(r, i % 300, i));
    for (int i = 0; i < 1000; ++i) CHECK(ReadOne(r, i % 300, i));
    CHECK(ChainLength(r) >= 2);
  }
  {  // the producer switched; the consumer has not seen the kNext marker
    Ring r(256);
    CHECK(r.SwitchSegment(256));
    CHECK(r.SwitchSegment(512));
    CHECK_EQ(ChainLength(r), 3);
  }
  {  // everything read, the consumer stopped right at a kNext marker
    Ring r(256);
    CHECK(WriteOne(r, 5, 5));
    CHECK(r.SwitchSegment(256));
    CHECK(ReadOne(r, 5, 5));
  }
  {  // on the heap (Ring is over-aligned)
    Ring* r = new Ring(128);
    CHECK_EQ(reinterpret_cast<uintptr_t>(r) % alignof(Ring), 0u);
    for (int i = 0; i < 100; ++i) CHECK(WriteOne(*r, 50, i));
    delete r;
  }
  CHECK_EQ(LiveSegments(), live0);
}

// A JavaScript view (external ArrayBuffer) holds its own reference.
TEST(ring_segment_ref_keeps_view_alive) {
  SegmentLeakCheck leaks;
  const int64_t live0 = LiveSegments();
  Segment* view;
  Segment* view2;
  {
    Ring r(256);
    view = r.consumer_segment();
    view->Ref();
    CHECK(WriteOne(r, 100, 1));
    CHECK(WriteOne(r, 1000, 2));  // grows: the producer leaves `view`
    CHECK(r.producer_segment() != view);
    CHECK(ReadOne(r, 100, 1));
    CHECK(ReadOne(r, 1000, 2));  // the consumer follows kNext and drops `view`
    CHECK(r.consumer_segment() != view);
    CHECK_EQ(LiveSegments() - live0, 2);  // the ring's segment and the view
    // The view still reads what was written (ASan would flag a freed block).
    CHECK(PatternMatches(view->data() + kRecordHeader, 100, 1));
    CHECK_EQ(Tail(view), RecordBytes(100) + kRecordHeader);
    // A view of the current segment outlives the ring.
    view2 = r.consumer_segment();
    view2->Ref();
  }
  CHECK_EQ(LiveSegments() - live0, 2);
  CHECK(PatternMatches(view2->data() + kRecordHeader, 1000, 2));
  view->Unref();
  CHECK_EQ(LiveSegments() - live0, 1);
  view2->Unref();
  CHECK_EQ(LiveSegments() - live0, 0);
  // Ref/Unref pairs on a live segment.
  Segment* s = Segment::Create(64);
  CHECK(s != nullptr);
  for (int i = 0; i < 10; ++i) s->Ref();
  for (int i = 0; i < 10; ++i) s->Unref();
  CHECK_EQ(LiveSegments() - live0, 1);
  s->Unref();
  CHECK_EQ(LiveSegments() - live0, 0);
}

// ---------------------------------------------------------------------------
// Two threads

struct StressOptions {
  uint64_t records;
  uint32_t initial_capacity;
  uint32_t max_size;    // sizes are uniform in 0..max_size
  uint32_t big_one_in;  // one record in this many is 64 KiB (0: never)
  bool shrink;          // bursts; SwitchSegment(initial) whenever DrainedApprox()
};

constexpr uint32_t kBigRecord = 65536;

uint32_t NextSize(Rng& rng, const StressOptions& o) {
  const uint64_t x = rng.Next();
  if (o.big_one_in != 0 && x % o.big_one_in == 0) return kBigRecord;
  return static_cast<uint32_t>((x >> 32) % (o.max_size + 1));
}

// Payload of record `seq`: pattern bytes; from 16 bytes on, the first 16 are
// replaced by u64 seq, u32 size, u32 Checksum(bytes 16..size).
// Returns the record's checksum (of the whole payload when it is short).
uint32_t MakeRecord(uint8_t* p, uint32_t size, uint64_t seq) {
  FillPattern(p, size, seq);
  if (size < 16) return Checksum(p, size);
  const uint32_t sum = Checksum(p + 16, size - 16);
  std::memcpy(p, &seq, 8);
  std::memcpy(p + 8, &size, 4);
  std::memcpy(p + 12, &sum, 4);
  return sum;
}

// Returns the checksum, or false through `ok`.
uint32_t VerifyRecord(const RecordView& v, uint32_t size, uint64_t seq, bool full, bool* ok) {
  *ok = false;
  if (!EXPECT_EQ(v.kind, RecordKind::kMessage) || !EXPECT_EQ(v.size, size)) return 0;
  if (size < 16) {
    if (!EXPECT(PatternMatches(v.payload, size, seq))) return 0;
    *ok = true;
    return Checksum(v.payload, size);
  }
  uint64_t got_seq;
  uint32_t got_size, got_sum;
  std::memcpy(&got_seq, v.payload, 8);
  std::memcpy(&got_size, v.payload + 8, 4);
  std::memcpy(&got_sum, v.payload + 12, 4);
  if (!EXPECT_EQ(got_seq, seq) || !EXPECT_EQ(got_size, size)) return 0;
  const uint32_t sum = Checksum(v.payload + 16, size - 16);
  if (!EXPECT_EQ(sum, got_sum)) return 0;
  if (full) {
    std::vector<uint8_t> expect(size);
    MakeRecord(expect.data(), size, seq);
    if (!EXPECT(std::memcmp(expect.data(), v.payload, size) == 0)) return 0;
  }
  *ok = true;
  return sum;
}

struct SideTotals {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t digest = 0;
  void Add(uint32_t size, uint32_t sum) {
    ++records;
    bytes += size;
    digest = Mix(digest ^ (uint64_t{sum} << 32 | size));
  }
};

void RunStress(const char* label, const StressOptions& o) {
  SegmentLeakCheck leaks;
  constexpr uint64_t kSeed = 0x5EED5EEDull;
  // Flow control keeps memory bounded if the consumer falls behind. The
  // counters are relaxed on purpose: they must not create happens-before
  // edges that would hide a missing synchronization in the ring from TSan.
  constexpr uint64_t kMaxLagBytes = 64ull << 20;
  std::atomic<uint64_t> consumed_bytes{0};
  std::atomic<uint64_t> consumed_records{0};
  std::atomic<bool> producer_done{false};
  std::atomic<bool> abort{false};
  SideTotals produced, consumed;
  uint64_t switches = 0, growths = 0, segments_seen = 1;
  uint32_t max_capacity = 0;
  bool producer_ok = true, consumer_ok = true;

  Ring ring(o.initial_capacity);
  const auto start = std::chrono::steady_clock::now();

  std::thread producer([&] {
    Rng rng{kSeed};
    Rng burst_rng{kSeed + 1};
    uint64_t burst_end = 0;
    std::vector<uint8_t> buf(kBigRecord);
    for (uint64_t seq = 0; seq < o.records; ++seq) {
      if (o.shrink && seq == burst_end) {
        // Between bursts of 1..8192 records, let the consumer catch up so
        // that the ring drains and the producer shrinks it.
        // relaxed: flow control only (see above).
        while (consumed_records.load(std::memory_order_relaxed) < seq &&
               !abort.load(std::memory_order_relaxed)) {  // relaxed: a stop flag
          std::this_thread::yield();
        }
        burst_end = seq + 1 + burst_rng.Next() % 8192;
        if (ring.DrainedApprox() &&
            ring.producer_segment()->capacity() != ring.initial_capacity()) {
          if (!ring.SwitchSegment(ring.initial_capacity())) {
            producer_ok = EXPECT(false);
            break;
          }
          ++switches;
        }
      }
      // relaxed: a stop flag; nothing is read through it.
      if (abort.load(std::memory_order_relaxed)) break;
      const uint32_t size = NextSize(rng, o);
      // relaxed: flow control only (see above).
      while (produced.bytes - consumed_bytes.load(std::memory_order_relaxed) > kMaxLagBytes &&
             !abort.load(std::memory_order_relaxed)) {  // relaxed: a stop flag
        std::this_thread::yield();
      }
      Segment* before = ring.producer_segment();
      uint32_t sum;
      if (seq & 1) {  // in place
        uint8_t* rec = ring.Reserve(size);
        if (rec == nullptr) {
          producer_ok = EXPECT(rec != nullptr);
          break;
        }
        sum = MakeRecord(rec + kRecordHeader, size, seq);
        ring.Publish(rec, RecordKind::kMessage, size);
      } else {  // copied
        sum = MakeRecord(buf.data(), size, seq);
        if (!ring.Write(RecordKind::kMessage, buf.data(), size)) {
          producer_ok = EXPECT(false);
          break;
        }
      }
      if (ring.producer_segment() != before) ++growths;
      produced.Add(size, sum);
      max_capacity = std::max(max_capacity, ring.producer_segment()->capacity());
      if (o.shrink && seq % 64 == 0 && ring.DrainedApprox() &&
          (ring.producer_segment()->capacity() != ring.initial_capacity() || seq % 8192 == 0)) {
        if (!ring.SwitchSegment(ring.initial_capacity())) {
          producer_ok = EXPECT(false);
          break;
        }
        ++switches;
      }
    }
    producer_ok = producer_ok && EXPECT(ring.Write(RecordKind::kClose, nullptr, 0));
    // release: the consumer that sees `done` sees the kClose record published.
    producer_done.store(true, std::memory_order_release);
  });

  std::thread consumer([&] {
    Rng rng{kSeed};
    Segment* seg = ring.consumer_segment();
    for (uint64_t seq = 0;;) {
      RecordView v;
      if (!ring.Peek(&v)) {
        // acquire: pairs with the release after kClose was published.
        if (producer_done.load(std::memory_order_acquire) && !ring.Peek(&v)) {
          testing::Fail(__FILE__, __LINE__,
                        "the producer is done but the kClose record is missing");
          consumer_ok = false;
          break;
        }
        std::this_thread::yield();
        continue;
      }
      if (ring.consumer_segment() != seg) {
        seg = ring.consumer_segment();
        ++segments_seen;
      }
      if (v.kind == RecordKind::kClose) {
        consumer_ok = EXPECT_EQ(v.size, 0u);
        ring.Pop(v);
        // relaxed: a stop flag.
        if (!abort.load(std::memory_order_relaxed))
          consumer_ok = consumer_ok && EXPECT_EQ(seq, o.records);
        break;
      }
      const uint32_t size = NextSize(rng, o);
      bool ok;
      const uint32_t sum = VerifyRecord(v, size, seq, seq % 16 == 0, &ok);
      if (!ok) {
        std::fprintf(stderr, "    record %" PRIu64 " is wrong\n", seq);
        consumer_ok = false;
        // relaxed: a stop flag.
        abort.store(true, std::memory_order_relaxed);
        break;
      }
      ring.Pop(v);
      consumed.Add(size, sum);
      // relaxed: flow control only.
      consumed_bytes.store(consumed.bytes, std::memory_order_relaxed);
      // relaxed: flow control only.
      consumed_records.store(consumed.records, std::memory_order_relaxed);
      ++seq;
    }
    if (consumer_ok) consumer_ok = EXPECT(ring.EmptyApprox());
  });

  producer.join();
  consumer.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(producer_ok);
  CHECK(consumer_ok);
  CHECK_EQ(produced.records, o.records);
  CHECK_EQ(consumed.records, produced.records);
  CHECK_EQ(consumed.bytes, produced.bytes);
  CHECK_EQ(consumed.digest, produced.digest);
  std::printf("    %s: %" PRIu64 " records verified (%.2f GB) in %.2f s, %.2f GB/s; %" PRIu64
              " growths, %" PRIu64 " shrink switches, %" PRIu64
              " segments read, largest segment %u bytes\n",
              label, consumed.records, consumed.bytes / 1e9, s, consumed.bytes / 1e9 / s, growths,
              switches, segments_seen, max_capacity);
}

uint64_t StressRecords() { return EnvU64("RINGPORT_STRESS_N", 5000000); }

TEST(ring_stress_two_threads) {
  RunStress("growth", StressOptions{StressRecords(), 4096, 2000, 4096, false});
}

TEST(ring_stress_two_threads_grow_and_shrink) {
  RunStress("grow+shrink", StressOptions{StressRecords(), 4096, 2000, 4096, true});
}

TEST(ring_stress_two_threads_tiny_ring) {
  RunStress("tiny", StressOptions{StressRecords(), 64, 40, 0, true});
}

}  // namespace
