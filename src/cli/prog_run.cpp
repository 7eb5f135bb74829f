// `corebpf prog tracelog | run | attach | detach`: bpf_printk output from tracefs's trace_pipe,
// BPF_PROG_TEST_RUN with bpftool's files and hex dump, and the attachments to sockmaps and the
// network namespace that stay until detached (BPF_PROG_ATTACH / BPF_PROG_DETACH).
#include "cli/prog_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "kernel/tracefs.hpp"
#include "uapi/bpf_tables.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {
namespace {

// ---- prog tracelog

// SIGINT and SIGTERM blocked and delivered through a signalfd, so the reading loop ends cleanly
// (the JSON array closed, the output flushed) instead of dying mid-line.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &set_, &previous_) != 0) util::fail_errno("blocking SIGINT and SIGTERM");
    fd_ = UniqueFd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) util::fail_errno("signalfd for SIGINT and SIGTERM");
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }
  int fd() const noexcept { return fd_.get(); }
  // Takes the pending signal, so unblocking it again at the end does not deliver it (SIGTERM's
  // default action would end the process before the output is complete).
  void consume() const noexcept {
    signalfd_siginfo info{};
    while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
  UniqueFd fd_;
};

void run_tracelog(Context& context, Arguments& args) {
  args.expect_end();
  const std::string path = kernel::detail::tracefs_root() + "/trace_pipe";
  const StopSignals signals;
  const UniqueFd pipe(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!pipe) util::fail_errno("opening {} (the kernel's trace buffer, where bpf_printk writes)", path);
  const bool json = context.options.json;
  fmt::memory_buffer json_buffer;
  util::JsonWriter writer(json_buffer, context.options.pretty);
  const auto emit_json = [&] {
    context.out.write(std::string_view(json_buffer.data(), json_buffer.size()));
    json_buffer.clear();
  };
  if (json) {
    writer.begin_array();
    emit_json();
    context.out.flush();
  }
  std::string pending;  // a line not yet ended
  std::array<char, 16 * 1024> chunk{};
  for (;;) {
    std::array<pollfd, 2> fds{{{pipe.get(), POLLIN, 0}, {signals.fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("waiting on {}", path);
    }
    if (fds[1].revents != 0) {
      signals.consume();
      break;
    }
    const ssize_t n = ::read(pipe.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      util::fail_errno("reading {}", path);
    }
    pending.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string_view line(pending.data() + start, end - start);
      if (json) {
        writer.value(line);
        emit_json();
      } else {
        context.out.write(line);
        context.out.write("\n");
      }
    }
    pending.erase(0, start);
    context.out.flush();  // a follower shows each line as it comes
  }
  if (json) {
    if (!pending.empty()) writer.value(pending);
    writer.end_array();
    json_buffer.push_back('\n');
    emit_json();
  } else if (!pending.empty()) {
    context.out.write(pending);
    context.out.write("\n");
  }
}

// ---- prog run

constexpr std::size_t kOutputHeadroom = 64 * 1024;

std::vector<std::byte> read_stdin() {
  std::vector<std::byte> bytes;
  std::array<char, 64 * 1024> chunk{};
  for (;;) {
    const ssize_t n = ::read(0, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("reading the standard input");
    }
    if (n == 0) return bytes;
    const auto* first = reinterpret_cast<const std::byte*>(chunk.data());
    bytes.insert(bytes.end(), first, first + n);
  }
}

util::FileBytes input_file(const std::string& path) {
  if (path == "-") return util::FileBytes::from_vector(read_stdin());
  return util::FileBytes::open(path);
}

// bpftool's dump of bytes written to the terminal: offset, 16 bytes in pairs of hex digits, then
// the printable ones ('.' for the rest) in two groups of 8.
void hex_dump(Output& out, std::span<const std::byte> bytes) {
  for (std::size_t row = 0; row < bytes.size(); row += 16) {
    out.print("{:07x}\t", row);
    for (std::size_t i = row; i < row + 16; ++i) {
      if (i < bytes.size()) {
        out.print("{:02x}", std::to_integer<unsigned>(bytes[i]));
      } else {
        out.write("  ");
      }
      if (i % 2 == 1) out.write(" ");
    }
    out.write("| ");
    for (std::size_t i = row; i < row + 16 && i < bytes.size(); ++i) {
      const auto c = static_cast<char>(bytes[i]);
      out.print("{}", c < ' ' || c > '~' ? '.' : c);
      if (i - row == 7) out.write(" ");
    }
    out.write("\n");
  }
}

struct RunRequest {
  std::string data_in;
  std::string data_out;
  std::optional<std::uint32_t> data_size_out;
  std::string ctx_in;
  std::string ctx_out;
  std::optional<std::uint32_t> ctx_size_out;
  std::uint32_t repeat = 0;
};

RunRequest parse_run(Arguments& args) {
  static constexpr std::string_view keywords[] = {"data_in", "data_out",     "data_size_out", "ctx_in",
                                                  "ctx_out", "ctx_size_out", "repeat"};
  RunRequest request;
  const auto take_path = [&](std::string& slot, std::string_view keyword) {
    if (!slot.empty()) throw UsageError(fmt::format("'{}' given twice", keyword));
    slot = std::string(args.take(fmt::format("file after '{}' (or - for the standard stream)", keyword)));
  };
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "prog run keyword");
    if (keyword == "data_in") {
      take_path(request.data_in, keyword);
    } else if (keyword == "data_out") {
      take_path(request.data_out, keyword);
    } else if (keyword == "data_size_out") {
      request.data_size_out = args.take_id("data_size_out");
    } else if (keyword == "ctx_in") {
      take_path(request.ctx_in, keyword);
    } else if (keyword == "ctx_out") {
      take_path(request.ctx_out, keyword);
    } else if (keyword == "ctx_size_out") {
      request.ctx_size_out = args.take_id("ctx_size_out");
    } else {
      request.repeat = args.take_id("repeat count");
    }
  }
  if (request.data_in.empty() && request.ctx_in.empty())
    throw UsageError("prog run needs 'data_in FILE' or 'ctx_in FILE' (the program's input)");
  if (request.data_in == "-" && request.ctx_in == "-")
    throw UsageError("'data_in' and 'ctx_in' cannot both read the standard input");
  if (request.data_size_out && request.data_out.empty())
    throw UsageError("'data_size_out' applies with 'data_out FILE'");
  if (request.ctx_size_out && request.ctx_out.empty()) throw UsageError("'ctx_size_out' applies with 'ctx_out FILE'");
  return request;
}

// Output bytes go to a file, or to the terminal ("-") hex-dumped (a JSON array of numbers with -j).
void emit_output(Context& context, util::JsonWriter* json, const std::string& path, std::string_view json_key,
                 std::span<const std::byte> bytes) {
  if (path.empty()) return;
  if (path != "-") {
    write_file(path, bytes);
    return;
  }
  if (json == nullptr) {
    hex_dump(context.out, bytes);
    return;
  }
  json->key(json_key);
  json->begin_array();
  for (const std::byte b : bytes) json->value(std::to_integer<unsigned>(b));
  json->end_array();
}

void run_run(Context& context, Arguments& args) {
  const Selector selector = take_selector(args, kernel::ObjectType::program);
  const RunRequest request = parse_run(args);
  const Program program(open_one(kernel::ObjectType::program, selector));
  const util::FileBytes data_in = request.data_in.empty() ? util::FileBytes() : input_file(request.data_in);
  const util::FileBytes ctx_in = request.ctx_in.empty() ? util::FileBytes() : input_file(request.ctx_in);

  TestRunOptions options;
  options.data_in = data_in.bytes();
  options.ctx_in = ctx_in.bytes();
  // Unless told (0 is not telling), room for what came in and more: a program may grow the packet,
  // and the kernel gives back its whole context whatever part came in. The kernel says how much
  // it wrote, and only that is shown.
  if (!request.data_out.empty())
    options.data_out_size =
        request.data_size_out.value_or(0) != 0 ? *request.data_size_out : data_in.bytes().size() + kOutputHeadroom;
  if (!request.ctx_out.empty())
    options.ctx_out_size =
        request.ctx_size_out.value_or(0) != 0 ? *request.ctx_size_out : ctx_in.bytes().size() + kOutputHeadroom;
  options.repeat = request.repeat;
  TestRunResult result;
  try {
    result = program.test_run(options);
  } catch (const Error& e) {
    if (e.errno_value() != uapi::kEnotsupp) throw;
    const auto info = program.info();
    util::fail(std::errc::operation_not_supported, "program '{}' (id {}): the kernel cannot test-run {} programs",
               info.name, info.id, program_type_name(static_cast<ProgramType>(info.type)));
  }

  if (!context.options.json) {
    emit_output(context, nullptr, request.data_out, "data_out", result.data_out);
    emit_output(context, nullptr, request.ctx_out, "ctx_out", result.ctx_out);
    context.out.print("Return value: {}, duration{}: {}ns\n", result.retval, request.repeat > 1 ? " (average)" : "",
                      result.duration_ns);
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_object();
    emit_output(context, &json, request.data_out, "data_out", result.data_out);
    emit_output(context, &json, request.ctx_out, "ctx_out", result.ctx_out);
    json.member("retval", result.retval);
    json.member("duration", result.duration_ns);
    json.end_object();
  });
}

// ---- prog attach / detach

struct AttachTypeName {
  std::string_view name;
  AttachType type;
};
// bpftool's names, then the older spellings it also takes.
constexpr AttachTypeName kAttachTypes[] = {
    {"sk_msg_verdict", AttachType::sk_msg_verdict},
    {"sk_skb_verdict", AttachType::sk_skb_verdict},
    {"sk_skb_stream_verdict", AttachType::sk_skb_stream_verdict},
    {"sk_skb_stream_parser", AttachType::sk_skb_stream_parser},
    {"flow_dissector", AttachType::flow_dissector},
    {"msg_verdict", AttachType::sk_msg_verdict},
    {"skb_verdict", AttachType::sk_skb_verdict},
    {"stream_verdict", AttachType::sk_skb_stream_verdict},
    {"stream_parser", AttachType::sk_skb_stream_parser},
};

struct AttachRequest {
  Program program;
  AttachType type{};
  std::string type_name;
  UniqueFd target;  // the sockmap/sockhash; none (0 to the kernel) for the network namespace
  std::string target_text;
};

AttachRequest parse_attach(Arguments& args, std::string_view verb) {
  AttachRequest request;
  const Selector selector = take_selector(args, kernel::ObjectType::program);
  const std::string_view word = args.take(
      "attach type (sk_msg_verdict, sk_skb_verdict, sk_skb_stream_verdict, "
      "sk_skb_stream_parser or flow_dissector)");
  const AttachTypeName* found = nullptr;
  for (const AttachTypeName& candidate : kAttachTypes)
    if (candidate.name == word) found = &candidate;
  if (found == nullptr)
    throw UsageError(
        fmt::format("no such attach type '{}' for prog {} (expected one of: sk_msg_verdict, "
                    "sk_skb_verdict, sk_skb_stream_verdict, sk_skb_stream_parser, flow_dissector)",
                    word, verb));
  request.type = found->type;
  request.type_name = std::string(found->name);
  request.program = Program(open_one(kernel::ObjectType::program, selector));
  if (request.type == AttachType::flow_dissector) {
    // The kernel attaches a flow dissector to the caller's network namespace, and wants no target.
    if (!args.empty()) throw UsageError("flow_dissector attaches to the network namespace and takes no map");
    request.target_text = "this network namespace";
    return request;
  }
  if (args.empty())
    throw UsageError(
        fmt::format("{} needs a sockmap or sockhash: prog {} PROG {} MAP", request.type_name, verb, request.type_name));
  const Selector map_selector = take_selector(args, kernel::ObjectType::map);
  args.expect_end();
  request.target = open_one(kernel::ObjectType::map, map_selector);
  const kernel::MapInfo map = kernel::map_info(request.target.get());
  const auto map_type = static_cast<MapType>(map.type);
  request.target_text = fmt::format("map '{}' (id {})", map.name, map.id);
  if (map_type != MapType::sockmap && map_type != MapType::sockhash)
    util::fail(std::errc::invalid_argument, "{} is a {} map: {} programs attach to a sockmap or sockhash",
               request.target_text, map_type_name(map_type), request.type_name);
  return request;
}

std::string describe(const AttachRequest& request) {
  const auto info = request.program.info();
  return fmt::format("program '{}' (id {}) as {} on {}", info.name, info.id, request.type_name, request.target_text);
}

void run_attach(Context&, Arguments& args) {
  const AttachRequest request = parse_attach(args, "attach");
  kernel::prog_attach(std::max(request.target.get(), 0), request.program.fd(), static_cast<std::uint32_t>(request.type),
                      0, describe(request));
}

void run_detach(Context&, Arguments& args) {
  const AttachRequest request = parse_attach(args, "detach");
  kernel::prog_detach(std::max(request.target.get(), 0), request.program.fd(), static_cast<std::uint32_t>(request.type),
                      describe(request));
}

}  // namespace

void run_prog_tracelog(Context& context, Arguments& args) { run_tracelog(context, args); }
void run_prog_run(Context& context, Arguments& args) { run_run(context, args); }
void run_prog_attach(Context& context, Arguments& args) { run_attach(context, args); }
void run_prog_detach(Context& context, Arguments& args) { run_detach(context, args); }

}  // namespace corebpf::cli
