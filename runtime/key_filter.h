// KeyFilter: a set of strings that answers "certainly never added" or
// "perhaps added" — a Bloom filter, split into 256-bit blocks so that a key
// touches one cache line, which grows by adding a layer twice the size of
// all before it once the last is full.
//
// The Assigner keeps one for the lead ids and one for the email keys the
// store holds (assigner.h): a new lead, the common case, then needs no read
// of the store to learn that it is new. A "perhaps" costs the read it would
// have cost anyway. At 16 bits a key, of keys never added about one in 760
// gets one from a full layer, one in 385 once 1,000,000 keys have grown
// the default filter to three layers (measured).
#ifndef LEADROUTE_RUNTIME_KEY_FILTER_H_
#define LEADROUTE_RUNTIME_KEY_FILTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace leadroute::runtime {

class KeyFilter {
 public:
  // Room for `first_capacity` keys before the first new layer.
  explicit KeyFilter(size_t first_capacity = size_t{1} << 18);

  void Add(std::string_view key);
  // False only for a key never added.
  bool MayContain(std::string_view key) const;

  size_t added() const { return added_; }  // counting repeats
  size_t bytes() const;

 private:
  using Block = std::array<uint32_t, 8>;
  struct Layer {
    std::vector<Block> blocks;
    size_t capacity = 0;  // keys before the next layer
  };
  void AddLayer(size_t capacity);

  std::vector<Layer> layers_;
  size_t added_ = 0;
  size_t in_last_ = 0;  // keys added to the last layer
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_KEY_FILTER_H_
