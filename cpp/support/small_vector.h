// A vector of trivially copyable values that keeps its first N in place.
//
// Grammar expressions (grammar_ir.h) hold their children and character-class
// ranges in lists that are almost always short: most sequences and choices
// have two to four members and most classes one or two ranges. The parser and
// every normalisation pass materialise whole grammars, so a heap block per list
// made allocation about a third of the cost of turning EBNF text into an IR.
// Lists up to N values live inside the expression; longer ones move to the heap.
#ifndef XGRAM_SMALL_VECTOR_H_
#define XGRAM_SMALL_VECTOR_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <vector>

namespace xgram {

template <typename T, uint32_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable<T>::value, "values are copied with memcpy");

 public:
  SmallVector() = default;
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  SmallVector(const SmallVector& other) { assign(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { TakeFrom(&other); }
  ~SmallVector() { delete[] heap_; }

  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      delete[] heap_;
      heap_ = nullptr;
      TakeFrom(&other);
    }
    return *this;
  }
  SmallVector& operator=(const std::vector<T>& values) {
    assign(values.data(), values.data() + values.size());
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes held outside the object (none while the values fit inline).
  size_t HeapBytes() const { return heap_ != nullptr ? size_t{capacity_} * sizeof(T) : 0; }
  T* data() { return heap_ != nullptr ? heap_ : inline_; }
  const T* data() const { return heap_ != nullptr ? heap_ : inline_; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void clear() { size_ = 0; }
  void push_back(const T& value) {
    if (size_ == capacity_) {
      T copy = value;  // `value` may live in the storage Grow frees
      Grow(size_ + 1);
      data()[size_++] = copy;
      return;
    }
    data()[size_++] = value;
  }
  // [first, last) may not overlap this vector's storage when it must grow.
  void assign(const T* first, const T* last) {
    size_t n = static_cast<size_t>(last - first);
    if (n > capacity_) {
      T* block = new T[n];
      std::memcpy(block, first, n * sizeof(T));
      delete[] heap_;
      heap_ = block;
      capacity_ = static_cast<uint32_t>(n);
    } else if (n != 0) {
      std::memmove(data(), first, n * sizeof(T));
    }
    size_ = static_cast<uint32_t>(n);
  }
  std::vector<T> ToVector() const { return std::vector<T>(begin(), end()); }

 private:
  void Grow(size_t at_least) {
    size_t capacity = std::max<size_t>(at_least, 2 * size_t{capacity_});
    T* block = new T[capacity];
    if (size_ != 0) std::memcpy(block, data(), size_ * sizeof(T));
    delete[] heap_;
    heap_ = block;
    capacity_ = static_cast<uint32_t>(capacity);
  }
  void TakeFrom(SmallVector* other) {
    if (other->heap_ != nullptr) {
      heap_ = other->heap_;
      capacity_ = other->capacity_;
      other->heap_ = nullptr;
      other->capacity_ = N;
    } else {
      std::memcpy(inline_, other->inline_, other->size_ * sizeof(T));
      capacity_ = N;
    }
    size_ = other->size_;
    other->size_ = 0;
  }

  T* heap_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  T inline_[N] = {};
};

}  // namespace xgram

#endif  // XGRAM_SMALL_VECTOR_H_
