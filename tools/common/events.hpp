// The object set-up every tool does before load (.rodata settings, -p/-c filters, the event
// stream's kind) and the event stream's reader after load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "cli.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::tools {

// Writes `size` bytes at the .rodata variable `name` (before load). Throws corebpf::Error naming
// the variable when the object has no such variable or its size differs.
void set_rodata_bytes(ObjectSpec& spec, std::string_view name, const void* data, std::size_t size);
template <typename T>
void set_rodata(ObjectSpec& spec, std::string_view name, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  set_rodata_bytes(spec, name, &value, sizeof(value));
}

// -p and -c into tool_target_pid and tool_target_comm (tools.bpf.h).
void apply_filters(ObjectSpec& spec, const CommonOptions& options);

// Chooses the stream the kernel side's `events` map (TOOL_DEFINE_EVENTS) becomes: a ring buffer
// where the kernel has them (kernel::Feature::ringbuf) unless `force_perf`, else a perf event
// array (and tool_use_ringbuf = false). Returns "ring buffer" or "perf buffer".
std::string_view prepare_events(ObjectSpec& spec, bool force_perf = false);

class EventReader {
 public:
  using OnEvent = std::function<void(std::span<const std::byte>)>;
  using OnLost = std::function<void(std::uint64_t count)>;

  // The loaded `events` map (ring buffer or perf event array). Lost events are reported to
  // `on_lost`, or counted into lost() when it is empty.
  EventReader(const Map& events, OnEvent on_event, OnLost on_lost = {});
  EventReader(EventReader&&) noexcept;
  ~EventReader();

  // Waits up to `timeout_ms` for events and hands them to on_event; 0 on a signal.
  std::size_t poll(int timeout_ms);
  // Whatever is there now, without waiting (on the way out).
  std::size_t drain();
  std::string_view kind() const noexcept;
  std::uint64_t lost() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copies an event out of the stream's bytes (shorter records are zero-filled).
template <typename T>
T event_as(std::span<const std::byte> data) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value{};
  std::memcpy(&value, data.data(), std::min(data.size(), sizeof(T)));
  return value;
}

}  // namespace corebpf::tools
