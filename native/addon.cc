// The JavaScript surface of the addon (typed in lib/binding.ts). Arguments
// are validated in TypeScript; this layer only guards against misuse that
// would otherwise corrupt memory.
#include <napi.h>

#include <chrono>
#include <string>
#include <vector>

#include "endpoint.h"
#include "env.h"
#include "port.h"

namespace ringport {

// broadcast_addon.cc: broadcastJoin() and broadcastSequence().
void InitBroadcast(Napi::Env env, Napi::Object exports, Env* e);

namespace {

void ReleaseSegmentView(napi_env, void*, void* hint) {
  static_cast<Segment*>(hint)->Unref();
}

void ReleaseControlView(napi_env, void*, void* hint) {
  static_cast<Channel*>(hint)->Unref();
}

// An external ArrayBuffer over a segment; the view holds a segment reference.
Napi::Value SegmentView(Napi::Env env, Segment* segment) {
  segment->Ref();
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, segment->memory(),
                                       segment->memory_bytes(),
                                       ReleaseSegmentView, segment,
                                       &buffer) != napi_ok) {
    segment->Unref();
    throw Napi::Error::New(env, "ringport: could not map a ring segment");
  }
  return Napi::Value(env, buffer);
}

// The endpoint the PortHandle being constructed takes over (PortHandle::New).
thread_local PortEndpoint* pending_endpoint = nullptr;

struct AddonData {
  Env* env;
  Napi::FunctionReference port_handle;
};

// A JavaScript handle on one PortEndpoint. Lives as long as the JavaScript
// port holds it; the endpoint may outlive it (close phase, other threads).
class PortHandle : public Napi::ObjectWrap<PortHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "PortHandle",
        {
            InstanceMethod<&PortHandle::BindPort>("bind"),
            InstanceMethod<&PortHandle::Control>("control"),
            InstanceMethod<&PortHandle::Outgoing>("outgoing"),
            InstanceMethod<&PortHandle::Incoming>("incoming"),
            InstanceMethod<&PortHandle::SwitchOutgoing>("switchOutgoing"),
            InstanceMethod<&PortHandle::AdvanceIncoming>("advanceIncoming"),
            InstanceMethod<&PortHandle::Release>("release"),
            InstanceMethod<&PortHandle::WakePeer>("wakePeer"),
            InstanceMethod<&PortHandle::Schedule>("schedule"),
            InstanceMethod<&PortHandle::RequestTrim>("requestTrim"),
            InstanceMethod<&PortHandle::NotifyDrain>("notifyDrain"),
            InstanceMethod<&PortHandle::SleepIfEmpty>("sleepIfEmpty"),
            InstanceMethod<&PortHandle::WaitIncoming>("waitIncoming"),
            InstanceMethod<&PortHandle::Transfer>("transfer"),
            InstanceMethod<&PortHandle::Detach>("detach"),
            InstanceMethod<&PortHandle::Close>("close"),
            InstanceMethod<&PortHandle::Drop>("drop"),
            InstanceMethod<&PortHandle::IsPeerOf>("isPeerOf"),
            InstanceMethod<&PortHandle::PeerThread>("peerThread"),
            InstanceAccessor<&PortHandle::Side>("side"),
            InstanceAccessor<&PortHandle::ChannelId>("channelId"),
            InstanceAccessor<&PortHandle::PreviousThread>("previousThread"),
        });
  }

  static Napi::Object New(Napi::Env env, PortEndpoint* endpoint) {
    AddonData* data = env.GetInstanceData<AddonData>();
    // Handed to the constructor out of band: no napi External per handle
    // (cheaper, and Node frees those wrappers only at GC, which a worker's
    // exit skips).
    pending_endpoint = endpoint;
    struct Release {
      PortEndpoint* endpoint;
      ~Release() {
        if (pending_endpoint != endpoint) return;  // the constructor took it
        // The constructor did not run (a napi call failed: the thread is
        // being torn down): the endpoint leaves its channel, not leaks it.
        pending_endpoint = nullptr;
        endpoint->CloseAndLeave();
        endpoint->Unref();
      }
    } release{endpoint};
    return data->port_handle.New({});
  }

  explicit PortHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<PortHandle>(info) {
    // Only New() constructs handles; JavaScript reaching the constructor
    // (handle.constructor) gets an error.
    if (pending_endpoint == nullptr) {
      throw Napi::TypeError::New(info.Env(), "Illegal constructor");
    }
    // Takes over the reference the creator passed in.
    endpoint_ = pending_endpoint;
    pending_endpoint = nullptr;
  }

  ~PortHandle() override {
    if (endpoint_ != nullptr) endpoint_->Unref();
  }

 private:
  // The endpoint, if this thread still holds its end of the channel.
  PortEndpoint* InChannel(const Napi::CallbackInfo& info) {
    if (!endpoint_->in_channel()) {
      throw Napi::Error::New(info.Env(), "ringport: port is not attached");
    }
    return endpoint_;
  }

  // The endpoint, if it is attached and not closing.
  PortEndpoint* Attached(const Napi::CallbackInfo& info) {
    if (!endpoint_->attached()) {
      throw Napi::Error::New(info.Env(), "ringport: port is not attached");
    }
    return endpoint_;
  }

  Napi::Value BindPort(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject() ||
        endpoint_->Bind(info[0]) != napi_ok) {
      throw Napi::Error::New(info.Env(), "ringport: could not bind the port");
    }
    return info.Env().Undefined();
  }

  Napi::Value Control(const Napi::CallbackInfo& info) {
    Channel* channel = endpoint_->channel();
    channel->Ref();
    napi_value buffer;
    if (napi_create_external_arraybuffer(info.Env(), channel->control(),
                                         ControlLayout::kBytes,
                                         ReleaseControlView, channel,
                                         &buffer) != napi_ok) {
      channel->Unref();
      throw Napi::Error::New(info.Env(), "ringport: could not map a channel");
    }
    return Napi::Value(info.Env(), buffer);
  }

  // Producer: the current segment of the outgoing ring.
  Napi::Value Outgoing(const Napi::CallbackInfo& info) {
    PortEndpoint* ep = InChannel(info);
    return SegmentView(info.Env(),
                       ep->channel()->outgoing(ep->side()).producer_segment());
  }

  // Consumer: the current segment of the incoming ring.
  Napi::Value Incoming(const Napi::CallbackInfo& info) {
    PortEndpoint* ep = InChannel(info);
    return SegmentView(info.Env(),
                       ep->channel()->incoming(ep->side()).consumer_segment());
  }

  // Producer: (oldView, capacity) -> view of a new segment, linked behind a
  // kNext marker. Grows, or shrinks once a burst has drained.
  Napi::Value SwitchOutgoing(const Napi::CallbackInfo& info) {
    PortEndpoint* ep = InChannel(info);
    ReleaseView(info[0]);
    const uint32_t capacity = info[1].As<Napi::Number>().Uint32Value();
    Ring& ring = ep->channel()->outgoing(ep->side());
    if (!ring.SwitchSegment(capacity)) {
      throw Napi::RangeError::New(info.Env(),
                                  "ringport: out of memory for a ring segment");
    }
    return SegmentView(info.Env(), ring.producer_segment());
  }

  // Consumer, at a kNext marker: (oldView) -> view of the next segment.
  Napi::Value AdvanceIncoming(const Napi::CallbackInfo& info) {
    PortEndpoint* ep = InChannel(info);
    ReleaseView(info[0]);
    Ring& ring = ep->channel()->incoming(ep->side());
    return SegmentView(info.Env(), ring.AdvanceSegment());
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    ReleaseView(info[0]);
    return info.Env().Undefined();
  }

  // Detaching the view drops its segment reference now rather than at GC.
  static void ReleaseView(const Napi::Value& view) {
    if (view.IsArrayBuffer()) {
      napi_detach_arraybuffer(view.Env(), view);
    }
  }

  // Producer that won the sleeping -> awake exchange of its peer.
  Napi::Value WakePeer(const Napi::CallbackInfo& info) {
    endpoint_->channel()->WakeConsumer(endpoint_->side() ^ 1, kWakeMessages);
    return info.Env().Undefined();
  }

  // Wake this port on its own thread (start(), re-arming after a full batch).
  Napi::Value Schedule(const Napi::CallbackInfo& info) {
    if (endpoint_->attached()) endpoint_->Wake(kWakeMessages);
    return info.Env().Undefined();
  }

  // Consumer that drained a large segment: ask the producer to shrink.
  // The consumer half of the wake-up protocol (port.h), for a port whose
  // JavaScript has not mapped its incoming ring: a listening port that never
  // receives anything then costs no views. True if it is now asleep; false if
  // a record (or marker) is there to read.
  Napi::Value SleepIfEmpty(const Napi::CallbackInfo& info) {
    PortEndpoint* endpoint = InChannel(info);
    Channel* channel = endpoint->channel();
    const int side = endpoint->side();
    std::atomic<uint32_t>& state = channel->consumer_state(side);
    // seq_cst: ordered before the ring check below, against the producer's
    // seq_cst tail store then load of this word (port.h).
    state.store(kSleeping, std::memory_order_seq_cst);
    if (!channel->incoming(side).ReadableForSleep()) {
      // The drain notification's sleep check (port.cc): a previous owner may
      // have taken bytes just before it handed this port over.
      channel->CheckDrainOnSleep(side);
      return Napi::Boolean::New(info.Env(), true);
    }
    // seq_cst: as the store above. Whoever flips the word back wakes; if a
    // producer did, its wake-up is queued, which is harmless.
    state.exchange(kAwake, std::memory_order_seq_cst);
    return Napi::Boolean::New(info.Env(), false);
  }

  // (ms, probe) -> whether a record or marker waits in the incoming ring:
  // blocks this thread up to `ms` milliseconds (Infinity: no limit) until
  // one does. A producer's wake-up ends the wait at once. Every slice it
  // calls `probe`, a JavaScript no-op: the call fails when the thread is
  // being terminated (worker.terminate() cannot interrupt native code), and
  // the wait ends so that the termination can proceed.
  Napi::Value WaitIncoming(const Napi::CallbackInfo& info) {
    using Clock = std::chrono::steady_clock;
    constexpr std::chrono::microseconds kProbeEvery{20000};
    Napi::Env env = info.Env();
    PortEndpoint* endpoint = InChannel(info);
    Channel* channel = endpoint->channel();
    const int side = endpoint->side();
    const double ms = info[0].As<Napi::Number>().DoubleValue();
    napi_value probe = info[1];
    const bool forever = !(ms < 1e12);
    const Clock::time_point deadline =
        forever ? Clock::time_point::max()
                : Clock::now() + std::chrono::microseconds(
                                     static_cast<int64_t>(ms * 1000.0));
    for (;;) {
      std::chrono::microseconds slice = kProbeEvery;
      if (!forever) {
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
            deadline - Clock::now());
        if (left.count() <= 0) return Napi::Boolean::New(env, false);
        if (left < slice) slice = left;
      }
      if (channel->WaitReadable(side, slice)) {
        return Napi::Boolean::New(env, true);
      }
      napi_value result;
      if (napi_call_function(env, env.Undefined(), probe, 0, nullptr,
                             &result) != napi_ok) {
        return Napi::Boolean::New(env, false);
      }
    }
  }

  Napi::Value RequestTrim(const Napi::CallbackInfo& info) {
    endpoint_->channel()->Notify(endpoint_->side() ^ 1, kWakeTrim);
    return info.Env().Undefined();
  }

  // Consumer that won the drain request back (lib/backpressure.ts): wake the
  // producer to re-check its bufferedAmount.
  Napi::Value NotifyDrain(const Napi::CallbackInfo& info) {
    endpoint_->channel()->Notify(endpoint_->side() ^ 1, kWakeDrain);
    return info.Env().Undefined();
  }

  // (handles) -> tokens: parks each port, carried by the message this port is
  // about to publish. A token of 0 means the peer has left and the port was
  // closed instead. The old port objects get 'close' in the close phase.
  Napi::Value Transfer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    PortEndpoint* carrier = Attached(info);
    Napi::Array handles = info[0].As<Napi::Array>();
    const uint32_t n = handles.Length();
    std::vector<PortEndpoint*> endpoints;
    endpoints.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      PortHandle* h = Unwrap(handles.Get(i).As<Napi::Object>());
      if (h == nullptr || !h->endpoint_->attached() || h == this) {
        throw Napi::Error::New(env, "ringport: invalid port in transfer");
      }
      endpoints.push_back(h->endpoint_);
    }
    Napi::Array tokens = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; i++) {
      tokens.Set(i, Napi::Number::New(
                        env, static_cast<double>(Park(
                                 endpoints[i], carrier->channel(),
                                 carrier->side() ^ 1))));
    }
    return tokens;
  }

  // detachPort(): parks this port behind a handle token.
  Napi::Value Detach(const Napi::CallbackInfo& info) {
    PortEndpoint* ep = Attached(info);
    return Napi::Number::New(info.Env(),
                             static_cast<double>(Park(ep, nullptr, 0)));
  }

  static uint64_t Park(PortEndpoint* ep, Channel* carrier, int carrier_side) {
    Channel* channel = ep->channel();
    const int side = ep->side();
    channel->Ref();
    ep->CloseTransferred();  // detached from the channel from here on
    // Side-channel items sent to this thread for the port are all here now
    // (lib/foreign.ts reads them next and hands them on).
    channel->AwaitSendsTo(side, ep->thread());
    const uint64_t token = TransferRegistry::Get().Park(
        channel, side, carrier, carrier_side, ep->thread());
    if (token == 0) channel->Leave(side);  // nobody will read the message
    channel->Unref();
    return token;
  }

  // close(): the port leaves its channel in this iteration's close phase.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    endpoint_->CloseAndLeave();
    return info.Env().Undefined();
  }

  // The port went into a message that nobody will read: it leaves the
  // channel now (its peer's postMessage() returns false from here on), and
  // the port object gets 'close' in the close phase.
  Napi::Value Drop(const Napi::CallbackInfo& info) {
    if (endpoint_->attached()) {
      endpoint_->CloseTransferred();
      endpoint_->channel()->Leave(endpoint_->side());
    }
    return info.Env().Undefined();
  }

  // Whether `other` is the entangled peer of this port.
  Napi::Value IsPeerOf(const Napi::CallbackInfo& info) {
    PortHandle* other = Unwrap(info[0].As<Napi::Object>());
    const bool peer = other != nullptr &&
                      other->endpoint_->channel() == endpoint_->channel() &&
                      other->endpoint_->side() != endpoint_->side();
    return Napi::Boolean::New(info.Env(), peer);
  }

  Napi::Value Side(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), endpoint_->side());
  }

  Napi::Value ChannelId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(),
                             static_cast<double>(endpoint_->channel()->id()));
  }

  // The threadId of the thread that gave this port up (detach or transfer),
  // or -1 for a port created here.
  Napi::Value PreviousThread(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), previous_thread_);
  }

  // The threadId of the thread that owns the peer now, or -1 if none does.
  Napi::Value PeerThread(const Napi::CallbackInfo& info) {
    return Napi::Number::New(
        info.Env(), endpoint_->channel()->OwnerThread(endpoint_->side() ^ 1));
  }

 public:
  int32_t previous_thread_ = -1;

 private:
  PortEndpoint* endpoint_ = nullptr;
};

// init(dispatch, threadId): registers the dispatch function and this
// thread's id.
Napi::Value Init(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  if (!info[0].IsFunction() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "ringport: init(dispatch, threadId)");
  }
  data->env->set_dispatch(info[0]);
  data->env->set_thread_id(info[1].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// The per-thread object shared by every copy of the library in this thread.
Napi::Value Shared(const Napi::CallbackInfo& info) {
  return Napi::Value(info.Env(),
                     info.Env().GetInstanceData<AddonData>()->env->shared());
}

// (initialCapacity) -> [handle1, handle2], both attached to this thread.
Napi::Value CreateChannel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  const uint32_t capacity = info[0].As<Napi::Number>().Uint32Value();
  Channel* channel = Channel::Create(capacity);
  channel->Ref();  // one reference per endpoint
  auto* first = new PortEndpoint(data->env, channel, 0);
  auto* second = new PortEndpoint(data->env, channel, 1);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, PortHandle::New(env, first));
  pair.Set(1u, PortHandle::New(env, second));
  return pair;
}

// (token) -> handle attached to this thread, or null if no port is parked
// under that token (never parked, or already attached).
Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  const double value = info[0].As<Napi::Number>().DoubleValue();
  if (!(value >= 1 && value <= 9007199254740991.0)) return env.Null();
  Channel* channel;
  int side;
  int32_t parked_by;
  if (!TransferRegistry::Get().Take(static_cast<uint64_t>(value), &channel,
                                    &side, &parked_by)) {
    return env.Null();
  }
  Napi::Object handle =
      PortHandle::New(env, new PortEndpoint(data->env, channel, side));
  PortHandle::Unwrap(handle)->previous_thread_ = parked_by;
  return handle;
}

// ref()/unref(): this thread's wake-up handle keeps the event loop alive
// while at least one port is referenced.
Napi::Value Ref(const Napi::CallbackInfo& info) {
  info.Env().GetInstanceData<AddonData>()->env->Ref();
  return info.Env().Undefined();
}

Napi::Value Unref(const Napi::CallbackInfo& info) {
  info.Env().GetInstanceData<AddonData>()->env->Unref();
  return info.Env().Undefined();
}

Napi::Object Layout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("cacheLine", kCacheLine);
  layout.Set("segmentHeaderBytes", kSegmentHeaderBytes);
  layout.Set("recordHeader", kRecordHeader);
  layout.Set("recordAlign", kRecordAlign);
  layout.Set("minCapacity", kMinCapacity);
  layout.Set("maxCapacity", kMaxCapacity);
  layout.Set("chainCapacity", kChainCapacity);
  layout.Set("maxPayload", kMaxPayload);
  layout.Set("tailWord", 0);
  layout.Set("headWord", kCacheLine / 4);
  layout.Set("stateWord0", ControlLayout::ConsumerStateWord(0));
  layout.Set("stateWord1", ControlLayout::ConsumerStateWord(1));
  layout.Set("goneWord0", ControlLayout::GoneWord(0));
  layout.Set("goneWord1", ControlLayout::GoneWord(1));
  layout.Set("optionsWord0", ControlLayout::OptionsWord(0));
  layout.Set("optionsWord1", ControlLayout::OptionsWord(1));
  layout.Set("publishedWord0", ControlLayout::PublishedWord(0));
  layout.Set("publishedWord1", ControlLayout::PublishedWord(1));
  layout.Set("consumedWord0", ControlLayout::ConsumedWord(0));
  layout.Set("consumedWord1", ControlLayout::ConsumedWord(1));
  layout.Set("sendingWord0", ControlLayout::SendingWord(0));
  layout.Set("sendingWord1", ControlLayout::SendingWord(1));
  layout.Set("controlBytes", ControlLayout::kBytes);
  for (int side = 0; side < 2; side++) {
    const std::string n = std::to_string(side);
    layout.Set("drainArmedWord" + n, ControlLayout::DrainArmedWord(side));
    layout.Set("highWaterMarkDouble" + n, ControlLayout::HighWaterMarkDouble(side));
    layout.Set("drainTargetDouble" + n, ControlLayout::DrainTargetDouble(side));
    layout.Set("postedDouble" + n, ControlLayout::PostedDouble(side));
    layout.Set("takenDouble" + n, ControlLayout::TakenDouble(side));
  }
  layout.Set("kindMessage", static_cast<uint32_t>(RecordKind::kMessage));
  layout.Set("kindWrap", static_cast<uint32_t>(RecordKind::kWrap));
  layout.Set("kindNext", static_cast<uint32_t>(RecordKind::kNext));
  layout.Set("kindClose", static_cast<uint32_t>(RecordKind::kClose));
  layout.Set("wakeMessages", static_cast<uint32_t>(kWakeMessages));
  layout.Set("wakeTrim", static_cast<uint32_t>(kWakeTrim));
  layout.Set("wakeDrain", static_cast<uint32_t>(kWakeDrain));
  layout.Set("eventWake", static_cast<int32_t>(PortEvent::kWake));
  layout.Set("eventClosed", static_cast<int32_t>(PortEvent::kClosed));
  return layout;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  Env* e = Env::Create(env);
  if (e == nullptr) {
    throw Napi::Error::New(env, "ringport: could not set up the event loop");
  }
  auto* data = new AddonData{e, Napi::Persistent(PortHandle::Define(env))};
  env.SetInstanceData<AddonData>(data);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("shared", Napi::Function::New<Shared>(env, "shared"));
  exports.Set("createChannel",
              Napi::Function::New<CreateChannel>(env, "createChannel"));
  exports.Set("attach", Napi::Function::New<Attach>(env, "attach"));
  exports.Set("ref", Napi::Function::New<Ref>(env, "ref"));
  exports.Set("unref", Napi::Function::New<Unref>(env, "unref"));
  exports.Set("layout", Layout(env));
  InitBroadcast(env, exports, e);
  return exports;
}

}  // namespace

// For broadcast_addon.cc: a PortHandle that takes over `endpoint`'s reference.
Napi::Object WrapPortEndpoint(Napi::Env env, PortEndpoint* endpoint) {
  return PortHandle::New(env, endpoint);
}

}  // namespace ringport

static Napi::Object InitRingport(Napi::Env env, Napi::Object exports) {
  return ringport::InitModule(env, exports);
}

NODE_API_MODULE(ringport, InitRingport)
