#include "env.h"

#include <algorithm>
#include <iterator>

#include "endpoint.h"

namespace ringport {

Env* Env::Create(napi_env env) {
  Env* e = new Env(env);
  if (napi_get_uv_event_loop(env, &e->loop_) != napi_ok) {
    delete e;
    return nullptr;
  }
  e->async_ = new AsyncHandle(e->loop_, OnAsync, e);
  if (!e->async_->ok()) {
    delete e->async_;
    delete e;
    return nullptr;
  }
  // The handle keeps the loop alive only while some port is ref()'d.
  e->async_->SetRef(false);
  napi_add_async_cleanup_hook(env, OnTeardown, e, &e->cleanup_);
  return e;
}

Env::Env(napi_env env) : env_(env) {}

Env::~Env() { delete async_; }

void Env::Enqueue(PortEndpoint* endpoint) {
  endpoint->Ref();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ready_.push_back(endpoint);
  }
  async_->Send();
}

void Env::Ref() {
  if (refs_++ == 0 && alive_) async_->SetRef(true);
}

void Env::Unref() {
  if (refs_ > 0 && --refs_ == 0 && alive_) async_->SetRef(false);
}

void Env::Track(PortEndpoint* endpoint) { endpoints_.insert(endpoint); }

void Env::Untrack(PortEndpoint* endpoint) { endpoints_.erase(endpoint); }

void Env::set_dispatch(napi_value fn) {
  if (dispatch_ != nullptr) napi_delete_reference(env_, dispatch_);
  napi_create_reference(env_, fn, 1, &dispatch_);
}

napi_value Env::dispatch() const {
  napi_value fn = nullptr;
  if (dispatch_ != nullptr) napi_get_reference_value(env_, dispatch_, &fn);
  return fn;
}

napi_value Env::shared() {
  napi_value object = nullptr;
  if (shared_ != nullptr) {
    napi_get_reference_value(env_, shared_, &object);
    return object;
  }
  if (napi_create_object(env_, &object) == napi_ok) {
    napi_create_reference(env_, object, 1, &shared_);
  }
  return object;
}

// Node gives each port its own async handle, and libuv visits them in
// creation order once per wake-up, calling those that are pending then. One
// handle serves all ports here, so this walk does the same: ports in creation
// order, and a port woken during the walk is served now if the walk has not
// passed it yet, else at the next wake-up (Enqueue sent one).
void Env::OnAsync(void* data) {
  Env* self = static_cast<Env*>(data);
  std::vector<PortEndpoint*> batch;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    batch.swap(self->ready_);
  }
  const auto by_order = [](const PortEndpoint* a, const PortEndpoint* b) {
    return a->order() < b->order();
  };
  std::sort(batch.begin(), batch.end(), by_order);
  for (size_t i = 0; i < batch.size(); i++) {
    PortEndpoint* endpoint = batch[i];
    if (self->alive_) endpoint->Dispatch();
    const uint64_t passed = endpoint->order();
    endpoint->Unref();
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (self->ready_.empty()) continue;
    // Woken meanwhile and still ahead of the walk: served in this pass.
    auto ahead = std::stable_partition(
        self->ready_.begin(), self->ready_.end(),
        [passed](const PortEndpoint* e) { return e->order() <= passed; });
    if (ahead == self->ready_.end()) continue;
    std::vector<PortEndpoint*> later(ahead, self->ready_.end());
    self->ready_.erase(ahead, self->ready_.end());
    std::sort(later.begin(), later.end(), by_order);
    std::vector<PortEndpoint*> rest(batch.begin() + i + 1, batch.end());
    batch.resize(i + 1);
    std::merge(rest.begin(), rest.end(), later.begin(), later.end(),
               std::back_inserter(batch), by_order);
  }
}

void Env::OnTeardown(napi_async_cleanup_hook_handle, void* data) {
  Env* self = static_cast<Env*>(data);
  self->alive_ = false;
  // Abandon() untracks, so walk a copy. Each leaves its channel: peers in
  // other threads get 'close', and ports in flight to this thread close.
  std::vector<PortEndpoint*> endpoints(self->endpoints_.begin(),
                                       self->endpoints_.end());
  for (PortEndpoint* endpoint : endpoints) endpoint->Abandon();
  std::vector<PortEndpoint*> batch;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    batch.swap(self->ready_);
  }
  for (PortEndpoint* endpoint : batch) endpoint->Unref();
  for (napi_ref* ref : {&self->dispatch_, &self->shared_}) {
    if (*ref != nullptr) {
      napi_delete_reference(self->env_, *ref);
      *ref = nullptr;
    }
  }
  self->async_->Close(OnAsyncClosed, self);
}

void Env::OnAsyncClosed(void* data) {
  Env* self = static_cast<Env*>(data);
  napi_remove_async_cleanup_hook(self->cleanup_);
  delete self;
}

}  // namespace ringport
