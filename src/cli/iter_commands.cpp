// `corebpf iter pin OBJ PATH [map MAP]`: an object's iterator program loaded, its iterator link
// made (over one map when given) and pinned on bpffs, so that reading PATH runs the iterator.
#include <fmt/format.h>

#include <string>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

void run_pin(Context&, Arguments& args) {
  const std::string path(args.take("object file path"));
  const std::string pin(args.take("pin path"));
  UniqueFd map;
  if (!args.empty()) {
    static constexpr std::string_view keywords[] = {"map"};
    args.take_keyword(keywords, "iter pin keyword");
    map = open_one(kernel::ObjectType::map, take_selector(args, kernel::ObjectType::map));
  }
  args.expect_end();

  corebpf::Object object = corebpf::Object::open(path);
  // The object's first program is the iterator, as bpftool takes it; the others stay unloaded.
  ProgramSpec* iterator = nullptr;
  for (ProgramSpec& program : object.spec().programs()) {
    if (iterator == nullptr && program.autoload()) {
      iterator = &program;
    } else {
      program.set_autoload(false);
    }
  }
  if (iterator == nullptr) util::fail(std::errc::invalid_argument, "{}: the object has no program", path);
  if (iterator->definition().type != ProgramType::tracing ||
      iterator->definition().expected_attach_type != AttachType::trace_iter)
    util::fail(std::errc::invalid_argument,
               "{}: its first program '{}' (SEC(\"{}\")) is not an iterator (SEC(\"iter/...\"))", path,
               iterator->name(), iterator->section());
  const std::string name = iterator->name();
  object.load();
  IterOptions options;
  options.map_fd = map.get();
  const Link link = object.program(name).attach_iter(options);
  link.pin(pin);
  util::log(LogLevel::debug, "{} pinned at {}", link.description(), pin);
}

constexpr Verb kIterVerbs[] = {
    {"pin", run_pin, "pin OBJ PATH [map MAP]"},
};

constexpr Object kIterObject = {
    "iter",
    kIterVerbs,
    "       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }\n"
    "       pin loads OBJ's first program, an iterator (SEC(\"iter/...\")), makes its iterator link\n"
    "       (over MAP for map iterators) and pins it at PATH on bpffs: `cat PATH` runs it.\n",
};

}  // namespace

const Object& iter_object() { return kIterObject; }

}  // namespace corebpf::cli
