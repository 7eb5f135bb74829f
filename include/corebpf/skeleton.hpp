// [kernel] The base of the C++ skeletons `corebpf gen skeleton` generates (see docs/user-guide.md): a
// corebpf::Object opened from the ELF bytes embedded in the header, typed views of its global
// data sections and struct_ops structs, and the links attach() makes. Kernel layer: load and
// attach make system calls. Generated code derives from SkeletonBase; users call the generated
// class's members and object().
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "corebpf/link.hpp"
#include "corebpf/map_view.hpp"
#include "corebpf/object.hpp"

namespace corebpf {

class SkeletonBase {
 public:
  SkeletonBase(const SkeletonBase&) = delete;
  SkeletonBase& operator=(const SkeletonBase&) = delete;

  // The object underneath: object().spec() changes autoload, map sizes... until load().
  Object& object() noexcept { return object_; }
  const Object& object() const noexcept { return object_; }
  bool loaded() const noexcept { return object_.loaded(); }

 protected:
  // Opens the object from `elf` (copied); `file_name` ("minimal.bpf.o") names it in messages and
  // gives the default object name, as Object::open of that file would.
  SkeletonBase(std::span<const std::byte> elf, std::string_view file_name, ObjectOptions options);
  SkeletonBase(SkeletonBase&&) noexcept = default;
  SkeletonBase& operator=(SkeletonBase&&) noexcept = default;
  ~SkeletonBase();

  // A global data section as T: before load() the section's initial bytes (what load() puts in
  // the map), after it the live mmap()ed map. Throws corebpf::Error naming the section when the
  // section is missing, too small for T, or (writable()) frozen after load.
  template <typename T>
  T& writable(std::string_view section) {
    return *reinterpret_cast<T*>(section_bytes(section, sizeof(T), true).data());
  }
  template <typename T>
  const T& readable(std::string_view section) const {
    return *reinterpret_cast<const T*>(
        const_cast<SkeletonBase*>(this)->section_bytes(section, sizeof(T), false).data());
  }
  // Grows a global data section (zero-filled) to `size` bytes, the sizeof its generated struct
  // (which rounds the section up to the struct's alignment). Before load only.
  void reserve_section(std::string_view section, std::size_t size);
  // The struct of a struct_ops map, written into the map by load().
  template <typename T>
  T& struct_ops_data(std::string_view map) {
    static_assert(std::is_trivially_copyable_v<T>);
    return *reinterpret_cast<T*>(struct_ops_bytes(map, sizeof(T)).data());
  }
  // Throws unless the loaded map's key and value sizes are those of the view's types.
  void check_view(std::string_view map, std::size_t key_size, std::size_t value_size, bool per_cpu);
  // Attaches a loaded program whose SEC() names its target; nullopt for one that was not loaded
  // or names no target. Throws corebpf::Error naming the program when attaching fails.
  std::optional<Link> attach_auto(std::string_view program);
  // Registers every struct_ops map (Object::attach_struct_ops); the links are kept here.
  void attach_struct_ops();
  void detach_struct_ops() noexcept { struct_ops_links_.clear(); }

 private:
  void require_loaded(std::string_view what) const;
  std::span<std::byte> section_bytes(std::string_view section, std::size_t size, bool write);
  std::span<std::byte> struct_ops_bytes(std::string_view map, std::size_t size);

  Object object_;
  std::vector<Link> struct_ops_links_;  // destroyed before object_
};

}  // namespace corebpf
