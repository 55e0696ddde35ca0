// The only place that touches libuv: an async handle and a close-phase
// one-shot, each closed asynchronously and freed in its close callback.
#ifndef RINGPORT_UV_HANDLE_H_
#define RINGPORT_UV_HANDLE_H_

struct uv_loop_s;
struct uv_async_s;

namespace ringport {

using LoopCallback = void (*)(void* data);

// Send() from any thread runs the callback once on the loop thread (several
// sends before it runs coalesce into one call).
class AsyncHandle {
 public:
  // Loop thread.
  AsyncHandle(uv_loop_s* loop, LoopCallback callback, void* data);
  AsyncHandle(const AsyncHandle&) = delete;
  AsyncHandle& operator=(const AsyncHandle&) = delete;
  // The handle must have been closed.
  ~AsyncHandle() = default;

  bool ok() const { return handle_ != nullptr; }
  // Any thread, until Close().
  void Send();
  // Loop thread. A referenced handle keeps the loop alive.
  void SetRef(bool ref);
  // Loop thread. `done(data)` runs once the handle is closed; the handle
  // memory is freed by then.
  void Close(LoopCallback done, void* data);

 private:
  uv_async_s* handle_;
};

// Loop thread. Runs `callback(data)` in the close phase of the current loop
// iteration, where the callbacks of closed handles run: the moment Node emits
// a MessagePort's 'close' event.
void RunInClosePhase(uv_loop_s* loop, LoopCallback callback, void* data);

}  // namespace ringport

#endif  // RINGPORT_UV_HANDLE_H_
