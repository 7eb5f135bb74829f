#include "cli/object_select.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <ctime>

#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

std::string_view noun(ObjectType type) { return kernel::object_type_name(type); }

// The kernel's answer for a missing id is a bare ENOENT: say which object was asked for.
UniqueFd open_id(ObjectType type, std::uint32_t id) {
  try {
    return kernel::open_by_id(type, id);
  } catch (const Error& e) {
    if (e.errno_value() == ENOENT)
      util::fail(std::errc::no_such_file_or_directory, "there is no {} with id {}", noun(type), id);
    if (e.errno_value() == EPERM || e.errno_value() == EACCES)
      throw Error(
          e.errno_value(),
          fmt::format("{} id {}: not permitted (run as root, or with CAP_BPF and CAP_SYS_ADMIN)", noun(type), id));
    throw;
  }
}

UniqueFd open_pinned(ObjectType type, const std::string& path) {
  UniqueFd fd;
  try {
    fd = kernel::open_pinned(path);
  } catch (const Error& e) {
    if (e.errno_value() == ENOENT) util::fail(std::errc::no_such_file_or_directory, "nothing is pinned at {}", path);
    throw;
  }
  if (kernel::object_type_of(fd.get()) != type)
    util::fail(std::errc::invalid_argument, "{} is not a pinned {}", path, noun(type));
  return fd;
}

std::string tag_text(const std::array<std::uint8_t, 8>& tag) { return fmt::format("{:02x}", fmt::join(tag, "")); }

bool matches(ObjectType type, int fd, const Selector& selector) {
  if (type == ObjectType::program) {
    const auto info = kernel::program_info(fd);
    return selector.by == Selector::By::name ? info.name == selector.text : tag_text(info.tag) == selector.text;
  }
  if (type == ObjectType::map) return kernel::map_info(fd).name == selector.text;
  return false;
}

}  // namespace

Selector take_selector(Arguments& args, ObjectType type) {
  static constexpr std::string_view program_keywords[] = {"id", "pinned", "name", "tag"};
  static constexpr std::string_view map_keywords[] = {"id", "pinned", "name"};
  static constexpr std::string_view link_keywords[] = {"id", "pinned"};
  std::span<const std::string_view> keywords = link_keywords;
  if (type == ObjectType::program) keywords = program_keywords;
  if (type == ObjectType::map) keywords = map_keywords;
  const std::string what = fmt::format("{} selector", noun(type));
  const std::string_view keyword = args.take_keyword(keywords, what);
  Selector selector;
  if (keyword == "id") {
    selector.by = Selector::By::id;
    selector.id = args.take_id(fmt::format("{} id", noun(type)));
  } else if (keyword == "pinned") {
    selector.by = Selector::By::pinned;
    selector.text = std::string(args.take("pinned path"));
  } else if (keyword == "name") {
    selector.by = Selector::By::name;
    selector.text = std::string(args.take(fmt::format("{} name", noun(type))));
  } else {
    selector.by = Selector::By::tag;
    selector.text = std::string(args.take("program tag"));
    if (selector.text.size() != 16) throw UsageError(fmt::format("tag '{}' is not 16 hex digits", selector.text));
  }
  return selector;
}

std::optional<Selector> take_optional_selector(Arguments& args, ObjectType type) {
  if (args.empty()) return std::nullopt;
  return take_selector(args, type);
}

std::vector<UniqueFd> open_all(ObjectType type) {
  std::vector<std::uint32_t> ids;
  try {
    ids = kernel::list_ids(type);
  } catch (const Error& e) {
    if (e.errno_value() == EPERM || e.errno_value() == EACCES)
      throw Error(e.errno_value(), fmt::format("listing the kernel's {}s: not permitted (run as root, or with CAP_BPF "
                                               "and CAP_SYS_ADMIN)",
                                               noun(type)));
    throw;
  }
  std::vector<UniqueFd> fds;
  for (const std::uint32_t id : ids)
    if (auto fd = kernel::try_open_by_id(type, id)) fds.push_back(std::move(*fd));
  return fds;
}

std::vector<UniqueFd> open_selected(ObjectType type, const Selector& selector) {
  std::vector<UniqueFd> fds;
  switch (selector.by) {
    case Selector::By::id:
      fds.push_back(open_id(type, selector.id));
      break;
    case Selector::By::pinned:
      fds.push_back(open_pinned(type, selector.text));
      break;
    case Selector::By::name:
    case Selector::By::tag:
      for (UniqueFd& fd : open_all(type))
        if (matches(type, fd.get(), selector)) fds.push_back(std::move(fd));
      break;
  }
  return fds;
}

void throw_none_selected(ObjectType type, const Selector& selector) {
  util::fail(std::errc::no_such_file_or_directory, "there is no {} {}", noun(type), describe_selector(type, selector));
}

std::string bytes_text(std::span<const std::byte> bytes, std::string_view prefix) {
  std::string text;
  for (const std::byte b : bytes) {
    if (!text.empty()) text.push_back(' ');
    text += fmt::format("{}{:02x}", prefix, std::to_integer<unsigned>(b));
  }
  return text;
}

void write_byte_array(util::JsonWriter& json, std::span<const std::byte> bytes) {
  json.begin_array();
  for (const std::byte b : bytes) json.value(fmt::format("0x{:02x}", std::to_integer<unsigned>(b)));
  json.end_array();
}

UniqueFd open_one(ObjectType type, const Selector& selector) {
  std::vector<UniqueFd> fds = open_selected(type, selector);
  if (fds.empty()) throw_none_selected(type, selector);
  if (fds.size() > 1)
    util::fail(std::errc::invalid_argument, "{} {}s match {}: name one by id", fds.size(), noun(type),
               describe_selector(type, selector));
  return std::move(fds.front());
}

std::string describe_selector(ObjectType, const Selector& selector) {
  switch (selector.by) {
    case Selector::By::id:
      return fmt::format("with id {}", selector.id);
    case Selector::By::pinned:
      return fmt::format("pinned at {}", selector.text);
    case Selector::By::name:
      return fmt::format("named '{}'", selector.text);
    case Selector::By::tag:
      return fmt::format("with tag {}", selector.text);
  }
  return {};
}

std::int64_t boot_ns_to_epoch_seconds(std::uint64_t boot_ns) {
  timespec real{};
  timespec boot{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const std::int64_t real_ns = std::int64_t{real.tv_sec} * 1'000'000'000 + real.tv_nsec;
  const std::int64_t boot_now_ns = std::int64_t{boot.tv_sec} * 1'000'000'000 + boot.tv_nsec;
  return (real_ns - boot_now_ns + static_cast<std::int64_t>(boot_ns)) / 1'000'000'000;
}

void write_json(Context& context, const std::function<void(util::JsonWriter&)>& write) {
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, context.options.pretty);
  write(json);
  buffer.push_back('\n');
  context.out.write(std::string_view(buffer.data(), buffer.size()));
}

}  // namespace corebpf::cli
