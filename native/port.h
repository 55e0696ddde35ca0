// A port pair: one shared, reference-counted control block holding the two
// rings (one per direction), the consumers' sleep flags and the close state.
// No N-API and no libuv here either: the environment that owns an end plugs in
// through Endpoint, so the whole protocol runs under the sanitizers.
//
// Wake-up protocol (no lost wake-up). Each side's consumer state word is
// kAwake or kSleeping.
//   producer: publish the record (seq_cst store of tail);
//             if state == kSleeping and exchange(state, kAwake) == kSleeping:
//               WakeConsumer()
//   consumer: finding the ring empty: store(state, kSleeping) (seq_cst);
//             load tail again (seq_cst); if a record appeared and
//             exchange(state, kAwake) == kSleeping, go on reading (else the
//             producer took the exchange and a wake-up is on its way).
// Both sides store then load with seq_cst, so at least one of them sees the
// other's store: either the consumer sees the record, or the producer sees
// kSleeping. The exchange makes exactly one of them responsible for the
// wake-up. A busy stream finds kAwake and pays one load per message.
// The same protocol runs in lib/ring.ts with Atomics (all seq_cst).
//
// Ownership: each side is owned by at most one Endpoint (one thread) at a
// time. Attach/Detach happen under the channel mutex, so everything the old
// owner did to the rings happens before anything the new owner does.
// A side that is owned by nobody (in flight inside a message, or parked behind
// a detachPort() handle) is parked in the TransferRegistry; whoever takes it
// out of the registry holds the side's producer role until it attaches it.
#ifndef RINGPORT_PORT_H_
#define RINGPORT_PORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ring.h"

namespace ringport {

enum ConsumerState : uint32_t { kAwake = 0, kSleeping = 1 };

// Why an endpoint is woken; a bit mask.
enum WakeReason : uint32_t {
  kWakeMessages = 1,  // its incoming ring has something to look at
  kWakeTrim = 2,      // its peer drained a large segment: shrink the outgoing ring
  kWakeDrain = 4,     // its peer took enough of what it sent: re-check needDrain
};

// Control block words (u32), shared with lib/ring.ts. Each side's state word
// sits on its own cache line: the consumer writes it, the producer reads it.
struct ControlLayout {
  static constexpr uint32_t kWordsPerLine = kCacheLine / 4;
  static constexpr uint32_t ConsumerStateWord(int side) {
    return static_cast<uint32_t>(side) * kWordsPerLine;
  }
  // 1 once `side` has left the channel (closed, or lost with its thread).
  static constexpr uint32_t GoneWord(int side) {
    return 2 * kWordsPerLine + static_cast<uint32_t>(side);
  }
  // Delivery options of `side` as its consumer (lib/options.ts), kept here so
  // that they travel with a transferred port.
  static constexpr uint32_t OptionsWord(int side) {
    return 2 * kWordsPerLine + 2 + static_cast<uint32_t>(side);
  }
  // Messages published into `side`'s incoming ring (written by its peer's
  // producer), and taken by `side` (written when it changes owner): their
  // difference is the backlog behind Node's max(1000, backlog) rule. On a
  // line of their own: the producer writes one per message.
  static constexpr uint32_t PublishedWord(int side) {
    return 3 * kWordsPerLine + static_cast<uint32_t>(side);
  }
  static constexpr uint32_t ConsumedWord(int side) {
    return 3 * kWordsPerLine + 2 + static_cast<uint32_t>(side);
  }
  // Side-channel sends into `side` (lib/foreign.ts): its peer's producer
  // adds 1 before it reads `side`'s owner and 1 after its items are posted
  // to that owner's thread, so the word is odd while one is under way.
  // Same line: the same writer.
  static constexpr uint32_t SendingWord(int side) {
    return 3 * kWordsPerLine + 4 + static_cast<uint32_t>(side);
  }
  // Backpressure (lib/backpressure.ts), each indexed by the consuming side
  // of the direction. First a read-mostly block, written when a producer
  // arms or disarms its drain request, read by the consumer per message:
  // u32 drain-armed flags, then f64 high-water marks and drain targets.
  static constexpr uint32_t kBackpressureByte = 4 * kCacheLine;
  static constexpr uint32_t DrainArmedWord(int side) {
    return kBackpressureByte / 4 + static_cast<uint32_t>(side);
  }
  static constexpr uint32_t HighWaterMarkDouble(int side) {
    return kBackpressureByte / 8 + 1 + static_cast<uint32_t>(side);
  }
  static constexpr uint32_t DrainTargetDouble(int side) {
    return kBackpressureByte / 8 + 3 + static_cast<uint32_t>(side);
  }
  static constexpr uint32_t kBackpressureLines = (40 + kCacheLine - 1) / kCacheLine;
  // Then one line per owner: the f64 byte counters that side writes per
  // message. Bytes posted into incoming(side) are written by side ^ 1 (its
  // producer), bytes taken out of it by side (its consumer).
  static constexpr uint32_t CounterLineByte(int owner) {
    return (4 + kBackpressureLines + static_cast<uint32_t>(owner)) * kCacheLine;
  }
  static constexpr uint32_t PostedDouble(int side) {
    return CounterLineByte(side ^ 1) / 8;
  }
  static constexpr uint32_t TakenDouble(int side) {
    return CounterLineByte(side) / 8 + 1;
  }
  static constexpr uint32_t kBytes = (6 + kBackpressureLines) * kCacheLine;
  static_assert(kWordsPerLine >= 4, "the third line holds four words");
};

// The owner-side object of one attached end (PortBinding in the addon, a test
// double in native/test).
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  // Any thread, called with the channel mutex held: must not block and must
  // not call back into the channel.
  virtual void Wake(uint32_t reasons) = 0;
  // Any thread, channel mutex held: the JavaScript threadId of the owner.
  virtual int32_t thread() const = 0;
};

#ifdef RINGPORT_TEST_HOOKS
// Test builds only (native/test): the number of live channels, to find leaks.
inline std::atomic<int64_t> test_live_channels{0};
#endif

class Channel {
 public:
  // Any thread. Returns a channel with one reference, held by the caller.
  static Channel* Create(uint32_t initial_capacity);

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Any thread.
  void Ref() {
    // relaxed: taking a reference needs no ordering; the caller holds one.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void Unref() {
    // acq_rel: all uses of the channel happen before its destruction.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
      // Its large segments went to the pool; a channel that ends is no
      // stream that will reuse them.
      SegmentPool::Get().TrimIfAny();
    }
  }

  // Unique for the life of the process, below 2^53.
  uint64_t id() const { return id_; }

  // Any thread: the JavaScript threadId of the thread that owns `side`, or -1
  // while nobody does (in flight, parked behind a handle, or gone).
  int32_t OwnerThread(int side);

  // The ring `side` consumes, and the one it produces.
  Ring& incoming(int side) { return rings_[side]; }
  Ring& outgoing(int side) { return rings_[side ^ 1]; }

  uint8_t* control() { return control_; }
  std::atomic<uint32_t>& consumer_state(int side) {
    return Word(ControlLayout::ConsumerStateWord(side));
  }
  std::atomic<uint32_t>& gone(int side) {
    return Word(ControlLayout::GoneWord(side));
  }
  std::atomic<uint32_t>& sending(int side) {
    return Word(ControlLayout::SendingWord(side));
  }

  // ---- Backpressure (lib/backpressure.ts runs the same protocol with
  // Atomics; see port.cc for why no drain notification is lost) ----------
  // f64 counters of bytes posted into / taken out of incoming(side); the
  // difference is the sending port's bufferedAmount.
  std::atomic<double>& posted_bytes(int side) {
    return Double(ControlLayout::PostedDouble(side));
  }
  std::atomic<double>& taken_bytes(int side) {
    return Double(ControlLayout::TakenDouble(side));
  }
  std::atomic<uint32_t>& drain_armed(int side) {
    return Word(ControlLayout::DrainArmedWord(side));
  }
  std::atomic<double>& drain_target(int side) {
    return Double(ControlLayout::DrainTargetDouble(side));
  }
  // NaN until the sending port sets one (lib/backpressure.ts).
  std::atomic<double>& high_water_mark(int side) {
    return Double(ControlLayout::HighWaterMarkDouble(side));
  }
  // Producer of incoming(side): counts a message it published.
  void CountPosted(int side, uint32_t bytes);
  // Any thread, racy: bytes posted into incoming(side) not taken yet.
  double BufferedApprox(int side);
  // Producer of incoming(side): asks for a kWakeDrain once the consumer has
  // taken `target` bytes in all. Returns true if it already has and the
  // caller took the request back (no wake-up will come for it).
  bool ArmDrain(int side, double target);
  // Consumer of incoming(side): counts a message it took, and wakes the
  // producer if it asked and the target is reached.
  void CountTaken(int side, uint32_t bytes);
  // Consumer of incoming(side), right after its seq_cst store of kSleeping.
  void CheckDrainOnSleep(int side);

  // Any thread: the caller won the kSleeping -> kAwake exchange for `side`.
  void WakeConsumer(int side, uint32_t reasons);
  // Any thread: wake `side` for `reasons` without touching its state word
  // (trim requests go to the producer, who is not asleep on this ring).
  void Notify(int side, uint32_t reasons);

  // Consumer of incoming(side), blocking (receiveMessageOnPort with a
  // timeout): waits up to `slice` for a record or marker, and says whether
  // one is there. Runs the consumer half of the wake-up protocol, so a
  // producer's wake-up (WakeConsumer) also wakes this wait. Spurious returns
  // (false before the slice is over) are possible.
  bool WaitReadable(int side, std::chrono::microseconds slice);

  // The thread taking ownership (Attach) or giving it up (Detach).
  void Attach(int side, Endpoint* endpoint);
  void Detach(int side, Endpoint* endpoint);
  // `thread`, which just gave up `side` (Detach): waits until a producer
  // that read it as the owner is no longer posting side-channel items to
  // it, so that reading its links now finds them all. Bounded (1 s) as a
  // safety net against a producer that never finishes.
  void AwaitSendsTo(int side, int32_t thread);

  // The producer of outgoing(side) (its owner thread, or whoever took the side
  // out of the registry). `side` leaves the channel: a kClose record goes to
  // the peer behind everything sent so far, the gone flag is set, the peer is
  // woken, and the ports in flight inside incoming(side) are closed, since
  // nobody will read them. Idempotent.
  void Leave(int side);
  bool left(int side);

  // Producer of outgoing(side): appends a record and runs the producer half of
  // the wake-up protocol. Used by native producers (the JavaScript side
  // writes its records itself).
  bool PostRecord(int side, RecordKind kind, const void* payload,
                  uint32_t size);

  // Ports in flight inside incoming(side), by registry token. Add fails if
  // `side` has left: the message will never be read, so the caller closes
  // those ports itself.
  bool AddCarried(int side, uint64_t token);
  void RemoveCarried(int side, uint64_t token);

 private:
  explicit Channel(uint32_t initial_capacity);
  ~Channel();

  std::atomic<uint32_t>& Word(uint32_t index) {
    return reinterpret_cast<std::atomic<uint32_t>*>(control_)[index];
  }
  std::atomic<double>& Double(uint32_t index) {
    return reinterpret_cast<std::atomic<double>*>(control_)[index];
  }
  // Consumer: wins the drain request back from the producer and wakes it.
  void NotifyDrainIfReached(int side);
  // Producer half of the wake-up protocol for the consumer `side`.
  void WakeIfSleeping(int side);

  std::atomic<int32_t> refs_{1};
  const uint64_t id_;
  Ring rings_[2];
  alignas(kCacheLine) uint8_t control_[ControlLayout::kBytes];

  // A consumer blocked in WaitReadable(); `waiting` lets producers skip the
  // lock when nobody is.
  struct Waiter {
    std::atomic<int32_t> waiting{0};
    std::mutex mutex;
    std::condition_variable ready;
  };
  Waiter waiters_[2];

  std::mutex mutex_;  // guards everything below
  Endpoint* endpoints_[2] = {nullptr, nullptr};
  bool left_[2] = {false, false};
  std::vector<uint64_t> carried_[2];
};

// Process-wide registry of sides that no thread owns: ports in flight inside a
// message, and ports behind a detachPort() handle. Every entry holds a channel
// reference. Lock order: a channel mutex is never held while taking this one,
// and this one is never held while taking a channel mutex.
class TransferRegistry {
 public:
  static TransferRegistry& Get();

  // Parks `side` of `channel` (takes a reference). `carrier`, if not null, is
  // the channel whose ring carries the message (`carrier_side` consumes it);
  // the entry is then dropped (and the port closed) if that ring is
  // discarded unread. `parked_by` is the threadId of the thread giving the
  // port up. Returns the token, or 0 if the carrier side has left: then
  // nothing was parked, the caller keeps its reference and the producer
  // role, and must Leave() the side (nobody will read the message). A token
  // can also die before the caller uses it, if the carrier leaves meanwhile:
  // Take() then fails and the port has been closed.
  uint64_t Park(Channel* channel, int side, Channel* carrier, int carrier_side,
                int32_t parked_by);

  // Takes the entry out. On success the caller owns `*channel`'s reference
  // and the side's producer role; `*parked_by` says who gave it up.
  bool Take(uint64_t token, Channel** channel, int* side,
            int32_t* parked_by = nullptr);

  // Closes a parked side (its carrier was discarded). Any thread.
  void CloseParked(uint64_t token);

 private:
  struct Entry {
    Channel* channel;
    int side;
    Channel* carrier;  // referenced while the entry lives, or null
    int carrier_side;
    int32_t parked_by;
  };
  std::mutex mutex_;
  std::unordered_map<uint64_t, Entry> entries_;
  uint64_t next_token_;

  TransferRegistry();
};

}  // namespace ringport

#endif  // RINGPORT_PORT_H_
