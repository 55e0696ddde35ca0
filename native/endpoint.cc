#include "endpoint.h"

#include "env.h"

namespace ringport {

PortEndpoint::PortEndpoint(Env* env, Channel* channel, int side)
    : PortEndpoint(env, channel, side, env->NextOrder()) {}

PortEndpoint::PortEndpoint(Env* env, Channel* channel, int side, uint64_t order)
    : env_(env),
      channel_(channel),
      side_(side),
      thread_(env->thread_id()),
      order_(order) {
  channel_->Attach(side_, this);
  env_->Track(this);
}

PortEndpoint::~PortEndpoint() { channel_->Unref(); }

void PortEndpoint::Wake(uint32_t reasons) {
  // relaxed: the bits carry no data (the rings order their own records), and
  // read-modify-writes of one word are totally ordered, so a wake that lands
  // after Dispatch() took the bits queues the endpoint again.
  if (pending_.fetch_or(reasons, std::memory_order_relaxed) == 0) {
    env_->Enqueue(this);
  }
}

napi_status PortEndpoint::Bind(napi_value port) {
  napi_env env = env_->env();
  napi_value name;
  napi_status status =
      napi_create_string_utf8(env, "MESSAGEPORT", NAPI_AUTO_LENGTH, &name);
  if (status == napi_ok) status = napi_async_init(env, port, name, &async_);
  if (status == napi_ok) status = napi_create_reference(env, port, 1, &port_);
  return status;
}

void PortEndpoint::Dispatch() {
  // relaxed: see Wake().
  uint32_t reasons = pending_.exchange(0, std::memory_order_relaxed);
  if (reasons == 0) return;
  // JavaScript returns true to be called again at once, each call in its own
  // callback scope: one message per MakeCallback, when it cannot drain the
  // tick queue between messages itself.
  while (state_ != State::kClosed && CallJs(PortEvent::kWake, reasons)) {
    reasons = kWakeMessages;
  }
}

bool PortEndpoint::CallJs(PortEvent event, uint32_t argument) {
  if (port_ == nullptr || env_ == nullptr || !env_->alive()) return false;
  napi_env env = env_->env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  bool again = false;
  napi_value port, argv[2], result;
  napi_value fn = env_->dispatch();
  if (fn != nullptr && napi_get_reference_value(env, port_, &port) == napi_ok &&
      napi_create_int32(env, static_cast<int32_t>(event), &argv[0]) == napi_ok &&
      napi_create_uint32(env, argument, &argv[1]) == napi_ok) {
    // The port's async context, as Node's MakeCallback: ticks and microtasks
    // queued by the callback run when the scope closes.
    napi_callback_scope callback_scope;
    if (napi_open_callback_scope(env, port, async_, &callback_scope) == napi_ok) {
      const napi_status status = napi_call_function(env, port, fn, 2, argv, &result);
      if (status == napi_ok) {
        napi_get_value_bool(env, result, &again);
      } else if (status == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        // Reported inside the scope, as Node reports exceptions from its own
        // callbacks: 'uncaughtException' (which also resets the async id
        // stack a throwing nextTick left behind), or exit.
        napi_fatal_exception(env, error);
      }
      napi_close_callback_scope(env, callback_scope);
    }
  }
  napi_close_handle_scope(env, scope);
  return again;
}

void PortEndpoint::CloseAndLeave() { StartClose(true); }

void PortEndpoint::CloseTransferred() {
  channel_->Detach(side_, this);
  StartClose(false);
}

void PortEndpoint::StartClose(bool leave) {
  if (state_ != State::kAttached || env_ == nullptr) return;
  state_ = State::kClosing;
  leave_on_close_ = leave;
  Ref();
  RunInClosePhase(env_->loop(), OnClosePhase, this);
}

void PortEndpoint::OnClosePhase(void* data) {
  PortEndpoint* self = static_cast<PortEndpoint*>(data);
  if (self->state_ == State::kClosing && self->env_ != nullptr &&
      self->env_->alive()) {
    // Like Node: the side leaves the channel (the peer's close marker goes
    // out) when its handle has closed, and then 'close' is emitted here.
    if (self->leave_on_close_) {
      self->channel_->Detach(self->side_, self);
      self->channel_->Leave(self->side_);
    }
    self->state_ = State::kClosed;
    self->CallJs(PortEvent::kClosed, 0);
    self->ReleaseJs();
    self->env_->Untrack(self);
  }
  self->Unref();
}

void PortEndpoint::Abandon() {
  if (state_ == State::kAttached ||
      (state_ == State::kClosing && leave_on_close_)) {
    channel_->Detach(side_, this);
    channel_->Leave(side_);
  }
  state_ = State::kClosed;
  ReleaseJs();
  env_->Untrack(this);
  // Detached above, so no other thread reads env_ any more.
  env_ = nullptr;
}

void PortEndpoint::ReleaseJs() {
  napi_env env = env_->env();
  if (async_ != nullptr) {
    napi_async_destroy(env, async_);
    async_ = nullptr;
  }
  if (port_ != nullptr) {
    napi_delete_reference(env, port_);
    port_ = nullptr;
  }
}

}  // namespace ringport
