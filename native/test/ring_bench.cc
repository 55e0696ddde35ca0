// Throughput of native/ring.h alone, without JavaScript or N-API, so that the
// cost of the ring can be told apart from the cost of the bindings.
//
//   native/test/out/ring_bench [--capacity BYTES] [--runs N] [--scale X] [SIZE...]
//
// For each payload size (default 8 64 1024 65536):
//   2-thread: a producer thread Write()s records (memcpy in from a source
//     buffer, a sequence number in the first 8 bytes); a consumer thread
//     Peek()s, checks the sequence number, memcpy's the payload out (as a
//     deserializer would) and Pop()s; it yields when the ring is empty.
//   1-thread: the same write + read on one thread (no cache-line transfer).
// Prints the median of --runs runs (default 5) in records/s and GB/s of payload.
// The ring starts at --capacity bytes (default 65536) and grows as it needs;
// "seg" is the largest segment the run ended up using.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../ring.h"

namespace {

using ringport::RecordKind;
using ringport::RecordView;
using ringport::Ring;

struct Result {
  double seconds = 0;
  uint32_t max_segment = 0;
  bool ok = true;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Result TwoThreads(uint32_t size, uint64_t records, uint32_t capacity) {
  Ring ring(capacity);
  Result result;
  std::atomic<int> ready{0};
  std::vector<uint8_t> src(size + 8, 0xA5);
  uint32_t max_segment = 0;
  bool producer_ok = true;
  bool consumer_ok = true;
  double end = 0;

  std::thread producer([&] {
    // relaxed: a start barrier; nothing is read through it.
    ready.fetch_add(1, std::memory_order_relaxed);
    while (ready.load(std::memory_order_relaxed) < 2) {  // relaxed: see above
    }
    for (uint64_t seq = 0; seq < records; ++seq) {
      if (size >= 8) std::memcpy(src.data(), &seq, 8);
      if (!ring.Write(RecordKind::kMessage, src.data(), size)) {
        producer_ok = false;
        break;
      }
      max_segment = std::max(max_segment, ring.producer_segment()->capacity());
    }
    producer_ok = ring.Write(RecordKind::kClose, nullptr, 0) && producer_ok;
  });

  std::thread consumer([&] {
    std::vector<uint8_t> dst(size + 8);
    // relaxed: a start barrier.
    ready.fetch_add(1, std::memory_order_relaxed);
    while (ready.load(std::memory_order_relaxed) < 2) {  // relaxed: see above
    }
    uint64_t seq = 0;
    for (;;) {
      RecordView v;
      if (!ring.Peek(&v)) {
        std::this_thread::yield();
        continue;
      }
      if (v.kind == RecordKind::kClose) {
        ring.Pop(v);
        break;
      }
      if (v.size != size) consumer_ok = false;
      std::memcpy(dst.data(), v.payload, v.size);
      if (size >= 8) {
        uint64_t got;
        std::memcpy(&got, dst.data(), 8);
        if (got != seq) consumer_ok = false;
      }
      ring.Pop(v);
      ++seq;
    }
    if (seq != records) consumer_ok = false;
    end = Now();
  });

  // The clock starts once both threads exist; thread start-up is ~50 us and
  // negligible next to a run.
  const double start = Now();
  producer.join();
  consumer.join();
  result.seconds = end - start;
  result.max_segment = max_segment;
  result.ok = producer_ok && consumer_ok;
  return result;
}

Result OneThread(uint32_t size, uint64_t records, uint32_t capacity) {
  Ring ring(capacity);
  Result result;
  std::vector<uint8_t> src(size + 8, 0x5A);
  std::vector<uint8_t> dst(size + 8);
  const double start = Now();
  for (uint64_t seq = 0; seq < records; ++seq) {
    if (size >= 8) std::memcpy(src.data(), &seq, 8);
    if (!ring.Write(RecordKind::kMessage, src.data(), size)) result.ok = false;
    RecordView v;
    if (!ring.Peek(&v) || v.size != size) {
      result.ok = false;
      break;
    }
    std::memcpy(dst.data(), v.payload, v.size);
    ring.Pop(v);
  }
  result.seconds = Now() - start;
  result.max_segment = ring.producer_segment()->capacity();
  if (size >= 8) {
    uint64_t last;
    std::memcpy(&last, dst.data(), 8);
    if (last != records - 1) result.ok = false;
  }
  return result;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Records per run: about 2 GB of payload, at least 20k and at most 3M records
// (well under a second per run here).
uint64_t RecordsFor(uint32_t size, double scale) {
  const double by_bytes = 2e9 / std::max<uint32_t>(size, 1);
  const double n = std::min(3e6, std::max(2e4, by_bytes)) * scale;
  return std::max<uint64_t>(1000, static_cast<uint64_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t capacity = 65536;
  int runs = 5;
  double scale = 1.0;
  std::vector<uint32_t> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--capacity" && i + 1 < argc) {
      capacity = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--scale" && i + 1 < argc) {
      scale = std::atof(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-') {
      sizes.push_back(static_cast<uint32_t>(std::strtoul(arg.c_str(), nullptr, 10)));
    } else {
      std::fprintf(stderr, "usage: %s [--capacity BYTES] [--runs N] [--scale X] [SIZE...]\n",
                   argv[0]);
      return 2;
    }
  }
  if (sizes.empty()) sizes = {8, 64, 1024, 65536};

  std::printf("ring_bench: initial capacity %u bytes, median of %d runs, %u hardware threads\n",
              capacity, runs, std::thread::hardware_concurrency());
  std::printf("%8s %10s | %14s %8s %10s | %14s %8s\n", "size", "records", "2-thread rec/s", "GB/s",
              "seg", "1-thread rec/s", "GB/s");
  bool ok = true;
  for (uint32_t size : sizes) {
    const uint64_t records = RecordsFor(size, scale);
    std::vector<double> two, one;
    uint32_t seg = 0;
    for (int r = 0; r < runs; ++r) {
      const Result a = TwoThreads(size, records, capacity);
      const Result b = OneThread(size, records, capacity);
      ok = ok && a.ok && b.ok;
      two.push_back(records / a.seconds);
      one.push_back(records / b.seconds);
      seg = std::max(seg, a.max_segment);
    }
    const double two_rps = Median(two), one_rps = Median(one);
    std::printf("%8u %10llu | %14.0f %8.2f %10u | %14.0f %8.2f\n", size,
                static_cast<unsigned long long>(records), two_rps, two_rps * size / 1e9, seg,
                one_rps, one_rps * size / 1e9);
    std::fflush(stdout);
  }
  if (!ok) {
    std::printf("ring_bench: VERIFICATION FAILED\n");
    return 1;
  }
  return 0;
}
