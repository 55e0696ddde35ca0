// Test runner: runs every TEST() linked into the binary, or only those whose
// name contains argv[1]. `--list` prints the names. Exit status 1 if any test
// failed (or none matched the filter).
#include <chrono>
#include <cstdio>
#include <cstring>

#include "test.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : "";
  auto& tests = testing::Registry();
  if (std::strcmp(filter, "--list") == 0) {
    for (const auto& t : tests) std::printf("%s\n", t.name);
    return 0;
  }
  int run = 0;
  int failed = 0;
  const auto all_start = std::chrono::steady_clock::now();
  for (const auto& t : tests) {
    if (std::strstr(t.name, filter) == nullptr) continue;
    ++run;
    std::printf("[ RUN  ] %s\n", t.name);
    std::fflush(stdout);
    // relaxed: no other thread runs between tests.
    testing::CurrentFailures().store(0, std::memory_order_relaxed);
    const auto start = std::chrono::steady_clock::now();
    t.fn();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (testing::Failed()) {
      ++failed;
      std::printf("[ FAIL ] %s (%.0f ms)  %s:%d\n", t.name, ms, t.file, t.line);
    } else {
      std::printf("[  OK  ] %s (%.0f ms)\n", t.name, ms);
    }
    std::fflush(stdout);
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - all_start).count();
  if (run == 0) {
    std::printf("no test matches \"%s\"\n", filter);
    return 1;
  }
  std::printf("%d test(s) run, %d failed, %.1f s\n", run, failed, s);
  // Flush now: a sanitizer that reports at exit leaves with _exit().
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}
