#include "runtime/key_filter.h"

#include "absl/hash/hash.h"

namespace leadroute::runtime {
namespace {

// 16 bits a key: 256-bit blocks hold 16 keys each.
constexpr size_t kKeysPerBlock = 16;

// One bit in each of a block's eight words, chosen by multiplying the key's
// low hash bits by an odd constant of that word's and keeping the top five.
constexpr std::array<uint32_t, 8> kSalts = {
    0x9e3779b1U, 0x85ebca77U, 0xc2b2ae3dU, 0x27d4eb2fU,
    0x165667b1U, 0xd3a2646dU, 0xfd7046c5U, 0xb55a4f09U};

uint64_t HashOf(std::string_view key) { return absl::HashOf(key); }

size_t BlockOf(uint64_t hash, size_t blocks) {
  // The high half, scaled to [0, blocks) without a division.
  return static_cast<size_t>(((hash >> 32) * blocks) >> 32);
}

}  // namespace

KeyFilter::KeyFilter(size_t first_capacity) {
  AddLayer(first_capacity < kKeysPerBlock ? kKeysPerBlock : first_capacity);
}

void KeyFilter::AddLayer(size_t capacity) {
  Layer layer;
  layer.blocks.assign((capacity + kKeysPerBlock - 1) / kKeysPerBlock, Block{});
  layer.capacity = capacity;
  layers_.push_back(std::move(layer));
  in_last_ = 0;
}

void KeyFilter::Add(std::string_view key) {
  if (in_last_ >= layers_.back().capacity) {
    // Twice everything before: lookups check O(log n) layers.
    size_t total = 0;
    for (const Layer& l : layers_) total += l.capacity;
    AddLayer(2 * total);
  }
  const uint64_t hash = HashOf(key);
  Layer& layer = layers_.back();
  Block& block = layer.blocks[BlockOf(hash, layer.blocks.size())];
  const auto low = static_cast<uint32_t>(hash);
  for (size_t i = 0; i < block.size(); ++i) {
    block[i] |= uint32_t{1} << ((low * kSalts[i]) >> 27);
  }
  ++in_last_;
  ++added_;
}

bool KeyFilter::MayContain(std::string_view key) const {
  const uint64_t hash = HashOf(key);
  const auto low = static_cast<uint32_t>(hash);
  for (const Layer& layer : layers_) {
    const Block& block = layer.blocks[BlockOf(hash, layer.blocks.size())];
    bool all = true;
    for (size_t i = 0; i < block.size() && all; ++i) {
      all = (block[i] >> ((low * kSalts[i]) >> 27) & 1) != 0;
    }
    if (all) return true;
  }
  return false;
}

size_t KeyFilter::bytes() const {
  size_t out = 0;
  for (const Layer& l : layers_) out += l.blocks.size() * sizeof(Block);
  return out;
}

}  // namespace leadroute::runtime
