// A single-producer/single-consumer ring of variable-length records that grows
// by chaining segments, never blocks and never drops a record.
//
// This header is a leaf: no N-API, no libuv. It is unit-tested, benchmarked and
// run under ThreadSanitizer/AddressSanitizer on its own (native/test/).
//
// The memory layout below is shared with lib/ring.ts, which produces and
// consumes the same segments from JavaScript through external ArrayBuffers.
// The addon exports the layout constants so the two cannot drift apart.
//
// Segment memory (what JavaScript sees), kCacheLine = 64 unless overridden:
//   [0, kCacheLine)                 u32 tail: bytes published by the producer
//   [kCacheLine, 2*kCacheLine)      u32 head: bytes released by the consumer
//   [2*kCacheLine, +capacity)       record data; capacity is a power of two
// tail and head count bytes modulo 2^32; a position in the data is
// counter & (capacity - 1). used = tail - head; the ring never fills up
// completely: a write needs `record + kRecordHeader` free bytes, so there is
// always room left for one header-only marker (kWrap or kNext).
//
// Record: u32 payload size, u32 kind, payload, zero padding to kRecordAlign.
//   kWrap: the rest of the data area is unused; continue at position 0.
//   kNext: this segment is finished; continue in segment->next().
// Records never straddle the end of the data area.
#ifndef RINGPORT_RING_H_
#define RINGPORT_RING_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#ifndef RINGPORT_CACHE_LINE
#define RINGPORT_CACHE_LINE 64
#endif

namespace ringport {

constexpr uint32_t kCacheLine = RINGPORT_CACHE_LINE;
constexpr uint32_t kRecordHeader = 8;
constexpr uint32_t kRecordAlign = 8;
constexpr uint32_t kSegmentHeaderBytes = 2 * kCacheLine;
constexpr uint32_t kMinCapacity = 64;
// Counters are u32 and wrap, so a capacity must stay below 2^31.
constexpr uint32_t kMaxCapacity = 1u << 30;
constexpr uint32_t kMaxPayload = kMaxCapacity - 2 * kRecordHeader;
// Growth doubles up to this capacity, then chains segments of this size (or
// the size one record needs): a consumer that falls far behind frees equal
// blocks that the producer's next segments reuse (SegmentPool).
constexpr uint32_t kChainCapacity = 8u << 20;

static_assert(kCacheLine >= 16 && (kCacheLine & (kCacheLine - 1)) == 0,
              "RINGPORT_CACHE_LINE must be a power of two >= 16");

enum class RecordKind : uint32_t {
  kMessage = 1,  // a serialized message (format: lib/codec)
  kWrap = 2,     // skip to position 0
  kNext = 3,     // continue in the next segment
  kClose = 4,    // the producing port has left the channel; nothing follows
};

constexpr uint32_t AlignRecord(uint32_t n) {
  return (n + (kRecordAlign - 1)) & ~(kRecordAlign - 1);
}
constexpr uint32_t RecordBytes(uint32_t payload) {
  return kRecordHeader + AlignRecord(payload);
}

inline uint32_t NextPowerOfTwo(uint64_t n) {
  uint64_t p = kMinCapacity;
  while (p < n) p <<= 1;
  return p > kMaxCapacity ? kMaxCapacity : static_cast<uint32_t>(p);
}

// The capacity of the segment that follows a full one: double (up to
// kChainCapacity), and at least room for two records of the size that did
// not fit.
inline uint32_t GrownCapacity(uint32_t capacity, uint32_t record_bytes) {
  uint64_t grown = static_cast<uint64_t>(capacity) * 2;
  if (grown > kChainCapacity) grown = kChainCapacity;
  const uint64_t fits = 2ull * record_bytes + kRecordHeader;
  return NextPowerOfTwo(grown > fits ? grown : fits);
}

// Process-wide cache of freed segment memory (64 KiB and up), so that a ring
// that keeps growing, or chaining, writes into pages that are already mapped:
// fresh memory costs a page fault per 4 KiB on first touch, more than the
// copy itself. Bounded, and emptied when a ring shrinks after a burst.
class SegmentPool {
 public:
  static constexpr size_t kMinBytes = 64u << 10;
  static constexpr size_t kMaxPooledBytes = 256u << 20;

  static SegmentPool& Get() {
    // Never destroyed: threads may free segments while the process exits.
    static SegmentPool* pool = new SegmentPool();
    return *pool;
  }

  // A block of exactly `bytes`, or nullptr.
  void* Take(size_t bytes) {
    if (bytes < kMinBytes) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = blocks_.size(); i-- > 0;) {
      if (blocks_[i].bytes == bytes) {
        void* memory = blocks_[i].memory;
        blocks_[i] = blocks_.back();
        blocks_.pop_back();
        pooled_ -= bytes;
        // relaxed: a hint for TrimIfAny(), written under the lock.
        pooled_hint_.store(pooled_, std::memory_order_relaxed);
        return memory;
      }
    }
    return nullptr;
  }

  // Keeps `memory` (of `bytes`) for reuse, or frees it.
  void Give(void* memory, size_t bytes) {
    if (bytes >= kMinBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pooled_ + bytes <= kMaxPooledBytes) {
        blocks_.push_back({memory, bytes});
        pooled_ += bytes;
        // relaxed: a hint for TrimIfAny(), written under the lock.
        pooled_hint_.store(pooled_, std::memory_order_relaxed);
        return;
      }
    }
    std::free(memory);
  }

  // Trim(), when something is pooled (a relaxed look first: most channels
  // never pool anything, and they end often).
  void TrimIfAny() {
    // relaxed: a hint; Trim() itself takes the lock.
    if (pooled_hint_.load(std::memory_order_relaxed) != 0) Trim();
  }

  // Frees every pooled block: the burst is over.
  void Trim() {
    std::vector<Block> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks.swap(blocks_);
      pooled_ = 0;
      // relaxed: a hint for TrimIfAny(), written under the lock.
      pooled_hint_.store(0, std::memory_order_relaxed);
    }
    for (const Block& block : blocks) std::free(block.memory);
  }

  size_t pooled_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return pooled_;
  }

 private:
  struct Block {
    void* memory;
    size_t bytes;
  };
  std::mutex mutex_;
  std::vector<Block> blocks_;
  size_t pooled_ = 0;
  std::atomic<size_t> pooled_hint_{0};
};

#ifdef RINGPORT_TEST_HOOKS
// Test builds only (native/test): the number of live segments, to find leaks.
inline std::atomic<int64_t> test_live_segments{0};
#endif

// One block of the ring. Reference counted: the ring holds a reference while
// the segment is current for the producer or the consumer, and every
// JavaScript view (external ArrayBuffer) holds one.
class Segment {
 public:
  static Segment* Create(uint32_t capacity) {
    const size_t bytes = Bytes(capacity);
    void* mem = SegmentPool::Get().Take(bytes);
    if (mem == nullptr) mem = std::aligned_alloc(kCacheLine, bytes);
    if (mem == nullptr) return nullptr;
    std::memset(mem, 0, kSegmentHeaderBytes);
    Segment* segment =
        new (std::nothrow) Segment(static_cast<uint8_t*>(mem), capacity);
    if (segment == nullptr) SegmentPool::Get().Give(mem, bytes);
    return segment;
  }

  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // The allocation behind a segment of `capacity`: aligned_alloc wants a
  // multiple of the alignment.
  static size_t Bytes(uint32_t capacity) {
    return (static_cast<size_t>(kSegmentHeaderBytes) + capacity + kCacheLine -
            1) & ~static_cast<size_t>(kCacheLine - 1);
  }

  // Any thread.
  void Ref() {
    // relaxed: taking a reference needs no ordering; the caller already holds one.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  // Any thread. Frees the segment with the last reference.
  void Unref() {
    // acq_rel: every use of the memory by the releasing threads happens before
    // the free in whichever thread drops the last reference.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  uint8_t* memory() const { return memory_; }
  uint32_t memory_bytes() const { return kSegmentHeaderBytes + capacity_; }
  uint8_t* data() const { return memory_ + kSegmentHeaderBytes; }
  uint32_t capacity() const { return capacity_; }

  std::atomic<uint32_t>& tail() const {
    return *reinterpret_cast<std::atomic<uint32_t>*>(memory_);
  }
  std::atomic<uint32_t>& head() const {
    return *reinterpret_cast<std::atomic<uint32_t>*>(memory_ + kCacheLine);
  }

  // Producer sets the link before it publishes the kNext record.
  void set_next(Segment* next) {
    // release: the new segment's zeroed header is visible to whoever follows the link.
    next_.store(next, std::memory_order_release);
  }
  // Consumer, after it has read the kNext record.
  Segment* next() const {
    // acquire: pairs with set_next().
    return next_.load(std::memory_order_acquire);
  }

 private:
  Segment(uint8_t* memory, uint32_t capacity)
      : memory_(memory), capacity_(capacity) {
    static_assert(sizeof(std::atomic<uint32_t>) == 4 &&
                      alignof(std::atomic<uint32_t>) <= 4,
                  "the JavaScript side reads the indices as Int32Array words");
    new (&tail()) std::atomic<uint32_t>(0);
    new (&head()) std::atomic<uint32_t>(0);
#ifdef RINGPORT_TEST_HOOKS
    // relaxed: a statistic; tests read it after the threads have joined.
    test_live_segments.fetch_add(1, std::memory_order_relaxed);
#endif
  }
  ~Segment() {
#ifdef RINGPORT_TEST_HOOKS
    // relaxed: a statistic; tests read it after the threads have joined.
    test_live_segments.fetch_sub(1, std::memory_order_relaxed);
#endif
    SegmentPool::Get().Give(memory_, Bytes(capacity_));
  }

  uint8_t* const memory_;
  const uint32_t capacity_;
  std::atomic<int32_t> refs_{1};
  std::atomic<Segment*> next_{nullptr};
};

// A record as the consumer sees it; valid until Pop().
struct RecordView {
  RecordKind kind;
  const uint8_t* payload;
  uint32_t size;
};

// The ring. Exactly one producer thread and one consumer thread at a time;
// which threads those are may change when the surrounding code hands the role
// over with release/acquire ordering (a mutex, in port.h).
class Ring {
 public:
  // Any thread, before the ring is shared.
  explicit Ring(uint32_t initial_capacity = 256)
      : initial_capacity_(NextPowerOfTwo(initial_capacity)) {
    Segment* first = Segment::Create(initial_capacity_);
    if (first == nullptr) throw std::bad_alloc();
    first->Ref();  // one reference for each role
    producer_ = first;
    consumer_ = first;
    // relaxed: the ring is not shared yet.
    consumer_published_.store(first, std::memory_order_relaxed);
  }
  // Destroys the ring with whatever it still holds. Neither role may be active.
  ~Ring() {
    Segment* s = consumer_;
    while (s != nullptr) {
      Segment* next = s->next();
      if (s == producer_) {
        s->Unref();  // the producer's reference
        s->Unref();  // the consumer's reference
        break;
      }
      s->Unref();  // the consumer's reference; the producer already left it
      s = next;
    }
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  uint32_t initial_capacity() const { return initial_capacity_; }

  // ---- Producer thread only ----------------------------------------------

  Segment* producer_segment() const { return producer_; }

  // Writes one record. Grows by chaining a larger segment when the current one
  // lacks room. Returns false only if memory runs out or the payload exceeds
  // kMaxPayload; the ring is unchanged then.
  bool Write(RecordKind kind, const void* payload, uint32_t size) {
    uint8_t* dst = Reserve(size);
    if (dst == nullptr) return false;
    if (size != 0) std::memcpy(dst + kRecordHeader, payload, size);
    Publish(dst, kind, size);
    return true;
  }

  // Returns the address of a record with `size` payload bytes (header
  // included) in the current segment, after wrapping or growing as needed.
  // The caller fills the payload at +kRecordHeader and calls Publish().
  uint8_t* Reserve(uint32_t size) {
    if (size > kMaxPayload) return nullptr;
    const uint32_t need = RecordBytes(size);
    for (;;) {
      Segment* seg = producer_;
      const uint32_t cap = seg->capacity();
      // relaxed: only this thread writes tail.
      const uint32_t tail = seg->tail().load(std::memory_order_relaxed);
      const uint32_t pos = tail & (cap - 1);
      const uint32_t to_end = cap - pos;
      // A record that does not fit before the end goes to position 0 after a
      // kWrap marker, which consumes the bytes up to the end.
      const uint32_t needed = need <= to_end ? need : to_end + need;
      if (need + kRecordHeader <= cap && HasRoom(seg, tail, needed)) {
        if (need <= to_end) return seg->data() + pos;
        WriteHeader(seg->data() + pos, RecordKind::kWrap, 0);
        // release: the consumer that sees this tail sees the marker.
        seg->tail().store(tail + to_end, std::memory_order_release);
        cached_tail_ = tail + to_end;
        return seg->data();
      }
      if (!SwitchSegment(GrownCapacity(cap, need))) return nullptr;
    }
  }

  // Publishes a record reserved with Reserve().
  void Publish(uint8_t* record, RecordKind kind, uint32_t size) {
    WriteHeader(record, kind, size);
    Segment* seg = producer_;
    // relaxed: only this thread writes tail.
    const uint32_t tail = seg->tail().load(std::memory_order_relaxed);
    // seq_cst: release for the record's bytes, and ordered before the
    // producer's next load of the consumer's sleep flag (port.h).
    seg->tail().store(tail + RecordBytes(size), std::memory_order_seq_cst);
    if (cached_tail_ == tail) cached_tail_ = tail + RecordBytes(size);
  }

  // Starts a fresh segment of `capacity` bytes and leaves a kNext marker in
  // the current one. Used to grow, and to shrink once a burst has drained.
  bool SwitchSegment(uint32_t capacity) {
    // Back to the first size: the burst is over, and so is the need to keep
    // big blocks around.
    if (capacity <= initial_capacity_) SegmentPool::Get().Trim();
    Segment* next = Segment::Create(NextPowerOfTwo(capacity));
    if (next == nullptr) return false;
    Segment* seg = producer_;
    // relaxed: only this thread writes tail.
    const uint32_t tail = seg->tail().load(std::memory_order_relaxed);
    // The reserve rule guarantees room for this header at the tail.
    WriteHeader(seg->data() + (tail & (seg->capacity() - 1)), RecordKind::kNext,
                0);
    seg->set_next(next);
    next->Ref();  // `next` starts with the producer's reference; this one is
                  // for the consumer, who will get there.
    // seq_cst: release for the marker and the link, and ordered before the
    // producer's load of the sleep flag when the next record goes into `next`
    // (the consumer checks this segment's tail when it goes to sleep).
    seg->tail().store(tail + kRecordHeader, std::memory_order_seq_cst);
    producer_ = next;
    // Forget the cached head: once `seg` is freed, a later segment may be
    // allocated at its address and would otherwise inherit its stale head.
    cached_segment_ = nullptr;
    seg->Unref();      // the producer leaves the old segment
    return true;
  }

  // True when the consumer has taken everything published so far (racy:
  // the consumer may be mid-record). Producer thread only.
  bool DrainedApprox() const {
    Segment* seg = producer_;
    // acquire: pairs with the consumer's release of head.
    return seg == consumer_segment_approx() &&
           seg->head().load(std::memory_order_acquire) ==
               seg->tail().load(std::memory_order_relaxed);
  }

  // ---- Consumer thread only ----------------------------------------------

  Segment* consumer_segment() const { return consumer_; }

  // Looks at the next record without consuming it. Follows kWrap and kNext
  // markers. Returns false when the ring is empty.
  bool Peek(RecordView* out) {
    for (;;) {
      Segment* seg = consumer_;
      const uint32_t cap = seg->capacity();
      // relaxed: only this thread writes head.
      const uint32_t head = seg->head().load(std::memory_order_relaxed);
      // acquire: pairs with the producer's release of tail; the record bytes
      // below are complete.
      const uint32_t tail = seg->tail().load(std::memory_order_acquire);
      if (head == tail) return false;
      const uint8_t* rec = seg->data() + (head & (cap - 1));
      uint32_t size, kind;
      std::memcpy(&size, rec, 4);
      std::memcpy(&kind, rec + 4, 4);
      switch (static_cast<RecordKind>(kind)) {
        case RecordKind::kWrap:
          // release: frees the skipped bytes for the producer.
          seg->head().store(head + (cap - (head & (cap - 1))),
                            std::memory_order_release);
          continue;
        case RecordKind::kNext:
          AdvanceSegment();
          continue;
        default:
          out->kind = static_cast<RecordKind>(kind);
          out->payload = rec + kRecordHeader;
          out->size = size;
          return true;
      }
    }
  }

  // Consumes the record returned by the last Peek().
  void Pop(const RecordView& rec) {
    Segment* seg = consumer_;
    // relaxed: only this thread writes head.
    const uint32_t head = seg->head().load(std::memory_order_relaxed);
    // release: we are done reading the bytes; the producer may reuse them.
    seg->head().store(head + RecordBytes(rec.size), std::memory_order_release);
  }

  // Moves to the next segment after a kNext marker and drops the old one.
  // Returns the new segment.
  Segment* AdvanceSegment() {
    Segment* seg = consumer_;
    Segment* next = seg->next();
    // release: publishes the consumer's progress (the producer's DrainedApprox
    // compares segments too; see consumer_segment_approx()).
    consumer_published_.store(next, std::memory_order_release);
    consumer_ = next;
    seg->Unref();
    return next;
  }

  // Whether anything (record or marker) waits, for the sleep protocol of
  // port.h: the consumer calls it right after storing kSleeping.
  bool ReadableForSleep() const {
    Segment* seg = consumer_;
    // relaxed: only this thread writes head.
    const uint32_t head = seg->head().load(std::memory_order_relaxed);
    // seq_cst: ordered after the consumer's seq_cst store of kSleeping.
    return seg->tail().load(std::memory_order_seq_cst) != head;
  }

  // True if nothing is left to read (racy against the producer).
  bool EmptyApprox() {
    RecordView rec;
    return !Peek(&rec);
  }

 private:
  static void WriteHeader(uint8_t* at, RecordKind kind, uint32_t size) {
    const uint32_t k = static_cast<uint32_t>(kind);
    std::memcpy(at, &size, 4);
    std::memcpy(at + 4, &k, 4);
  }

  // `needed` bytes from tail are free, and one more header after them.
  // The cached head is trusted only while this object wrote every byte since
  // it was read: JavaScript producers move the tail without telling us.
  bool HasRoom(Segment* seg, uint32_t tail, uint32_t needed) {
    const uint32_t cap = seg->capacity();
    if (cached_segment_ == seg && cached_tail_ == tail &&
        tail - cached_head_ + needed + kRecordHeader <= cap) {
      return true;
    }
    // acquire: pairs with the consumer's release of head; the bytes it has
    // released are no longer read.
    cached_head_ = seg->head().load(std::memory_order_acquire);
    cached_segment_ = seg;
    cached_tail_ = tail;
    return tail - cached_head_ + needed + kRecordHeader <= cap;
  }

  Segment* consumer_segment_approx() const {
    // acquire: pairs with AdvanceSegment().
    return consumer_published_.load(std::memory_order_acquire);
  }

  const uint32_t initial_capacity_;
  // Producer state, on its own line.
  alignas(kCacheLine) Segment* producer_ = nullptr;
  uint32_t cached_head_ = 0;
  uint32_t cached_tail_ = 0;  // the tail this object last published
  Segment* cached_segment_ = nullptr;
  // Consumer state, on its own line.
  alignas(kCacheLine) Segment* consumer_ = nullptr;
  std::atomic<Segment*> consumer_published_{nullptr};
};

}  // namespace ringport

#endif  // RINGPORT_RING_H_
