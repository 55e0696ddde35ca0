// Unit and stress tests of the backpressure protocol of native/port.h and
// native/port.cc (lib/backpressure.ts runs the same with Atomics): the byte
// counters, arming a drain request, and the drain notification racing with a
// consumer that goes to sleep, with no lost wake-up.
// native-test-sources: native/port.cc
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "../port.h"
#include "test.h"

namespace {

using ringport::Channel;
using ringport::ControlLayout;
using ringport::Endpoint;
using ringport::kAwake;
using ringport::kSleeping;
using ringport::kWakeDrain;
using ringport::kWakeMessages;
using ringport::RecordKind;
using ringport::RecordView;
using ringport::Ring;
using Clock = std::chrono::steady_clock;

// Counts wake-ups by reason; a thread waits for the next one of a reason.
class WaitingEndpoint final : public Endpoint {
 public:
  // Channel mutex held: takes only this endpoint's mutex.
  void Wake(uint32_t reasons) override {
    std::lock_guard<std::mutex> lock(mu_);
    if ((reasons & kWakeMessages) != 0) ++messages_;
    if ((reasons & kWakeDrain) != 0) ++drains_;
    cv_.notify_all();
  }
  int32_t thread() const override { return 1; }

  // Waits until more than `seen` wake-ups of `reason` have come; false on timeout.
  bool WaitFor(uint32_t reason, uint64_t seen, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return Count(reason) > seen; });
  }
  uint64_t count(uint32_t reason) {
    std::lock_guard<std::mutex> lock(mu_);
    return Count(reason);
  }

 private:
  uint64_t Count(uint32_t reason) const { return reason == kWakeDrain ? drains_ : messages_; }
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t messages_ = 0;
  uint64_t drains_ = 0;
};

uint64_t Records() {
  const char* v = std::getenv("RINGPORT_STRESS_N");
  const uint64_t n = v != nullptr ? std::strtoull(v, nullptr, 10) : 5000000;
  const uint64_t scaled = n / 25;
  return scaled < 20000 ? 20000 : scaled;
}

TEST(backpressure_layout) {
  Channel* ch = Channel::Create(256);
  std::vector<uint32_t> bytes;
  for (int side = 0; side < 2; side++) {
    bytes.push_back(4 * ControlLayout::DrainArmedWord(side));
    for (uint32_t d : {ControlLayout::HighWaterMarkDouble(side), ControlLayout::DrainTargetDouble(side),
                       ControlLayout::PostedDouble(side), ControlLayout::TakenDouble(side)}) {
      bytes.push_back(8 * d);
      bytes.push_back(8 * d + 4);
    }
    EXPECT(std::isnan(ch->high_water_mark(side).load()));
    EXPECT_EQ(ch->drain_armed(side).load(), 0u);
    EXPECT_EQ(ch->BufferedApprox(side), 0.0);
  }
  // Disjoint, inside the control block, and after the four lines before them.
  for (size_t i = 0; i < bytes.size(); i++) {
    EXPECT(bytes[i] >= ControlLayout::kBackpressureByte);
    EXPECT(bytes[i] + 4 <= ControlLayout::kBytes);
    for (size_t j = i + 1; j < bytes.size(); j++) EXPECT(bytes[i] != bytes[j]);
  }
  // Each side's per-message counters on a line of their own.
  EXPECT_EQ(ControlLayout::PostedDouble(1) * 8 / ringport::kCacheLine,
            ControlLayout::TakenDouble(0) * 8 / ringport::kCacheLine);
  EXPECT(ControlLayout::PostedDouble(0) * 8 / ringport::kCacheLine !=
         ControlLayout::TakenDouble(0) * 8 / ringport::kCacheLine);
  ch->Unref();
}

TEST(backpressure_counts_and_arming) {
  Channel* ch = Channel::Create(256);
  WaitingEndpoint producer;
  ch->Attach(0, &producer);
  ch->CountPosted(1, 100);
  ch->CountPosted(1, 50);
  EXPECT_EQ(ch->BufferedApprox(1), 150.0);
  // Not reached: armed, and the consumer's count crossing the target wakes.
  EXPECT(!ch->ArmDrain(1, 120.0));
  EXPECT_EQ(ch->drain_armed(1).load(), 1u);
  ch->CountTaken(1, 100);
  EXPECT_EQ(producer.count(kWakeDrain), 0u);
  ch->CountTaken(1, 20);
  EXPECT_EQ(producer.count(kWakeDrain), 1u);
  EXPECT_EQ(ch->drain_armed(1).load(), 0u);
  // Already reached when arming: taken back, no wake-up.
  EXPECT(ch->ArmDrain(1, 100.0));
  EXPECT_EQ(ch->drain_armed(1).load(), 0u);
  ch->CheckDrainOnSleep(1);
  EXPECT_EQ(producer.count(kWakeDrain), 1u);
  EXPECT_EQ(ch->BufferedApprox(1), 30.0);
  ch->Detach(0, &producer);
  ch->Unref();
}

// A producer posts until bufferedAmount passes the mark, arms, and waits for
// the drain wake-up without posting; a consumer takes records with random
// pauses and goes to sleep whenever its ring is empty. A lost wake-up times
// the producer out; a wake-up must find bufferedAmount at half the mark.
TEST(backpressure_drain_no_lost_wakeup) {
  constexpr double kMark = 16 * 1024;
  const uint64_t n = Records();
  Channel* ch = Channel::Create(256);
  ch->Ref();  // one reference per thread
  WaitingEndpoint producer_ep, consumer_ep;
  ch->Attach(0, &producer_ep);
  ch->Attach(1, &consumer_ep);
  std::atomic<bool> failed{false};
  uint64_t waits = 0, self_drained = 0;
  double max_buffered = 0;

  std::thread producer([&] {
    std::vector<uint8_t> payload(4096, 0x5a);
    uint32_t rng = 12345;
    for (uint64_t i = 0; i < n; i++) {
      rng = rng * 1103515245u + 12345u;
      const uint32_t size = 1 + (rng >> 8) % 4000;
      if (!EXPECT(ch->PostRecord(0, RecordKind::kMessage, payload.data(), size))) break;
      ch->CountPosted(1, size);
      const double buffered = ch->BufferedApprox(1);
      if (buffered > max_buffered) max_buffered = buffered;
      if (buffered <= kMark) continue;
      // relaxed: only this thread writes it.
      const double target = ch->posted_bytes(1).load(std::memory_order_relaxed) - kMark / 2;
      const uint64_t seen = producer_ep.count(kWakeDrain);
      if (ch->ArmDrain(1, target)) {
        ++self_drained;
        continue;
      }
      ++waits;
      if (!producer_ep.WaitFor(kWakeDrain, seen, std::chrono::seconds(20))) {
        EXPECT(!"lost drain wake-up");
        // relaxed: a stop flag.
        failed.store(true, std::memory_order_relaxed);
        break;
      }
      // The wake-up happened after the consumer counted past the target.
      EXPECT(ch->BufferedApprox(1) <= kMark / 2);
    }
    ch->Detach(0, &producer_ep);
    ch->Leave(0);
    ch->Unref();
  });

  std::thread consumer([&] {
    Ring& ring = ch->incoming(1);
    uint32_t rng = 777;
    uint64_t seen = 0;
    // relaxed: a stop flag.
    while (!failed.load(std::memory_order_relaxed)) {
      RecordView rec;
      if (ring.Peek(&rec)) {
        if (rec.kind == RecordKind::kClose) break;
        ring.Pop(rec);
        ch->CountTaken(1, rec.size);
        rng = rng * 1103515245u + 12345u;
        if ((rng >> 16) % 64 == 0) std::this_thread::yield();
        continue;
      }
      std::atomic<uint32_t>& state = ch->consumer_state(1);
      seen = consumer_ep.count(kWakeMessages);
      // seq_cst: the consumer half of the wake-up protocol (port.h).
      state.store(kSleeping, std::memory_order_seq_cst);
      // seq_cst: one winner between producer and consumer.
      if (ring.ReadableForSleep() && state.exchange(kAwake, std::memory_order_seq_cst) == kSleeping) {
        continue;
      }
      ch->CheckDrainOnSleep(1);
      if (!consumer_ep.WaitFor(kWakeMessages, seen, std::chrono::seconds(20))) {
        EXPECT(!"lost message wake-up");
        // relaxed: a stop flag.
        failed.store(true, std::memory_order_relaxed);
        break;
      }
    }
    ch->Detach(1, &consumer_ep);
    ch->Leave(1);
    ch->Unref();
  });

  producer.join();
  consumer.join();
  EXPECT(waits > 0);
  // Bounded: the mark plus the one record that crossed it.
  EXPECT(max_buffered <= kMark + 4000);
  std::printf("  %llu records, %llu drain waits, %llu drained before the wait, max buffered %.0f B\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(waits),
              static_cast<unsigned long long>(self_drained), max_buffered);
}

}  // namespace
