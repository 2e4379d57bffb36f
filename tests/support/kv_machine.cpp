#include "kv_machine.hpp"

#include <istream>
#include <ostream>
#include <sstream>

#include "raft/errc.hpp"

namespace raft::test {

apply_result kv_machine::apply(index_t index, const payload& command) {
  applied.emplace_back(index, command.bytes());
  std::istringstream in{command.bytes()};
  std::string op, key, a, b;
  in >> op >> key >> a >> b;
  apply_result r;
  auto i = data.find(key);
  if (op == "put") {
    data[key] = a;
    r.result = "ok";
  } else if (op == "get") {
    if (i == data.end())
      r.error = "not_found";
    else
      r.result = i->second;
  } else if (op == "cas") {
    if (i == data.end()) {
      r.error = "not_found";
    } else if (i->second != a) {
      r.error = "mismatch:" + i->second;
    } else {
      i->second = b;
      r.result = "ok";
    }
  } else if (op == "del") {
    if (i == data.end()) {
      r.error = "not_found";
    } else {
      data.erase(i);
      r.result = "ok";
    }
  } else {
    r.error = "unknown command";
  }
  return r;
}

apply_result kv_machine::query(const payload& query) {
  std::istringstream in{query.bytes()};
  std::string op, key;
  in >> op >> key;
  apply_result r;
  if (op != "get") {
    r.error = "queries are read-only: get K";
    return r;
  }
  auto i = data.find(key);
  if (i == data.end())
    r.error = "not_found";
  else
    r.result = i->second;
  return r;
}

caf::error kv_machine::save_snapshot(std::ostream& out) {
  out << data.size() << '\n';
  for (auto& kvp : data)
    out << kvp.first << ' ' << kvp.second << '\n';
  return caf::none;
}

caf::error kv_machine::restore_snapshot(index_t index, std::istream& in) {
  data.clear();
  size_t n = 0;
  in >> n;
  for (size_t k = 0; k < n; ++k) {
    std::string key, value;
    if (!(in >> key >> value))
      return make_error(errc::snapshot_failure, "truncated kv snapshot");
    data[key] = value;
  }
  restored_index = index;
  return caf::none;
}

payload put_cmd(const std::string& key, const std::string& value) {
  return payload{"put " + key + " " + value};
}

payload get_cmd(const std::string& key) {
  return payload{"get " + key};
}

payload cas_cmd(const std::string& key, const std::string& expected,
                const std::string& value) {
  return payload{"cas " + key + " " + expected + " " + value};
}

payload del_cmd(const std::string& key) {
  return payload{"del " + key};
}

} // namespace raft::test
