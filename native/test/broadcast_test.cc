// Unit tests of the BroadcastChannel registry (native/broadcast.h): the mesh
// of pipes a join creates, the inbox and generation word of earlier members,
// doorbells, leaving with unadopted pipes, and joins/leaves racing from
// several threads. Every channel must be freed (test_live_channels).
// native-test-sources: native/broadcast.cc native/port.cc
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "../broadcast.h"
#include "test.h"

namespace {

using ringport::BroadcastMember;
using ringport::BroadcastPipe;
using ringport::BroadcastRegistry;
using ringport::Channel;
using ringport::Endpoint;
using ringport::RecordKind;

// A doorbell's owner: counts the rings.
class Bell final : public Endpoint {
 public:
  void Wake(uint32_t) override {
    // relaxed: a counter read after the threads joined.
    rings.fetch_add(1, std::memory_order_relaxed);
  }
  int32_t thread() const override { return 0; }
  std::atomic<int> rings{0};
};

int64_t LiveChannels() {
  // relaxed: read when no other thread runs.
  return ringport::test_live_channels.load(std::memory_order_relaxed);
}

struct Member {
  Bell bell;
  Channel* doorbell;
  BroadcastMember* member;
  explicit Member(const std::string& name) : doorbell(Channel::Create(256)) {
    doorbell->Attach(0, &bell);
    member = new BroadcastMember(name, doorbell);
  }
  ~Member() {
    doorbell->Detach(0, &bell);
    member->Unref();
    doorbell->Unref();
  }
};

// Drops ends the test never attaches (a member's own, or adopted: still ringing its doorbell).
void Release(BroadcastMember* member, const std::vector<BroadcastPipe>& pipes) {
  for (const BroadcastPipe& p : pipes) BroadcastRegistry::Release(member, p);
}

TEST(BroadcastJoinBuildsTheMesh) {
  const int64_t before = LiveChannels();
  {
    Member a("mesh"), b("mesh"), c("mesh"), other("other");
    auto& registry = BroadcastRegistry::Get();
    EXPECT_EQ(registry.Join(a.member).size(), 0u);
    std::vector<BroadcastPipe> b_own = registry.Join(b.member);
    EXPECT_EQ(b_own.size(), 1u);
    std::vector<BroadcastPipe> c_own = registry.Join(c.member);
    EXPECT_EQ(c_own.size(), 2u);
    EXPECT_EQ(registry.Join(other.member).size(), 0u);
    EXPECT_EQ(registry.Join(c.member).size(), 0u);  // joins once
    EXPECT_EQ(registry.Members("mesh"), 3u);
    // a was told twice (b, c), b once (c), through the generation words; a
    // join alone rings no doorbell.
    EXPECT_EQ(a.member->generation().load(std::memory_order_acquire), 2u);
    EXPECT_EQ(b.member->generation().load(std::memory_order_acquire), 1u);
    EXPECT_EQ(c.member->generation().load(std::memory_order_acquire), 0u);
    EXPECT_EQ(a.bell.rings.load(), 0);
    EXPECT_EQ(b.bell.rings.load(), 0);
    // The first message on an unadopted end rings its member's doorbell, once:
    // the end stays awake until its reader has read it.
    EXPECT(c_own[1].channel->PostRecord(c_own[1].side, RecordKind::kMessage, "b", 1));
    EXPECT(c_own[1].channel->PostRecord(c_own[1].side, RecordKind::kMessage, "b", 1));
    EXPECT_EQ(b.bell.rings.load(), 1);
    EXPECT_EQ(a.bell.rings.load(), 0);
    std::vector<BroadcastPipe> a_in = registry.Adopt(a.member);
    std::vector<BroadcastPipe> b_in = registry.Adopt(b.member);
    EXPECT_EQ(a_in.size(), 2u);
    EXPECT_EQ(b_in.size(), 1u);
    EXPECT_EQ(registry.Adopt(a.member).size(), 0u);
    // The pipe c -> a carries a record to a's end.
    const BroadcastPipe& c_to_a = c_own[0];
    EXPECT(c_to_a.channel == a_in[1].channel);
    EXPECT(c_to_a.channel->PostRecord(c_to_a.side, RecordKind::kMessage, "hi", 2));
    for (Member* m : {&a, &b, &c, &other}) registry.Leave(m->member);
    registry.Leave(a.member);  // idempotent
    EXPECT_EQ(registry.Members("mesh"), 0u);
    Release(a.member, a_in);
    Release(b.member, b_in);
    Release(b.member, b_own);
    Release(c.member, c_own);
  }
  EXPECT_EQ(LiveChannels(), before);
}

TEST(BroadcastLeaveFreesUnadoptedPipes) {
  const int64_t before = LiveChannels();
  {
    Member a("leave"), b("leave");
    auto& registry = BroadcastRegistry::Get();
    registry.Join(a.member);
    std::vector<BroadcastPipe> b_own = registry.Join(b.member);
    // a never adopts its end: leaving closes it, and b's end sees the peer gone.
    registry.Leave(a.member);
    EXPECT_EQ(b_own[0].channel->gone(b_own[0].side ^ 1).load(), 1u);
    registry.Leave(b.member);
    Release(b.member, b_own);
  }
  EXPECT_EQ(LiveChannels(), before);
}

TEST(BroadcastJoinsAndLeavesRace) {
  const int64_t before = LiveChannels();
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([] {
      auto& registry = BroadcastRegistry::Get();
      for (int i = 0; i < kRounds; i++) {
        Member m("race");
        std::vector<BroadcastPipe> own = registry.Join(m.member);
        std::vector<BroadcastPipe> in = registry.Adopt(m.member);
        for (const BroadcastPipe& p : own) p.channel->PostRecord(p.side, RecordKind::kMessage, "x", 1);
        registry.Leave(m.member);
        Release(m.member, own);
        Release(m.member, in);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(BroadcastRegistry::Get().Members("race"), 0u);
  EXPECT_EQ(LiveChannels(), before);
}

}  // namespace
