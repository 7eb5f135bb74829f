// User-space probes against the running kernel (root): uprobes and uretprobes on the functions of
// tests/kernel/uprobe_target.c (in this process through /proc/self/exe, or in child processes
// running the uprobe_target program), a libc function found by library name, pid filters, the
// tracefs fallback, uprobe.multi, and USDT probes whose arguments, cookie and semaphore the BPF
// side (libbpf's <bpf/usdt.bpf.h>) sees.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/uprobe_target.h"

namespace corebpf {
namespace {

std::string bpf_object(const char* name) { return std::string(COREBPF_BPF_OBJECT_DIR) + "/" + name + ".bpf.o"; }

template <typename T>
T global(Object& object, const char* name) {
  const auto* variable = object.spec().find_section_map(".bss")->find_variable(name);
  EXPECT_NE(variable, nullptr) << name;
  T value{};
  if (variable) std::memcpy(&value, object.section_bytes(".bss").data() + variable->offset, sizeof(T));
  return value;
}

template <typename T>
void set_global(Object& object, const char* name, T value) {
  const auto* variable = object.spec().find_section_map(".bss")->find_variable(name);
  ASSERT_NE(variable, nullptr) << name;
  std::memcpy(object.section_bytes(".bss").data() + variable->offset, &value, sizeof(T));
}

Object load_probes() {
  auto object = Object::open(bpf_object("attach_uprobe"));
  object.load();
  set_global<std::uint32_t>(object, "target_tgid", static_cast<std::uint32_t>(::getpid()));
  return object;
}

// uprobe_target run as a child: it waits for go(), runs `rounds` rounds, prints its semaphore.
class Child {
 public:
  explicit Child(int rounds) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    UniqueFd in_read(in[0]), out_write(out[1]);
    stdin_ = UniqueFd(in[1]);
    stdout_ = UniqueFd(out[0]);
    const std::string count = std::to_string(rounds);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in_read.get(), 0);
      ::dup2(out_write.get(), 1);
      ::execl(COREBPF_UPROBE_TARGET, COREBPF_UPROBE_TARGET, count.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !waited_) {
      stdin_.reset();
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  pid_t pid() const { return pid_; }

  // Lets the child run; returns what it printed (its "gated" and library semaphores, "1 0") once
  // it exited 0.
  std::string go() {
    const char byte = 'g';
    EXPECT_EQ(::write(stdin_.get(), &byte, 1), 1);
    std::string output;
    char buffer[64];
    for (ssize_t n; (n = ::read(stdout_.get(), buffer, sizeof(buffer))) > 0;) output.append(buffer, n);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "uprobe_target status " << status;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return output;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  UniqueFd stdin_;
  UniqueFd stdout_;
};

std::string error_of(const std::function<void()>& attach) {
  try {
    attach();
  } catch (const Error& e) {
    return e.message();
  }
  return "no error";
}

TEST(AttachUprobe, UprobeAndUretprobeSeeArgumentsResultAndCookie) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  UprobeOptions entry;
  entry.function = "uprobe_target_add";
  entry.cookie = 0xc00c1e;
  UprobeOptions exit = entry;
  exit.retprobe = true;
  {
    auto on_entry = object.program("on_add").attach_uprobe("/proc/self/exe", entry);
    auto on_exit = object.program("on_add_ret").attach_uprobe("/proc/self/exe", exit);
    EXPECT_NE(on_entry.description().find("uprobe /proc/self/exe:uprobe_target_add"), std::string::npos)
        << on_entry.description();
    EXPECT_GE(on_entry.fd(), 0) << "a BPF perf link on this kernel";
    EXPECT_EQ(uprobe_target_add(7, 35), 42);
    EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 1U);
    EXPECT_EQ(global<int>(object, "add_a"), 7);
    EXPECT_EQ(global<int>(object, "add_b"), 35);
    EXPECT_EQ(global<std::uint64_t>(object, "add_cookie"), 0xc00c1eU);
    EXPECT_EQ(global<std::uint32_t>(object, "add_tgid"), static_cast<std::uint32_t>(::getpid()));
    EXPECT_EQ(global<std::uint64_t>(object, "add_ret_calls"), 1U);
    EXPECT_EQ(global<int>(object, "add_ret"), 42);
    EXPECT_EQ(uprobe_target_add(-50, 8), -42);
    EXPECT_EQ(global<int>(object, "add_ret"), -42);
    EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 2U);
  }
  // Detached with the Links.
  uprobe_target_add(1, 1);
  EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 2U);
  EXPECT_EQ(global<std::uint64_t>(object, "add_ret_calls"), 2U);
}

TEST(AttachUprobe, OffsetWithoutSymbolIsAFileOffset) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  // The same probe by raw file offset: what the symbol lookup computed must be that offset.
  UprobeOptions by_symbol;
  by_symbol.function = "uprobe_target_add";
  auto link = object.program("on_add").attach_uprobe("/proc/self/exe", by_symbol);
  const auto description = link.description();
  link = Link();
  std::string nm_output;
  ASSERT_EQ(
      test::run_command("nm /proc/" + std::to_string(::getpid()) + "/exe | grep ' uprobe_target_add$'", &nm_output), 0);
  const std::uint64_t address = std::stoull(nm_output, nullptr, 16);
  std::string offset_output;
  // The executable segment's vaddr - offset, from readelf: file offset = address - (vaddr - offset).
  ASSERT_EQ(test::run_command("readelf -lW /proc/" + std::to_string(::getpid()) +
                                  "/exe | awk '$1==\"LOAD\" && / R E / {print $2, $3}'",
                              &offset_output),
            0);
  std::istringstream fields(offset_output);
  std::string offset_text, vaddr_text;
  fields >> offset_text >> vaddr_text;
  const std::uint64_t file_offset =
      address - (std::stoull(vaddr_text, nullptr, 16) - std::stoull(offset_text, nullptr, 16));
  UprobeOptions by_offset;
  by_offset.offset = file_offset;
  link = object.program("on_add").attach_uprobe("/proc/self/exe", by_offset);
  uprobe_target_add(20, 22);
  EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 1U) << description;
  EXPECT_EQ(global<int>(object, "add_b"), 22);
}

TEST(AttachUprobe, SectionNamesAttachOnProcSelfExe) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  auto entry = object.program("on_mul").attach();
  auto exit = object.program("on_mul_ret").attach();
  EXPECT_EQ(uprobe_target_mul(6, -7), -42);
  EXPECT_EQ(global<std::uint64_t>(object, "mul_calls"), 1U);
  EXPECT_EQ(global<long>(object, "mul_a"), 6);
  EXPECT_EQ(global<long>(object, "mul_b"), -7);
  EXPECT_EQ(global<std::uint64_t>(object, "mul_ret_calls"), 1U);
  EXPECT_EQ(global<long>(object, "mul_ret"), -42);
}

TEST(AttachUprobe, PidFilterLetsOnlyThatProcessThrough) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  Child watched(3), other(5);
  UprobeOptions options;
  options.function = "uprobe_target_add";
  options.pid = watched.pid();
  auto link = object.program("on_add").attach_uprobe(COREBPF_UPROBE_TARGET, options);
  EXPECT_NE(link.description().find("pid " + std::to_string(watched.pid())), std::string::npos);
  other.go();
  watched.go();
  EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 3U);
  EXPECT_EQ(global<std::uint32_t>(object, "add_tgid"), static_cast<std::uint32_t>(watched.pid()));
  EXPECT_EQ(global<int>(object, "add_a"), 2);
  EXPECT_EQ(global<int>(object, "add_b"), 100);

  // Without a pid, every process running the binary.
  Child first(2), second(4);
  options.pid = -1;
  link = object.program("on_add").attach_uprobe(COREBPF_UPROBE_TARGET, options);
  first.go();
  second.go();
  EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 3U + 2U + 4U);
}

TEST(AttachUprobe, LibcFunctionByLibraryName) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  // uprobe_target is linked dynamically (this test binary may not be): its malloc_trim() calls
  // run the libc.so.6 the loader finds.
  Child child(3);
  set_global<std::uint32_t>(object, "target_tgid", static_cast<std::uint32_t>(child.pid()));
  UprobeOptions options;
  options.function = "malloc_trim";
  options.pid = child.pid();
  auto link = object.program("on_libc").attach_uprobe("libc.so.6", options);
  // The loader's file, by its full path.
  EXPECT_NE(link.description().find("/libc.so.6:malloc_trim"), std::string::npos) << link.description();
  EXPECT_EQ(link.description().find("uprobe libc.so.6"), std::string::npos) << link.description();
  // A versioned name reaches the same function.
  options.function = "malloc_trim@@GLIBC_2.2.5";
  auto versioned = object.program("on_libc").attach_uprobe("libc.so.6", options);
  child.go();
  EXPECT_EQ(global<std::uint64_t>(object, "libc_calls"), 2U * 3U);
}

// LD_LIBRARY_PATH set for the scope (the library search reads it on every lookup).
class ScopedLibraryPath {
 public:
  explicit ScopedLibraryPath(const std::string& dir) {
    if (const char* old = std::getenv("LD_LIBRARY_PATH")) saved_ = old;
    ::setenv("LD_LIBRARY_PATH", dir.c_str(), 1);
  }
  ScopedLibraryPath(const ScopedLibraryPath&) = delete;
  ScopedLibraryPath& operator=(const ScopedLibraryPath&) = delete;
  ~ScopedLibraryPath() {
    if (saved_) {
      ::setenv("LD_LIBRARY_PATH", saved_->c_str(), 1);
    } else {
      ::unsetenv("LD_LIBRARY_PATH");
    }
  }

 private:
  std::optional<std::string> saved_;
};

TEST(AttachUprobe, OwnSharedLibraryByNameWithUsdtSemaphore) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  const std::filesystem::path library = COREBPF_UPROBE_TARGET_LIB;
  Child child(4);
  set_global<std::uint32_t>(object, "target_tgid", static_cast<std::uint32_t>(child.pid()));
  Link entry, exit, usdt;
  {
    const ScopedLibraryPath path(library.parent_path().string());
    UprobeOptions options;
    options.function = "uprobe_target_lib_sub";
    options.pid = child.pid();
    entry = object.program("on_add").attach_uprobe(library.filename().string(), options);
    options.retprobe = true;
    exit = object.program("on_add_ret").attach_uprobe(library.filename().string(), options);
    usdt = object.program("on_gated")
               .attach_usdt(library.filename().string(), "corebpf_lib", "sub", {.pid = child.pid(), .cookie = 0});
  }
  EXPECT_NE(entry.description().find(library.string() + ":uprobe_target_lib_sub"), std::string::npos)
      << entry.description();
  // The library's semaphore sits in its data segment, a page away from its file offset.
  EXPECT_EQ(child.go(), "0 1");
  EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 4U);
  EXPECT_EQ(global<int>(object, "add_a"), 3);
  EXPECT_EQ(global<int>(object, "add_b"), 1);
  EXPECT_EQ(global<int>(object, "add_ret"), 2);
  EXPECT_EQ(global<std::uint32_t>(object, "add_tgid"), static_cast<std::uint32_t>(child.pid()));
  EXPECT_EQ(global<std::uint64_t>(object, "gated_calls"), 4U);
  EXPECT_EQ(global<long>(object, "gated_arg"), 2);
}

// tracefs at /sys/kernel/tracing, mounted when missing (a fresh machine).
bool ensure_tracefs() {
  if (std::filesystem::exists("/sys/kernel/tracing/uprobe_events")) return true;
  if (std::filesystem::exists("/sys/kernel/debug/tracing/uprobe_events")) return true;
  ::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr);
  return std::filesystem::exists("/sys/kernel/tracing/uprobe_events");
}

std::string uprobe_events() {
  for (const char* path : {"/sys/kernel/tracing/uprobe_events", "/sys/kernel/debug/tracing/uprobe_events"}) {
    std::ifstream in(path);
    if (in) return std::string(std::istreambuf_iterator<char>(in), {});
  }
  return {};
}

TEST(AttachUprobe, TracefsFallbackAddsAndRemovesItsEvent) {
  COREBPF_REQUIRE_ROOT();
  if (!ensure_tracefs()) COREBPF_SKIP_OR_FAIL("tracefs with uprobe_events not mountable at /sys/kernel/tracing");
  auto object = load_probes();
  const std::string ours = "corebpf_" + std::to_string(::getpid()) + "_";
  UprobeOptions options;
  options.function = "uprobe_target_add";
  options.force_tracefs = true;
  {
    auto entry = object.program("on_add").attach_uprobe("/proc/self/exe", options);
    options.retprobe = true;
    auto exit = object.program("on_add_ret").attach_uprobe("/proc/self/exe", options);
    EXPECT_NE(uprobe_events().find(ours), std::string::npos) << uprobe_events();
    EXPECT_EQ(uprobe_target_add(40, 2), 42);
    EXPECT_EQ(global<std::uint64_t>(object, "add_calls"), 1U);
    EXPECT_EQ(global<int>(object, "add_ret"), 42);
  }
  EXPECT_EQ(uprobe_events().find(ours), std::string::npos) << uprobe_events();
}

TEST(AttachUprobe, UprobeMultiOverAPatternAndWithCookies) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(kernel::Feature::uprobe_multi);
  auto object = load_probes();
  {
    auto link = object.program("on_multi").attach();  // SEC("uprobe.multi//proc/self/exe:uprobe_target_*")
    EXPECT_GE(link.fd(), 0);
    EXPECT_NE(link.description().find("uprobe_target_*"), std::string::npos) << link.description();
    uprobe_target_add(1, 2);
    uprobe_target_mul(3, 4);
    EXPECT_EQ(global<std::uint64_t>(object, "multi_calls"), 2U);
  }
  UprobeMultiOptions options;
  options.symbols = {"uprobe_target_add", "uprobe_target_mul"};
  options.cookies = {1, 1000};
  auto link = object.program("on_multi").attach_uprobe_multi("/proc/self/exe", options);
  uprobe_target_mul(3, 4);
  uprobe_target_mul(3, 4);
  uprobe_target_add(1, 2);
  EXPECT_EQ(global<std::uint64_t>(object, "multi_calls"), 5U);
  EXPECT_EQ(global<std::uint64_t>(object, "multi_cookie_sum"), 2001U);

  options.cookies = {1};
  EXPECT_NE(error_of([&] {
              object.program("on_multi").attach_uprobe_multi("/proc/self/exe", options);
            }).find("1 cookies for 2 probe locations"),
            std::string::npos);
}

TEST(AttachUsdt, ArgumentsOfEveryKindAndTheCookie) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  UsdtOptions options;
  options.cookie = 77;
  auto link = object.program("on_usdt_args").attach_usdt("/proc/self/exe", "corebpf_test", "args", options);
  EXPECT_NE(link.description().find("corebpf_test:args"), std::string::npos) << link.description();
  // Arguments: value (register), 42 (constant), wide * 2 (memory), (short)-value (16-bit register).
  uprobe_target_usdt(5, 1000);
  EXPECT_EQ(global<std::uint64_t>(object, "usdt_calls"), 1U);
  EXPECT_EQ(global<int>(object, "usdt_arg_count"), 4);
  EXPECT_EQ(global<int>(object, "usdt_errors"), 0);
  auto args = global<std::array<long, 4>>(object, "usdt_args");
  EXPECT_EQ(args[0], 5);
  EXPECT_EQ(args[1], 42);
  EXPECT_EQ(args[2], 2000);
  EXPECT_EQ(args[3], -5);
  EXPECT_EQ(global<long>(object, "usdt_cookie"), 77);
  // Signed narrow values come back sign-extended.
  uprobe_target_usdt(-3, -10);
  args = global<std::array<long, 4>>(object, "usdt_args");
  EXPECT_EQ(args[0], -3);
  EXPECT_EQ(args[2], -20);
  EXPECT_EQ(args[3], 3);

  // A second attachment of the same object gets its own spec slot: its cookie, not the first's.
  link = Link();
  options.cookie = 99;
  auto again = object.program("on_usdt_args").attach_usdt("/proc/self/exe", "corebpf_test", "args", options);
  uprobe_target_usdt(1, 1);
  EXPECT_EQ(global<long>(object, "usdt_cookie"), 99);
}

TEST(AttachUsdt, SemaphoreCountsOnlyWhileAttached) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  EXPECT_EQ(uprobe_target_semaphore(), 0);
  uprobe_target_usdt(1, 1);
  {
    auto link = object.program("on_gated").attach();  // SEC("usdt//proc/self/exe:corebpf_test:gated")
    EXPECT_EQ(uprobe_target_semaphore(), 1);
    uprobe_target_usdt(9, 0);
    EXPECT_EQ(global<std::uint64_t>(object, "gated_calls"), 1U);
    EXPECT_EQ(global<long>(object, "gated_arg"), 10);
  }
  EXPECT_EQ(uprobe_target_semaphore(), 0);
  uprobe_target_usdt(9, 0);
  EXPECT_EQ(global<std::uint64_t>(object, "gated_calls"), 1U);
}

TEST(AttachUsdt, ChildProcessWithPid) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  Child child(3);
  set_global<std::uint32_t>(object, "target_tgid", static_cast<std::uint32_t>(child.pid()));
  UsdtOptions options;
  options.pid = child.pid();
  auto args = object.program("on_usdt_args").attach_usdt(COREBPF_UPROBE_TARGET, "corebpf_test", "args", options);
  auto gated = object.program("on_gated").attach_usdt(COREBPF_UPROBE_TARGET, "corebpf_test", "gated", options);
  EXPECT_EQ(child.go(), "1 0") << "the child's semaphores: gated raised for it, the library's not";
  EXPECT_EQ(global<std::uint64_t>(object, "usdt_calls"), 3U);
  const auto values = global<std::array<long, 4>>(object, "usdt_args");
  EXPECT_EQ(values[0], 2);
  EXPECT_EQ(values[1], 42);
  EXPECT_EQ(values[2], 2 * 1002);
  EXPECT_EQ(values[3], -2);
  EXPECT_EQ(global<std::uint64_t>(object, "gated_calls"), 3U);
  EXPECT_EQ(global<long>(object, "gated_arg"), 3);
}

TEST(AttachUprobe, ErrorsNameTheBinaryAndSymbol) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  const auto& program = object.program("on_add");
  UprobeOptions options;
  options.function = "corebpf_no_such_function";
  const auto missing_symbol = error_of([&] { program.attach_uprobe("/proc/self/exe", options); });
  EXPECT_NE(missing_symbol.find("symbol 'corebpf_no_such_function' not found in /proc/self/exe (.symtab, .dynsym)"),
            std::string::npos)
      << missing_symbol;
  EXPECT_NE(missing_symbol.find("program 'on_add'"), std::string::npos) << missing_symbol;

  options.function = "malloc";
  const auto missing_library = error_of([&] { program.attach_uprobe("libcorebpf_nope.so.1", options); });
  EXPECT_NE(missing_library.find("library 'libcorebpf_nope.so.1' not found in the loader's search path"),
            std::string::npos)
      << missing_library;

  const auto missing_file = error_of([&] { program.attach_uprobe("/nonexistent/corebpf/bin", options); });
  EXPECT_NE(missing_file.find("'/nonexistent/corebpf/bin' does not exist"), std::string::npos) << missing_file;

  const std::string not_elf =
      std::filesystem::temp_directory_path() / ("corebpf_not_elf_" + std::to_string(::getpid()));
  std::ofstream(not_elf) << "#!/bin/sh\necho not an ELF file\n";
  const auto bad_binary = error_of([&] { program.attach_uprobe(not_elf, options); });
  std::filesystem::remove(not_elf);
  EXPECT_NE(bad_binary.find(not_elf), std::string::npos) << bad_binary;
  EXPECT_NE(bad_binary.find("not an ELF file"), std::string::npos) << bad_binary;

  const auto missing_probe =
      error_of([&] { object.program("on_usdt_args").attach_usdt("/proc/self/exe", "corebpf_test", "nope"); });
  EXPECT_NE(missing_probe.find("usdt corebpf_test:nope of program 'on_usdt_args': no such probe in /proc/self/exe"),
            std::string::npos)
      << missing_probe;
}

TEST(AttachUprobe, NoFileDescriptorLeaks) {
  COREBPF_REQUIRE_ROOT();
  auto object = load_probes();
  const auto before = test::open_fd_count();
  for (int round = 0; round < 3; ++round) {
    UprobeOptions options;
    options.function = "uprobe_target_add";
    auto entry = object.program("on_add").attach_uprobe("/proc/self/exe", options);
    auto section = object.program("on_mul").attach();
    auto usdt = object.program("on_usdt_args").attach_usdt("/proc/self/exe", "corebpf_test", "args");
    auto gated = object.program("on_gated").attach();
    if (kernel::has_uprobe_multi()) auto multi = object.program("on_multi").attach();
    options.function = "corebpf_no_such_function";
    EXPECT_THROW(object.program("on_add").attach_uprobe("/proc/self/exe", options), Error);
    EXPECT_THROW(object.program("on_add").attach_uprobe("libcorebpf_nope.so", options), Error);
  }
  EXPECT_EQ(test::open_fd_count(), before);
}

}  // namespace
}  // namespace corebpf
