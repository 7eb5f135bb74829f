// [kernel] corebpf::Object: an ObjectSpec put into the running kernel. open() reads the ELF object;
// spec() may be changed until load(), which relocates (CO-RE), resolves externs, loads the BTF,
// creates the maps, loads the programs and fills the initial map slots. Everything it made is
// owned here (RAII): a load that fails part-way releases it all, and so does destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "corebpf/btf_archive.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object_spec.hpp"
#include "corebpf/program.hpp"

namespace corebpf {

struct ObjectOptions {
  // BTF the CO-RE relocations are computed against; empty: the running kernel's.
  std::string target_btf;
  // For kernels without BTF (no /sys/kernel/btf/vmlinux, or an empty one): an archive of kernels'
  // BTF by release (a directory, btf/btf_archive.hpp's layouts, or bytes embedded in the program)
  // from which the loader takes the BTF of `uname -r` for the CO-RE relocations. Ignored when the
  // kernel has its own BTF or target_btf is set; when no release matches, load() fails naming the
  // release and the releases the archive has. The directory wins over the embedded archive.
  std::string btf_archive;
  btf::MemoryArchive embedded_btf_archive;
  // Directory (on bpffs) for maps declared with pinning by name: an existing pin is reused when
  // it matches the map, otherwise the new map is pinned there. Empty: nothing is pinned.
  std::string pin_root;
  // Verifier log level for every program: 0 asks for a log only when a load fails.
  std::uint32_t log_level = 0;
  // Per-program verifier log levels, by program name; they override log_level for that program.
  std::map<std::string, std::uint32_t, std::less<>> program_log_levels;
  // freplace programs, by name: the loaded program (its fd, borrowed) whose global function the
  // program replaces; the function is the one its section names ("freplace/<function>").
  std::map<std::string, int, std::less<>> freplace_targets;
  OpenOptions open;
};

class Object {
 public:
  // Reads the object; throws corebpf::Error naming the file for anything malformed.
  static Object open(const std::string& path, ObjectOptions options = {});
  static Object from_spec(ObjectSpec spec, ObjectOptions options = {});

  Object(Object&&) noexcept;
  Object& operator=(Object&&) noexcept;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  ~Object();

  // The description to change before load(); changes after load() have no effect.
  ObjectSpec& spec() noexcept;
  const ObjectSpec& spec() const noexcept;
  const ObjectOptions& options() const noexcept;

  // Throws corebpf::Error naming the object, the map or program and the step that failed; a
  // verifier rejection carries the program's name, the failing instruction with its source line
  // and the end of the verifier log. Nothing created before the failure survives it.
  void load();
  bool loaded() const noexcept;

  // Handles after load(); throw corebpf::Error (ENOENT) for an unknown name or a program that
  // was not loaded (autoload off).
  Program& program(std::string_view name);
  Map& map(std::string_view name);
  // The handles load() fills, valid from open() for the Object's lifetime (moves included):
  // empty until load() (and for programs not loaded), so an operation on them before then fails
  // with EBADF. Generated skeletons bind their `maps` and `progs` members to these. Throw
  // corebpf::Error (ENOENT) for an unknown name.
  Program& program_handle(std::string_view name);
  Map& map_handle(std::string_view name);
  // Registers a struct_ops map (SEC(".struct_ops") / SEC(".struct_ops.link")) with the kernel:
  // a BPF link for a .struct_ops.link map, otherwise the map's element written (which registers
  // it) and deleted again when the Link detaches. Throws corebpf::Error naming the map.
  Link attach_struct_ops(std::string_view map_name);
  // The verifier log of a program loaded with log_level > 0.
  const std::string& verifier_log(std::string_view program) const;

  // Live views on global data maps (mmap()ed after load when the kernel has mmapable arrays):
  // `section` is ".bss", ".data", ".rodata", ".data.custom"... A write through a view is what
  // the programs read, and the reverse. Throw corebpf::Error when the section has no map or the
  // map is not mapped.
  std::span<std::byte> section_bytes(std::string_view section);
  // .rodata and .kconfig are frozen: read-only.
  std::span<const std::byte> section_bytes(std::string_view section) const;

  template <typename T>
  T& bss() {
    return typed<T>(".bss");
  }
  template <typename T>
  T& data() {
    return typed<T>(".data");
  }
  template <typename T>
  const T& rodata() const {
    auto bytes = section_bytes(".rodata");
    check_view_size(".rodata", bytes.size(), sizeof(T));
    return *reinterpret_cast<const T*>(bytes.data());
  }

 private:
  struct State;
  explicit Object(std::unique_ptr<State> state) noexcept;

  template <typename T>
  T& typed(std::string_view section) {
    static_assert(std::is_trivially_copyable_v<T>, "a global data view is raw kernel memory");
    auto bytes = section_bytes(section);
    check_view_size(section, bytes.size(), sizeof(T));
    return *reinterpret_cast<T*>(bytes.data());
  }
  // Throws unless a T of `wanted` bytes fits the section's `actual` bytes.
  void check_view_size(std::string_view section, std::size_t actual, std::size_t wanted) const;

  std::unique_ptr<State> state_;
};

}  // namespace corebpf
