#include "port.h"

#include <limits>
#include <random>
#include <thread>

namespace ringport {

Channel* Channel::Create(uint32_t initial_capacity) {
  return new Channel(initial_capacity);
}

namespace {
// relaxed: ids only need to be distinct.
std::atomic<uint64_t> next_channel_id{1};
}  // namespace

Channel::Channel(uint32_t initial_capacity)
    : id_(next_channel_id.fetch_add(1, std::memory_order_relaxed)),
      rings_{Ring(initial_capacity), Ring(initial_capacity)} {
  for (uint32_t i = 0; i < ControlLayout::kBytes / 4; i++) {
    new (&Word(i)) std::atomic<uint32_t>(0);
  }
  static_assert(sizeof(std::atomic<double>) == 8 &&
                    std::atomic<double>::is_always_lock_free,
                "JavaScript reads the byte counters as Float64Array elements");
  for (int side = 0; side < 2; side++) {
    for (uint32_t index : {ControlLayout::HighWaterMarkDouble(side),
                           ControlLayout::DrainTargetDouble(side),
                           ControlLayout::PostedDouble(side),
                           ControlLayout::TakenDouble(side)}) {
      new (&Double(index)) std::atomic<double>(0.0);
    }
    // relaxed: the channel is not shared yet. NaN: no high-water mark.
    Double(ControlLayout::HighWaterMarkDouble(side))
        .store(std::numeric_limits<double>::quiet_NaN(), std::memory_order_relaxed);
  }
  // A new port is asleep: the first record that reaches it wakes it, so even
  // a port that never starts sees its peer's close marker.
  for (int side = 0; side < 2; side++) {
    // relaxed: the channel is not shared yet.
    consumer_state(side).store(kSleeping, std::memory_order_relaxed);
  }
#ifdef RINGPORT_TEST_HOOKS
  // relaxed: a statistic; tests read it after the threads have joined.
  test_live_channels.fetch_add(1, std::memory_order_relaxed);
#endif
}

Channel::~Channel() {
#ifdef RINGPORT_TEST_HOOKS
  // relaxed: a statistic; tests read it after the threads have joined.
  test_live_channels.fetch_sub(1, std::memory_order_relaxed);
#endif
}

void Channel::WakeConsumer(int side, uint32_t reasons) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (endpoints_[side] != nullptr) endpoints_[side]->Wake(reasons);
  }
  Waiter& waiter = waiters_[side];
  // seq_cst: after the exchange that won the wake-up; a waiter counted itself
  // before its seq_cst store of kSleeping, so it is seen here (WaitReadable).
  if (waiter.waiting.load(std::memory_order_seq_cst) != 0) {
    // Taking the lock orders this notify after the waiter's check of the ring.
    std::lock_guard<std::mutex> lock(waiter.mutex);
    waiter.ready.notify_all();
  }
}

bool Channel::WaitReadable(int side, std::chrono::microseconds slice) {
  Waiter& waiter = waiters_[side];
  // seq_cst: before the store of kSleeping below (see WakeConsumer).
  waiter.waiting.fetch_add(1, std::memory_order_seq_cst);
  bool readable;
  {
    std::unique_lock<std::mutex> lock(waiter.mutex);
    // seq_cst: the consumer half of the protocol (port.h): a producer either
    // sees kSleeping after publishing, or its record is seen just below.
    consumer_state(side).store(kSleeping, std::memory_order_seq_cst);
    readable = incoming(side).ReadableForSleep();
    if (!readable) {
      waiter.ready.wait_for(lock, slice);
      readable = incoming(side).ReadableForSleep();
    }
  }
  // relaxed: only the count matters, and the lock above ordered the wait.
  waiter.waiting.fetch_sub(1, std::memory_order_relaxed);
  return readable;
}

void Channel::Notify(int side, uint32_t reasons) { WakeConsumer(side, reasons); }

int32_t Channel::OwnerThread(int side) {
  std::lock_guard<std::mutex> lock(mutex_);
  return endpoints_[side] != nullptr ? endpoints_[side]->thread() : -1;
}

void Channel::Attach(int side, Endpoint* endpoint) {
  std::lock_guard<std::mutex> lock(mutex_);
  endpoints_[side] = endpoint;
}

void Channel::Detach(int side, Endpoint* endpoint) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (endpoints_[side] == endpoint) endpoints_[side] = nullptr;
}

void Channel::AwaitSendsTo(int side, int32_t thread) {
  // A producer makes the word odd before its owner read (under mutex_) and
  // even again after posting. Detach took mutex_ after any such read that
  // saw the old owner, so if one is under way the word still shows its odd
  // value here; only that one send is waited for (a later one reads the new
  // owner). acquire: pairs with the producer's seq_cst increment after its
  // post, so the post happened before what this thread does next.
  const uint32_t seen = sending(side).load(std::memory_order_acquire);
  if ((seen & 1) == 0) return;
  // The producer is this thread (re-entered in the middle of a send), or it
  // has left (a thread terminated in the middle of a send never ends it).
  // acquire on gone: pairs with the seq_cst store in Leave.
  auto stopped = [&] { return gone(side ^ 1).load(std::memory_order_acquire) != 0; };
  if (OwnerThread(side ^ 1) == thread || stopped()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (sending(side).load(std::memory_order_acquire) == seen && !stopped() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

bool Channel::left(int side) {
  std::lock_guard<std::mutex> lock(mutex_);
  return left_[side];
}

void Channel::WakeIfSleeping(int side) {
  std::atomic<uint32_t>& state = consumer_state(side);
  // seq_cst: ordered after the producer's seq_cst publication of tail, against
  // the consumer's seq_cst store of kSleeping (port.h).
  if (state.load(std::memory_order_seq_cst) == kSleeping &&
      // seq_cst: one winner between producer and consumer.
      state.exchange(kAwake, std::memory_order_seq_cst) == kSleeping) {
    WakeConsumer(side, kWakeMessages);
  }
}

// Backpressure: the drain notification, without a lost wake-up.
//   producer, when bufferedAmount rises above the high-water mark:
//             store(target) (relaxed); store(armed, 1) (seq_cst);
//             load(consumer state) (seq_cst); load(taken) (relaxed);
//             if taken >= target and exchange(armed, 0) == 1: already
//             drained, no wake-up will come.
//   consumer, per message: taken += size (relaxed store); if load(armed)
//             and taken >= target and exchange(armed, 0) == 1: wake the
//             producer (kWakeDrain).
//   consumer, going to sleep: store(state, kSleeping) (seq_cst, the wake-up
//             protocol's own store); load(armed) (seq_cst); then as above.
// The consumer's per-message check is a fast path; the guarantee comes from
// the sleep check. Both sides store then load with seq_cst (armed, then
// state; state, then armed), so at least one sees the other's store. If the
// producer reads kSleeping, it synchronizes with that store and so sees
// every byte the consumer counted before it went to sleep (and it took none
// since, else it is awake); if it reads kAwake, the consumer's next sleep
// comes later in the total order and its load of `armed` sees 1. The
// exchange on `armed` makes exactly one side act on a reached target.
// An idle consumer sleeps with its ring empty, so a producer waiting for
// 'drain' is never stuck on bytes that were taken.

void Channel::CountPosted(int side, uint32_t bytes) {
  std::atomic<double>& posted = posted_bytes(side);
  // relaxed: only this producer writes it; readers want a recent value, and
  // the drain protocol orders what it needs through `armed` and the state.
  posted.store(posted.load(std::memory_order_relaxed) + bytes,
               std::memory_order_relaxed);
}

double Channel::BufferedApprox(int side) {
  // relaxed: a racy snapshot, as bufferedAmount is.
  return posted_bytes(side).load(std::memory_order_relaxed) -
         taken_bytes(side).load(std::memory_order_relaxed);
}

bool Channel::ArmDrain(int side, double target) {
  // relaxed: published by the seq_cst store of `armed` below (release).
  drain_target(side).store(target, std::memory_order_relaxed);
  std::atomic<uint32_t>& armed = drain_armed(side);
  // seq_cst: ordered before the load of the consumer's state (see above).
  armed.store(1, std::memory_order_seq_cst);
  // seq_cst: reading kSleeping synchronizes with the consumer's store of it,
  // so the load of `taken` below sees everything counted before it.
  consumer_state(side).load(std::memory_order_seq_cst);
  // relaxed: ordered after the seq_cst load above.
  if (taken_bytes(side).load(std::memory_order_relaxed) < target) return false;
  // seq_cst: one winner between producer and consumer.
  return armed.exchange(0, std::memory_order_seq_cst) == 1;
}

void Channel::NotifyDrainIfReached(int side) {
  // acquire: the target was stored before the producer's store of `armed`.
  if (drain_armed(side).load(std::memory_order_acquire) == 0) return;
  // relaxed: ordered by the acquire load above.
  const double target = drain_target(side).load(std::memory_order_relaxed);
  // relaxed: only this consumer writes it.
  if (taken_bytes(side).load(std::memory_order_relaxed) < target) return;
  // seq_cst: one winner between producer and consumer.
  if (drain_armed(side).exchange(0, std::memory_order_seq_cst) == 1) {
    Notify(side ^ 1, kWakeDrain);
  }
}

void Channel::CountTaken(int side, uint32_t bytes) {
  std::atomic<double>& taken = taken_bytes(side);
  // relaxed: only this consumer writes it; see the protocol above.
  taken.store(taken.load(std::memory_order_relaxed) + bytes,
              std::memory_order_relaxed);
  // relaxed: the fast path; the sleep check is what guarantees the wake-up.
  if (drain_armed(side).load(std::memory_order_relaxed) != 0) {
    NotifyDrainIfReached(side);
  }
}

void Channel::CheckDrainOnSleep(int side) {
  // seq_cst: after the consumer's seq_cst store of kSleeping (see above).
  if (drain_armed(side).load(std::memory_order_seq_cst) != 0) {
    NotifyDrainIfReached(side);
  }
}

bool Channel::PostRecord(int side, RecordKind kind, const void* payload,
                         uint32_t size) {
  if (!outgoing(side).Write(kind, payload, size)) return false;
  WakeIfSleeping(side ^ 1);
  return true;
}

bool Channel::AddCarried(int side, uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (left_[side]) return false;
  carried_[side].push_back(token);
  return true;
}

void Channel::RemoveCarried(int side, uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint64_t>& list = carried_[side];
  for (size_t i = 0; i < list.size(); i++) {
    if (list[i] == token) {
      list[i] = list.back();
      list.pop_back();
      return;
    }
  }
}

void Channel::Leave(int first_side) {
  // Closing a side closes the ports in flight in its incoming ring, which may
  // carry ports of their own: a work list instead of recursion.
  std::vector<uint64_t> pending;
  Channel* channel = this;
  int side = first_side;
  channel->Ref();
  for (;;) {
    std::vector<uint64_t> carried;
    bool peer_left;
    bool already_left;
    {
      std::lock_guard<std::mutex> lock(channel->mutex_);
      already_left = channel->left_[side];
      channel->left_[side] = true;
      peer_left = channel->left_[side ^ 1];
      carried.swap(channel->carried_[side]);
    }
    if (!already_left) {
      // seq_cst: a peer that reads the flag in postMessage() sees it at the
      // latest when it sees the kClose record published below.
      channel->gone(side).store(1, std::memory_order_seq_cst);
      if (!peer_left) channel->PostRecord(side, RecordKind::kClose, nullptr, 0);
      pending.insert(pending.end(), carried.begin(), carried.end());
    }
    channel->Unref();
    // Next parked side whose carrier was discarded.
    channel = nullptr;
    while (channel == nullptr && !pending.empty()) {
      const uint64_t token = pending.back();
      pending.pop_back();
      if (!TransferRegistry::Get().Take(token, &channel, &side)) channel = nullptr;
    }
    if (channel == nullptr) return;
    // `channel` holds the reference Take() handed over; the loop drops it.
  }
}

TransferRegistry& TransferRegistry::Get() {
  // Leaked on purpose: ports may be closed by environment cleanup hooks that
  // run during process exit, after static destructors would have run.
  static TransferRegistry* registry = new TransferRegistry();
  return *registry;
}

TransferRegistry::TransferRegistry() {
  // Tokens start at a random point so that a stale or forged handle is
  // unlikely to name a live entry; they stay below 2^53 for JavaScript.
  std::random_device rd;
  next_token_ = (static_cast<uint64_t>(rd()) << 20) | 1;
}

uint64_t TransferRegistry::Park(Channel* channel, int side, Channel* carrier,
                                int carrier_side, int32_t parked_by) {
  uint64_t token;
  channel->Ref();
  if (carrier != nullptr) carrier->Ref();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    token = next_token_++;
    entries_.emplace(token,
                     Entry{channel, side, carrier, carrier_side, parked_by});
  }
  if (carrier != nullptr && !carrier->AddCarried(carrier_side, token)) {
    // The carrier's reader is gone: the message will never be read.
    Channel* parked;
    int parked_side;
    if (Take(token, &parked, &parked_side)) parked->Unref();
    return 0;
  }
  return token;
}

bool TransferRegistry::Take(uint64_t token, Channel** channel, int* side,
                            int32_t* parked_by) {
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(token);
    if (it == entries_.end()) return false;
    entry = it->second;
    entries_.erase(it);
  }
  if (entry.carrier != nullptr) {
    entry.carrier->RemoveCarried(entry.carrier_side, token);
    entry.carrier->Unref();
  }
  *channel = entry.channel;
  *side = entry.side;
  if (parked_by != nullptr) *parked_by = entry.parked_by;
  return true;
}

void TransferRegistry::CloseParked(uint64_t token) {
  Channel* channel;
  int side;
  if (!Take(token, &channel, &side)) return;
  channel->Leave(side);
  channel->Unref();
}

}  // namespace ringport
