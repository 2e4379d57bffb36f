#include "kv_command.hpp"

namespace kv {

void put_field(std::string& out, const std::string& field) {
  auto n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out += field;
}

bool get_field(const std::string& in, size_t& pos, std::string& field) {
  if (in.size() - pos < 4)
    return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<unsigned char>(in[pos + i]);
  pos += 4;
  if (in.size() - pos < n)
    return false;
  field.assign(in, pos, n);
  pos += n;
  return true;
}

raft::payload encode(op o, const std::vector<std::string>& args) {
  std::string out;
  out.push_back(static_cast<char>(o));
  for (auto& a : args)
    put_field(out, a);
  return raft::payload{std::move(out)};
}

std::optional<command> decode(const std::string& bytes) {
  if (bytes.empty())
    return std::nullopt;
  command cmd;
  size_t arity = 0;
  switch (bytes[0]) {
    case 'P':
      cmd.op = op::put;
      arity = 2;
      break;
    case 'G':
      cmd.op = op::get;
      arity = 1;
      break;
    case 'C':
      cmd.op = op::cas;
      arity = 3;
      break;
    case 'D':
      cmd.op = op::del;
      arity = 1;
      break;
    default:
      return std::nullopt;
  }
  size_t pos = 1;
  cmd.args.resize(arity);
  for (auto& a : cmd.args)
    if (!get_field(bytes, pos, a))
      return std::nullopt;
  if (pos != bytes.size())
    return std::nullopt;
  return cmd;
}

} // namespace kv
