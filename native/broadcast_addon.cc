// The JavaScript surface of BroadcastChannel membership (lib/binding.ts,
// lib/broadcast.ts): joining a name, adopting pipes, leaving. The registry
// itself is native/broadcast.cc.
#include <napi.h>

#include "broadcast.h"
#include "endpoint.h"
#include "env.h"

namespace ringport {

// addon.cc: a PortHandle for an endpoint (takes over the caller's reference).
Napi::Object WrapPortEndpoint(Napi::Env env, PortEndpoint* endpoint);

namespace {

void ReleaseMemberView(napi_env, void*, void* hint) {
  static_cast<BroadcastMember*>(hint)->Unref();
}

void NoRelease(napi_env, void*, void*) {}

// One BroadcastChannel's membership, held by its JavaScript object.
class MemberHandle : public Napi::ObjectWrap<MemberHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BroadcastMember",
                       {
                           InstanceMethod<&MemberHandle::Generation>("generation"),
                           InstanceMethod<&MemberHandle::Adopt>("adopt"),
                           InstanceMethod<&MemberHandle::Leave>("leave"),
                       });
  }

  explicit MemberHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<MemberHandle>(info) {
    if (pending_ == nullptr) {
      throw Napi::TypeError::New(info.Env(), "Illegal constructor");
    }
    member_ = pending_;
    pending_ = nullptr;
  }

  ~MemberHandle() override {
    LeaveGroup();
    member_->Unref();
  }

  // JS thread. (name) -> { member, doorbell, pipes }.
  static Napi::Value Join(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ringport::Env* e = static_cast<ringport::Env*>(info.Data());
    if (!info[0].IsString()) {
      throw Napi::TypeError::New(env, "ringport: broadcastJoin(name)");
    }
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    // The doorbell: side 0 wakes this thread; nothing is ever written to it.
    Channel* doorbell = Channel::Create(kMinCapacity);
    auto* bell = new PortEndpoint(e, doorbell, 0);  // takes the reference
    Napi::Object bell_handle = WrapPortEndpoint(env, bell);
    auto* member = new BroadcastMember(name, doorbell);
    Napi::Object member_handle;
    {
      pending_ = member;  // the handle takes over this reference
      struct Clear {
        ~Clear() { pending_ = nullptr; }
      } clear;
      member_handle = constructor(env).New({});
    }
    MemberHandle* self = Unwrap(member_handle);
    self->env_ = env;
    self->owner_ = e;
    // Leaves the group if this thread exits first (worker exit, terminate).
    if (napi_add_env_cleanup_hook(env, OnEnvExit, self) != napi_ok) {
      bell->CloseAndLeave();
      throw Napi::Error::New(env, "ringport: could not join a BroadcastChannel");
    }
    self->hooked_ = true;
    self->order_ = bell->order();
    Napi::Array pipes = Attach(env, e, member, self->order_, BroadcastRegistry::Get().Join(member));
    Napi::Object result = Napi::Object::New(env);
    result.Set("member", member_handle);
    result.Set("doorbell", bell_handle);
    result.Set("pipes", pipes);
    return result;
  }

  static void Register(Napi::Env env, Napi::Object exports, ringport::Env* e) {
    auto* ctor = new Napi::FunctionReference(Napi::Persistent(Define(env)));
    env.AddCleanupHook([ctor]() { delete ctor; });
    constructors() = ctor;
    exports.Set("broadcastJoin",
                Napi::Function::New(env, Join, "broadcastJoin", e));
    exports.Set("broadcastSequence",
                Napi::Function::New(env, Sequence, "broadcastSequence"));
  }

 private:
  static Napi::Function constructor(Napi::Env) {
    return constructors()->Value();
  }
  // One constructor per environment (thread): module init runs per thread.
  static Napi::FunctionReference*& constructors() {
    thread_local Napi::FunctionReference* ctor = nullptr;
    return ctor;
  }

  // Attaches parked ends to this thread: one PortHandle each. An end that no
  // endpoint took (a napi call threw: the thread is being torn down) leaves
  // its channel, so that the channel's other end can free it.
  static Napi::Array Attach(Napi::Env env, ringport::Env* e, BroadcastMember* member,
                            uint64_t order, const std::vector<BroadcastPipe>& pipes) {
    struct Untaken {
      BroadcastMember* member;
      const std::vector<BroadcastPipe>& pipes;
      size_t taken = 0;
      ~Untaken() {
        for (size_t i = taken; i < pipes.size(); i++) {
          BroadcastRegistry::Release(member, pipes[i]);
        }
      }
    } untaken{member, pipes};
    Napi::Array handles = Napi::Array::New(env, pipes.size());
    for (uint32_t i = 0; i < pipes.size(); i++) {
      auto* endpoint = new PortEndpoint(e, pipes[i].channel, pipes[i].side, order);
      untaken.taken = i + 1;  // the endpoint holds the reference now
      handles.Set(i, WrapPortEndpoint(env, endpoint));
    }
    return handles;
  }

  // An Int32Array-able view of the member's generation word.
  Napi::Value Generation(const Napi::CallbackInfo& info) {
    member_->Ref();
    napi_value buffer;
    if (napi_create_external_arraybuffer(info.Env(), member_->generation_memory(),
                                         kCacheLine, ReleaseMemberView, member_,
                                         &buffer) != napi_ok) {
      member_->Unref();
      throw Napi::Error::New(info.Env(), "ringport: could not map a member");
    }
    return Napi::Value(info.Env(), buffer);
  }

  // The pipes other members opened to this one since the last call.
  Napi::Value Adopt(const Napi::CallbackInfo& info) {
    return Attach(info.Env(), owner_, member_, order_, BroadcastRegistry::Get().Adopt(member_));
  }

  // close(): out of the group; adopted pipes are closed by the caller.
  Napi::Value Leave(const Napi::CallbackInfo& info) {
    LeaveGroup();
    return info.Env().Undefined();
  }

  // JS thread (or its teardown). Idempotent.
  void LeaveGroup() {
    if (!hooked_) return;
    hooked_ = false;
    napi_remove_env_cleanup_hook(env_, OnEnvExit, this);
    BroadcastRegistry::Get().Leave(member_);
  }

  // Environment teardown: the thread exits, its members leave their groups.
  static void OnEnvExit(void* data) {
    auto* self = static_cast<MemberHandle*>(data);
    self->hooked_ = false;
    BroadcastRegistry::Get().Leave(self->member_);
  }

  static Napi::Value Sequence(const Napi::CallbackInfo& info) {
    napi_value buffer;
    if (napi_create_external_arraybuffer(info.Env(),
                                         BroadcastRegistry::sequence_memory(),
                                         kCacheLine, NoRelease, nullptr,
                                         &buffer) != napi_ok) {
      throw Napi::Error::New(info.Env(), "ringport: could not map a counter");
    }
    return Napi::Value(info.Env(), buffer);
  }

  static thread_local BroadcastMember* pending_;
  BroadcastMember* member_ = nullptr;
  ringport::Env* owner_ = nullptr;
  // The doorbell's place in Env::OnAsync's walk, shared by every pipe.
  uint64_t order_ = 0;
  napi_env env_ = nullptr;
  bool hooked_ = false;
};

thread_local BroadcastMember* MemberHandle::pending_ = nullptr;

}  // namespace

void InitBroadcast(Napi::Env env, Napi::Object exports, ringport::Env* e) {
  MemberHandle::Register(env, exports, e);
}

}  // namespace ringport
