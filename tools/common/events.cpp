#include "events.hpp"

#include <algorithm>
#include <optional>

#include "corebpf/features.hpp"
#include "corebpf/perf_buffer.hpp"
#include "corebpf/ring_buffer.hpp"
#include "util/error_format.hpp"

namespace corebpf::tools {

void set_rodata_bytes(ObjectSpec& spec, std::string_view name, const void* data, std::size_t size) {
  for (auto& map : spec.maps()) {
    if (map.section() != ".rodata") continue;
    const DatasecVariable* variable = map.find_variable(name);
    if (variable == nullptr) break;
    if (variable->size != size)
      util::fail(std::errc::invalid_argument, ".rodata variable '{}' has {} bytes, the tool writes {}", name,
                 variable->size, size);
    auto bytes = map.mutable_data();
    if (variable->offset + size > bytes.size())
      util::fail(std::errc::invalid_argument, ".rodata variable '{}' lies past the section's {} bytes", name,
                 bytes.size());
    std::memcpy(bytes.data() + variable->offset, data, size);
    return;
  }
  util::fail(std::errc::invalid_argument, "the object has no .rodata variable '{}'", name);
}

void apply_filters(ObjectSpec& spec, const CommonOptions& options) {
  if (options.pid != 0) set_rodata(spec, "tool_target_pid", static_cast<std::uint32_t>(options.pid));
  if (!options.comm.empty()) {
    char comm[16] = {};
    std::memcpy(comm, options.comm.data(), std::min<std::size_t>(options.comm.size(), 15));
    set_rodata(spec, "tool_target_comm", comm);
  }
}

std::string_view prepare_events(ObjectSpec& spec, bool force_perf) {
  if (!force_perf && kernel::has_feature(kernel::Feature::ringbuf)) return "ring buffer";
  auto& map = spec.map("events");
  map.set_type(MapType::perf_event_array);
  map.set_key_size(4);
  map.set_value_size(4);
  map.set_max_entries(0);  // the loader sizes perf event arrays to the possible CPUs
  set_rodata(spec, "tool_use_ringbuf", false);
  return "perf buffer";
}

struct EventReader::Impl {
  std::optional<RingBuffer> ring;
  std::optional<PerfBuffer> perf;
  std::uint64_t lost = 0;
};

EventReader::EventReader(const Map& events, OnEvent on_event, OnLost on_lost) : impl_(std::make_unique<Impl>()) {
  if (events.type() == MapType::ringbuf) {
    impl_->ring.emplace();
    impl_->ring->add(events, [on_event](std::span<const std::byte> record) {
      on_event(record);
      return 0;
    });
  } else {
    Impl* impl = impl_.get();
    impl_->perf.emplace(
        events, [on_event](std::uint32_t, std::span<const std::byte> sample) { on_event(sample); },
        [impl, on_lost](std::uint32_t, std::uint64_t count) {
          impl->lost += count;
          if (on_lost) on_lost(count);
        });
  }
}

EventReader::EventReader(EventReader&&) noexcept = default;
EventReader::~EventReader() = default;

std::size_t EventReader::poll(int timeout_ms) {
  return impl_->ring ? impl_->ring->poll(timeout_ms) : impl_->perf->poll(timeout_ms);
}

std::size_t EventReader::drain() { return impl_->ring ? impl_->ring->consume() : impl_->perf->consume(); }

std::string_view EventReader::kind() const noexcept { return impl_->ring ? "ring buffer" : "perf buffer"; }

std::uint64_t EventReader::lost() const noexcept { return impl_->lost; }

}  // namespace corebpf::tools
