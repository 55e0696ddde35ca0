// One end of a channel attached to an environment: wakes its thread, calls
// into its JavaScript port object, and closes in the loop's close phase.
#ifndef RINGPORT_ENDPOINT_H_
#define RINGPORT_ENDPOINT_H_

#include <node_api.h>

#include <atomic>

#include "port.h"

namespace ringport {

class Env;

// Events delivered to the JavaScript port (lib/binding.ts NativeEvent).
enum class PortEvent : int32_t {
  kWake = 1,    // argument: WakeReason bits
  kClosed = 2,  // the port's close phase: emit 'close'
};

class PortEndpoint final : public Endpoint {
 public:
  // JS thread of `env`. Takes over the caller's reference to `channel` and
  // attaches `side` to this endpoint. Endpoints that serve one JavaScript
  // object (a BroadcastChannel's pipes) share its `order`, so that, like
  // Node's single handle per object, it is served at most once per walk.
  PortEndpoint(Env* env, Channel* channel, int side);
  PortEndpoint(Env* env, Channel* channel, int side, uint64_t order);

  // Any thread.
  void Ref() {
    // relaxed: the caller already holds a reference.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void Unref() {
    // acq_rel: all uses happen before the delete.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Any thread, channel mutex held (Endpoint).
  void Wake(uint32_t reasons) override;
  int32_t thread() const override { return thread_; }

  Channel* channel() const { return channel_; }
  int side() const { return side_; }
  // Creation order within the environment (Env::OnAsync serves in this order).
  uint64_t order() const { return order_; }

  // ---- JS thread of the owning environment ----
  bool attached() const { return state_ == State::kAttached; }
  // Still this thread's end of the channel: attached, or closing but not yet
  // left (a port delivers the rest of its batch after close(), as Node's).
  bool in_channel() const {
    return state_ == State::kAttached ||
           (state_ == State::kClosing && leave_on_close_);
  }
  // Makes `port` this endpoint's async resource (type MESSAGEPORT) and keeps
  // it alive until the port closes, as Node keeps open ports alive.
  napi_status Bind(napi_value port);
  // Called by Env from the poll phase.
  void Dispatch();
  // The side leaves the channel in this iteration's close phase, then the
  // port gets its 'close' event.
  void CloseAndLeave();
  // The side went elsewhere (parked for a transfer): detached now, and the
  // old port object gets its 'close' event in the close phase.
  void CloseTransferred();
  // Environment teardown: leave the channel and drop JavaScript references
  // without calling into JavaScript.
  void Abandon();

 private:
  enum class State { kAttached, kClosing, kClosed };
  ~PortEndpoint() override;

  static void OnClosePhase(void* data);
  // Returns what the JavaScript callback returned, as a boolean.
  bool CallJs(PortEvent event, uint32_t argument);
  void ReleaseJs();
  void StartClose(bool leave);

  std::atomic<int32_t> refs_{1};
  std::atomic<uint32_t> pending_{0};
  Env* env_;  // null after teardown
  Channel* const channel_;
  const int side_;
  const int32_t thread_;  // the owning environment's JavaScript threadId
  const uint64_t order_;

  // JS thread only.
  State state_ = State::kAttached;
  bool leave_on_close_ = false;
  napi_ref port_ = nullptr;
  napi_async_context async_ = nullptr;
};

}  // namespace ringport

#endif  // RINGPORT_ENDPOINT_H_
