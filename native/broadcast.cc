#include "broadcast.h"

#include <algorithm>

namespace ringport {

namespace {
// Capacity of a pipe's rings when created (lib/ring.ts INITIAL_CAPACITY);
// they grow under load as any channel's.
constexpr uint32_t kPipeCapacity = 256;

struct alignas(kCacheLine) Sequence {
  std::atomic<int32_t> next{0};
  uint8_t pad[kCacheLine - sizeof(std::atomic<int32_t>)];
};
static_assert(sizeof(Sequence) == kCacheLine, "one cache line");
static_assert(sizeof(std::atomic<int32_t>) == 4 &&
                  sizeof(std::atomic<uint32_t>) == 4,
              "JavaScript maps these words as Int32Array elements");
Sequence sequence;
}  // namespace

BroadcastMember::BroadcastMember(std::string name, Channel* doorbell)
    : name_(std::move(name)), doorbell_(doorbell) {
  doorbell_->Ref();
}

BroadcastMember::~BroadcastMember() {
  // Left before the last reference went: Leave() released the inbox.
  doorbell_->Unref();
}

void BroadcastMember::Wake(uint32_t) {
  // Lock order: an end's channel mutex, then the doorbell's (never taken
  // the other way round: the doorbell carries no records).
  doorbell_->Notify(0, kWakeMessages);
}

BroadcastRegistry& BroadcastRegistry::Get() {
  // Leaked on purpose, as TransferRegistry: members leave from environment
  // cleanup hooks that may run after static destructors.
  static BroadcastRegistry* registry = new BroadcastRegistry();
  return *registry;
}

void* BroadcastRegistry::sequence_memory() { return &sequence; }

std::vector<BroadcastPipe> BroadcastRegistry::Join(BroadcastMember* member) {
  std::vector<BroadcastPipe> own;
  std::lock_guard<std::mutex> lock(mutex_);
  if (member->joined_) return own;
  std::vector<BroadcastMember*>& group = groups_[member->name_];
  own.reserve(group.size());
  for (BroadcastMember* other : group) {
    Channel* channel = Channel::Create(kPipeCapacity);
    channel->Ref();  // one reference per end
    own.push_back(BroadcastPipe{channel, 0});
    other->inbox_.push_back(BroadcastPipe{channel, 1});
    // release: a sender that reads the new value (acquire) and then takes
    // this mutex to adopt finds the end in its inbox; the mutex orders the
    // inbox itself, this makes the bump visible to a lock-free check.
    other->generation_.fetch_add(1, std::memory_order_release);
    // The first message on the end wakes the member, which adopts it.
    channel->Attach(1, other);
  }
  member->Ref();
  member->joined_ = true;
  group.push_back(member);
  return own;
}

std::vector<BroadcastPipe> BroadcastRegistry::Adopt(BroadcastMember* member) {
  std::vector<BroadcastPipe> pipes;
  std::lock_guard<std::mutex> lock(mutex_);
  pipes.swap(member->inbox_);
  return pipes;
}

void BroadcastRegistry::Leave(BroadcastMember* member) {
  std::vector<BroadcastPipe> unadopted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!member->joined_) return;
    member->joined_ = false;
    unadopted.swap(member->inbox_);
    auto it = groups_.find(member->name_);
    if (it != groups_.end()) {
      std::vector<BroadcastMember*>& group = it->second;
      group.erase(std::remove(group.begin(), group.end(), member), group.end());
      if (group.empty()) groups_.erase(it);
    }
  }
  // Outside the registry mutex (lock order): the peers get the close marker.
  for (const BroadcastPipe& pipe : unadopted) Release(member, pipe);
  member->Unref();  // the registry's reference
}

void BroadcastRegistry::Release(BroadcastMember* member, const BroadcastPipe& pipe) {
  pipe.channel->Detach(pipe.side, member);
  pipe.channel->Leave(pipe.side);
  pipe.channel->Unref();
}

size_t BroadcastRegistry::Members(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = groups_.find(name);
  return it == groups_.end() ? 0 : it->second.size();
}

size_t BroadcastRegistry::Groups() {
  std::lock_guard<std::mutex> lock(mutex_);
  return groups_.size();
}

}  // namespace ringport
