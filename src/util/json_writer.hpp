// Internal: a streaming JSON writer for large outputs (a 100k-type BTF dump), compact or pretty,
// appending to a fmt buffer the caller drains as it grows.
#pragma once

#include <fmt/format.h>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <vector>

namespace corebpf::util {

// Appends `text` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD, so the
// output is always valid JSON whatever a name in the input holds.
void append_json_string(fmt::memory_buffer& out, std::string_view text);

class JsonWriter {
 public:
  // Pretty output indents by 4 spaces and puts each member on its own line.
  JsonWriter(fmt::memory_buffer& out, bool pretty) : out_(out), pretty_(pretty) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view name) {
    next_item();
    append_json_string(out_, name);
    out_.push_back(':');
    if (pretty_) out_.push_back(' ');
    after_key_ = true;
  }

  void value(std::string_view text) {
    before_value();
    append_json_string(out_, text);
  }
  void value(const char* text) { value(std::string_view(text)); }
  template <typename T>
  requires std::integral<T>
  void value(T number) {
    before_value();
    if constexpr (std::same_as<T, bool>) {
      append(number ? "true" : "false");
    } else {
      fmt::format_to(fmt::appender(out_), "{}", number);
    }
  }
  void null() {
    before_value();
    append("null");
  }
  // A value already in JSON form (a number formatted by the caller).
  void raw_value(std::string_view json_text) {
    before_value();
    append(json_text);
  }

  template <typename T>
  void member(std::string_view name, const T& v) {
    key(name);
    value(v);
  }

  // Nesting depth; 0 once every container opened has been closed.
  std::size_t depth() const { return item_counts_.size(); }

 private:
  void append(std::string_view text) { out_.append(text.data(), text.data() + text.size()); }
  void newline_and_indent(std::size_t depth) {
    out_.push_back('\n');
    for (std::size_t i = 0; i < depth; ++i) append("    ");
  }
  // Separates an item (member or array element) from the previous one in its container.
  void next_item() {
    if (item_counts_.empty()) return;
    if (item_counts_.back()++ > 0) out_.push_back(',');
    if (pretty_) newline_and_indent(item_counts_.size());
  }
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    next_item();
  }
  void open(char bracket) {
    before_value();
    out_.push_back(bracket);
    item_counts_.push_back(0);
  }
  void close(char bracket) {
    const bool had_items = item_counts_.back() > 0;
    item_counts_.pop_back();
    if (pretty_ && had_items) newline_and_indent(item_counts_.size());
    out_.push_back(bracket);
  }

  fmt::memory_buffer& out_;
  bool pretty_;
  bool after_key_ = false;
  std::vector<std::uint32_t> item_counts_;
};

}  // namespace corebpf::util
