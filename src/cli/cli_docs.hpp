// The CLI described from its own grammar (the Object and Verb tables): the bash completion script
// and the man pages (corebpf(8), corebpf-OBJECT(8)). Generated at build time by the commands
// `corebpf gen completion bash` and `corebpf gen man DIR`, so a command added to a table is
// completed and documented without anything else to edit.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/grammar.hpp"

namespace corebpf::cli {

// One verb as the help describes it.
struct VerbDoc {
  std::string_view name;
  std::vector<std::string> usage;     // lines after "corebpf OBJECT " (an alias: the line naming it)
  std::vector<std::string> keywords;  // the literal words its usage (and the definitions it uses) allow
  bool takes_files = false;           // a FILE, PATH, DIR, OBJ... argument
};
std::vector<VerbDoc> describe_verbs(const Object& object);

std::string bash_completion(std::span<const Object> objects);
// Writes corebpf.8 and corebpf-OBJECT.8 for each object into `directory`; returns the paths.
std::vector<std::string> write_man_pages(std::span<const Object> objects, const std::string& directory);
// The text of corebpf-OBJECT.8 (`object` null: corebpf.8).
std::string man_page(std::span<const Object> objects, const Object* object);

}  // namespace corebpf::cli
