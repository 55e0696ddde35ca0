// A tiny self-contained test framework for the native unit tests.
//
//   TEST(ring_starts_empty) {
//     ringport::Ring r;
//     CHECK(r.EmptyApprox());
//   }
//
// CHECK(cond) and CHECK_EQ(a, b) print file:line (and both values for
// CHECK_EQ), mark the current test failed and return from the test body.
// EXPECT(cond) / EXPECT_EQ(a, b) do the same but keep going.
// CHECK_OR_FALSE / CHECK_EQ_OR_FALSE are CHECK for helpers returning bool.
// All of them are thread-safe: a failure in a helper thread marks the test
// failed; CHECK there just returns from the enclosing function.
// Test names must be unique within a file.
//
// native/test/main.cc runs every registered test, or those whose name
// contains argv[1], and exits non-zero if any failed.
#ifndef RINGPORT_TEST_TEST_H_
#define RINGPORT_TEST_TEST_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace testing {

using TestFn = void (*)();

struct TestCase {
  const char* name;
  TestFn fn;
  const char* file;
  int line;
};

inline std::vector<TestCase>& Registry() {
  static std::vector<TestCase> tests;
  return tests;
}

// Failures of the test that is running (set from any thread).
inline std::atomic<int>& CurrentFailures() {
  static std::atomic<int> failures{0};
  return failures;
}

struct Registrar {
  Registrar(const char* name, TestFn fn, const char* file, int line) {
    Registry().push_back(TestCase{name, fn, file, line});
  }
};

// Prints a value for a failure message; bytes print as numbers.
template <typename T>
std::string Show(const T& v) {
  std::ostringstream out;
  if constexpr (std::is_same_v<T, bool>) {
    out << (v ? "true" : "false");
  } else if constexpr (std::is_enum_v<T>) {
    out << static_cast<long long>(static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
                       std::is_same_v<T, unsigned char>) {
    out << static_cast<int>(v);
  } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    out << static_cast<const void*>(v);
  } else {
    out << v;
  }
  return out.str();
}

inline void Fail(const char* file, int line, const std::string& what) {
  // relaxed: a counter read by the runner after the test (and its threads) ended.
  CurrentFailures().fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
  std::fflush(stderr);
}

template <typename A, typename B>
bool CheckEq(const A& a, const B& b, const char* as, const char* bs, const char* file, int line) {
  // Compare integers of mixed signedness by value, without -Wsign-compare.
  bool equal;
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool> &&
                !std::is_same_v<B, bool>) {
    if constexpr (std::is_signed_v<A> == std::is_signed_v<B>) {
      equal = a == b;
    } else if constexpr (std::is_signed_v<A>) {
      equal = a >= 0 && static_cast<std::make_unsigned_t<A>>(a) == b;
    } else {
      equal = b >= 0 && a == static_cast<std::make_unsigned_t<B>>(b);
    }
  } else {
    equal = a == b;
  }
  if (equal) return true;
  Fail(file, line,
       std::string(as) + " == " + bs + "\n    left:  " + Show(a) + "\n    right: " + Show(b));
  return false;
}

inline bool Failed() { return CurrentFailures().load(std::memory_order_relaxed) != 0; }

}  // namespace testing

#define RP_TEST_CONCAT2(a, b) a##b
#define RP_TEST_CONCAT(a, b) RP_TEST_CONCAT2(a, b)

#define TEST(name)                                                 \
  static void RP_TEST_CONCAT(test_fn_, name)();                    \
  static ::testing::Registrar RP_TEST_CONCAT(test_reg_, name)(     \
      #name, &RP_TEST_CONCAT(test_fn_, name), __FILE__, __LINE__); \
  static void RP_TEST_CONCAT(test_fn_, name)()

// Non-fatal: records the failure and continues.
#define EXPECT(cond) \
  ((cond) ? true : (::testing::Fail(__FILE__, __LINE__, "CHECK(" #cond ")"), false))
#define EXPECT_EQ(a, b) ::testing::CheckEq((a), (b), #a, #b, __FILE__, __LINE__)

// Fatal: records the failure and returns from the current (void) function.
#define CHECK(cond)            \
  do {                         \
    if (!EXPECT(cond)) return; \
  } while (0)
#define CHECK_EQ(a, b)            \
  do {                            \
    if (!EXPECT_EQ(a, b)) return; \
  } while (0)

// For use in functions returning bool.
#define CHECK_OR_FALSE(cond)         \
  do {                               \
    if (!EXPECT(cond)) return false; \
  } while (0)
#define CHECK_EQ_OR_FALSE(a, b)         \
  do {                                  \
    if (!EXPECT_EQ(a, b)) return false; \
  } while (0)

// Stops the test early if a helper already failed (e.g. inside a loop that
// calls helpers which return bool).
#define RETURN_IF_FAILED()           \
  do {                               \
    if (::testing::Failed()) return; \
  } while (0)

#endif  // RINGPORT_TEST_TEST_H_
