#include "uv_handle.h"

#include <uv.h>

namespace ringport {

namespace {

struct AsyncData {
  LoopCallback callback;
  void* data;
  LoopCallback done = nullptr;
  void* done_data = nullptr;
};

struct ClosePhaseData {
  uv_idle_t handle;
  LoopCallback callback;
  void* data;
};

}  // namespace

AsyncHandle::AsyncHandle(uv_loop_s* loop, LoopCallback callback, void* data)
    : handle_(new uv_async_t) {
  handle_->data = new AsyncData{callback, data};
  const int err = uv_async_init(loop, handle_, [](uv_async_t* h) {
    auto* d = static_cast<AsyncData*>(h->data);
    d->callback(d->data);
  });
  if (err != 0) {
    delete static_cast<AsyncData*>(handle_->data);
    delete handle_;
    handle_ = nullptr;
  }
}

void AsyncHandle::Send() { uv_async_send(handle_); }

void AsyncHandle::SetRef(bool ref) {
  if (ref) {
    uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  }
}

void AsyncHandle::Close(LoopCallback done, void* data) {
  auto* d = static_cast<AsyncData*>(handle_->data);
  d->done = done;
  d->done_data = data;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) {
    auto* d = static_cast<AsyncData*>(h->data);
    LoopCallback done = d->done;
    void* done_data = d->done_data;
    delete d;
    delete reinterpret_cast<uv_async_t*>(h);
    if (done != nullptr) done(done_data);
  });
  handle_ = nullptr;
}

void RunInClosePhase(uv_loop_s* loop, LoopCallback callback, void* data) {
  auto* d = new ClosePhaseData{{}, callback, data};
  uv_idle_init(loop, &d->handle);
  d->handle.data = d;
  uv_close(reinterpret_cast<uv_handle_t*>(&d->handle), [](uv_handle_t* h) {
    auto* d = static_cast<ClosePhaseData*>(h->data);
    LoopCallback callback = d->callback;
    void* data = d->data;
    delete d;
    callback(data);
  });
}

}  // namespace ringport
