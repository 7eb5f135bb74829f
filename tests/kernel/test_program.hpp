// A deliberately small loader for the event-stream tests: maps of a tests/bpf object created
// without BTF, map references rewritten to fds, one program loaded with BPF_PROG_LOAD and run
// with BPF_PROG_TEST_RUN. The real object loader has its own tests.
#pragma once

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::test {

class TestProgram {
 public:
  TestProgram(const std::string& object_path, const std::string& program_name) {
    ObjectSpec spec = ObjectSpec::open(object_path);
    for (const MapSpec& map_spec : spec.maps()) {
      MapCreateOptions options;
      options.name = map_spec.name();
      options.type = map_spec.type();
      options.key_size = map_spec.key_size();
      options.value_size = map_spec.value_size();
      options.max_entries = map_spec.max_entries();
      options.flags = map_spec.definition().flags;
      maps_.push_back(Map::create(options));
    }
    for (const ProgramSpec& program : spec.programs()) {
      if (program.name() != program_name) continue;
      std::vector<Insn> insns(program.insns().begin(), program.insns().end());
      for (Insn& insn : insns) {
        if (insn.is_ld_imm64() && insn.src() == BPF_PSEUDO_MAP_IDX) {
          insn.set_src(BPF_PSEUDO_MAP_FD);
          insn.imm = maps_.at(static_cast<std::size_t>(insn.imm)).fd();
        }
      }
      load(static_cast<std::uint32_t>(program.type()), insns, spec.license());
      return;
    }
    throw Error(ENOENT, "no program " + program_name + " in " + object_path);
  }

  Map& map(const std::string& name) {
    for (Map& map : maps_) {
      if (map.name() == name) return map;
    }
    throw Error(ENOENT, "no map " + name);
  }
  int fd() const noexcept { return fd_.get(); }

  // Runs the program `repeat` times on a minimal Ethernet frame; returns its last return value.
  std::uint32_t run(std::uint32_t repeat) const {
    std::array<std::uint8_t, 64> packet{};
    bpf_attr attr{};
    std::memset(&attr, 0, sizeof(attr));
    attr.test.prog_fd = static_cast<std::uint32_t>(fd_.get());
    attr.test.data_in = reinterpret_cast<std::uintptr_t>(packet.data());
    attr.test.data_size_in = packet.size();
    attr.test.repeat = repeat;
    if (::syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) != 0) {
      throw Error(errno, "BPF_PROG_TEST_RUN failed");
    }
    return attr.test.retval;
  }

 private:
  void load(std::uint32_t type, const std::vector<Insn>& insns, const std::string& license) {
    std::vector<char> log(1 << 20);
    bpf_attr attr{};
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_type = type;
    attr.insns = reinterpret_cast<std::uintptr_t>(insns.data());
    attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
    attr.license = reinterpret_cast<std::uintptr_t>(license.c_str());
    attr.log_buf = reinterpret_cast<std::uintptr_t>(log.data());
    attr.log_size = static_cast<std::uint32_t>(log.size());
    attr.log_level = 1;
    const long fd = ::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0) throw Error(errno, std::string("BPF_PROG_LOAD: ") + log.data());
    fd_ = UniqueFd(static_cast<int>(fd));
  }

  std::vector<Map> maps_;
  UniqueFd fd_;
};

}  // namespace corebpf::test
