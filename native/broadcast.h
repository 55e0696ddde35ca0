// BroadcastChannel membership: a process-wide registry of the open channels
// of each name. Plain C++17 (no N-API, no libuv), so it runs under the
// sanitizers in native/test.
//
// Rings are single-producer/single-consumer, so the members of a name form a
// mesh: every pair of members shares one ringport Channel (side 0 for the
// member that joined later, side 1 for the earlier one), through which each
// sends to the other. Joining creates the new member's pipes at once, under
// the registry mutex: a message posted after `new BroadcastChannel(name)`
// returned, in any thread, reaches it. The earlier members adopt their ends
// lazily, in their own threads: each end is parked in the member's inbox and
// the member's generation word is bumped. Until adopted, the end's endpoint
// is the member itself, whose Wake() rings its doorbell (side 0 of a channel
// that carries no records, attached to the member's thread): the member
// attaches the end and reads it. The doorbell rings only when a message is
// sent, never for a join, because a wake-up with nothing to read is not
// harmless: its walk delivers what arrives during it, ahead of Node ports
// signalled meanwhile, where Node would have delivered those first. A sender
// compares the generation word with what it adopted before each post, so it
// never misses a member that joined before the post began.
//
// Leaving: the member is removed from its group; ends it never adopted leave
// their channels here; ends it adopted are closed by their owner (or by the
// environment's teardown), which sends the peer the channel's close marker.
//
// Lock order: the registry mutex may be held while a channel mutex is taken
// (ringing a doorbell), never the other way round; Channel::Leave() runs
// outside the registry mutex.
#ifndef RINGPORT_BROADCAST_H_
#define RINGPORT_BROADCAST_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "port.h"

namespace ringport {

// One end of a pipe, not attached yet: holds a channel reference.
struct BroadcastPipe {
  Channel* channel;
  int side;
};

class BroadcastMember final : public Endpoint {
 public:
  // Any thread. `doorbell` is the channel whose side 0 wakes the member's
  // thread; the member takes a reference to it. One reference, the caller's.
  BroadcastMember(std::string name, Channel* doorbell);
  BroadcastMember(const BroadcastMember&) = delete;
  BroadcastMember& operator=(const BroadcastMember&) = delete;

  // Any thread.
  void Ref() {
    // relaxed: taking a reference needs no ordering; the caller holds one.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void Unref() {
    // acq_rel: all uses of the member happen before its destruction.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Any thread, an unadopted end's channel mutex held: its first message
  // rings the doorbell.
  void Wake(uint32_t reasons) override;
  // An unadopted end has no owner thread yet (values beside the ring go
  // through the custodian, as for a port in flight).
  int32_t thread() const override { return -1; }

  const std::string& name() const { return name_; }
  // Bumped (under the registry mutex) each time an end is parked for this
  // member. Its own cache line: the owner's JavaScript reads it at each post.
  std::atomic<uint32_t>& generation() { return generation_; }
  // The word's storage, for an external ArrayBuffer (kCacheLine bytes).
  void* generation_memory() { return &generation_; }

 private:
  friend class BroadcastRegistry;
  ~BroadcastMember() override;

  alignas(kCacheLine) std::atomic<uint32_t> generation_{0};
  alignas(kCacheLine) std::atomic<int32_t> refs_{1};
  const std::string name_;
  Channel* const doorbell_;
  // Guarded by the registry mutex.
  std::vector<BroadcastPipe> inbox_;
  bool joined_ = false;
};

class BroadcastRegistry {
 public:
  static BroadcastRegistry& Get();

  // Any thread. Adds `member` (takes a reference) to its name's group and
  // creates one pipe to each member already there. Returns the pipes of the
  // new member (side 0 ends, one channel reference each), for the caller to
  // attach at once. A member joins once.
  std::vector<BroadcastPipe> Join(BroadcastMember* member);

  // Owner thread of `member`: the ends parked for it since the last call,
  // each with a channel reference. `member` stays their endpoint until the
  // caller attaches its own (no wake-up is lost meanwhile); an end the caller
  // drops instead must be released with Release().
  std::vector<BroadcastPipe> Adopt(BroadcastMember* member);
  // An adopted end that will never be attached: it stops ringing `member`'s
  // doorbell and leaves its channel. Drops the end's channel reference.
  static void Release(BroadcastMember* member, const BroadcastPipe& pipe);

  // Any thread. Removes `member` from its group (drops the registry's
  // reference); ends never adopted leave their channels. Idempotent.
  void Leave(BroadcastMember* member);

  // Any thread: open members of `name` (tests).
  size_t Members(const std::string& name);
  // Any thread: names with at least one member (tests).
  size_t Groups();

  // The process-wide message sequence counter's storage (kCacheLine bytes):
  // senders take a number per message (Atomics.add), receivers deliver in
  // that order across pipes.
  static void* sequence_memory();

 private:
  BroadcastRegistry() = default;

  std::mutex mutex_;  // guards groups_ and every member's inbox_ / joined_
  std::unordered_map<std::string, std::vector<BroadcastMember*>> groups_;
};

}  // namespace ringport

#endif  // RINGPORT_BROADCAST_H_
