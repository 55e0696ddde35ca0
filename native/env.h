// Per-environment state (the main thread and each worker have one): the one
// libuv async handle that wakes this thread's ports, the queue of ports to
// wake, event-loop liveness, and teardown when the environment exits.
#ifndef RINGPORT_ENV_H_
#define RINGPORT_ENV_H_

#include <node_api.h>

#include <cstdint>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "uv_handle.h"

namespace ringport {

class PortEndpoint;

class Env {
 public:
  // JS thread, at module load. Registers the teardown hook.
  static Env* Create(napi_env env);

  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  napi_env env() const { return env_; }
  uv_loop_s* loop() const { return loop_; }
  // False once teardown started: no more JavaScript may run.
  bool alive() const { return alive_; }

  // Any thread: runs endpoint->Dispatch() on this environment's thread soon,
  // in the poll phase, as Node does for its ports. Takes a reference.
  void Enqueue(PortEndpoint* endpoint);

  // JS thread. A number for each new endpoint, in creation order.
  uint64_t NextOrder() { return next_order_++; }

  // JS thread. The async handle keeps the loop alive while at least one port
  // holds a reference.
  void Ref();
  void Unref();

  // JS thread. Endpoints attached to this environment, closed at teardown.
  void Track(PortEndpoint* endpoint);
  void Untrack(PortEndpoint* endpoint);

  // JS thread. The function every native-to-JS call goes through:
  // dispatch.call(port, event, argument).
  void set_dispatch(napi_value fn);
  napi_value dispatch() const;

  // This environment's JavaScript threadId (worker_threads.threadId).
  int32_t thread_id() const { return thread_id_; }
  void set_thread_id(int32_t id) { thread_id_ = id; }

  // JS thread. One object per environment for state that every copy of the
  // JavaScript library loaded in this thread must share.
  napi_value shared();

 private:
  explicit Env(napi_env env);
  ~Env();

  static void OnAsync(void* data);
  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* data);
  static void OnAsyncClosed(void* data);

  napi_env env_;
  uv_loop_s* loop_ = nullptr;
  AsyncHandle* async_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;
  napi_ref dispatch_ = nullptr;
  napi_ref shared_ = nullptr;
  int32_t thread_id_ = -1;
  bool alive_ = true;
  int32_t refs_ = 0;         // JS thread only
  uint64_t next_order_ = 0;  // JS thread only

  std::mutex mutex_;  // guards ready_
  std::vector<PortEndpoint*> ready_;

  // JS thread only.
  std::unordered_set<PortEndpoint*> endpoints_;
};

}  // namespace ringport

#endif  // RINGPORT_ENV_H_
