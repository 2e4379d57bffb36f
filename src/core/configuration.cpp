#include "raft/core/configuration.hpp"

#include <algorithm>

#include "raft/errc.hpp"

#include "../storage/byte_order.hpp"

namespace raft {

namespace {

bool has(const std::vector<member_id>& xs, const member_id& id) {
  return std::binary_search(xs.begin(), xs.end(), id);
}

void sort_unique(std::vector<member_id>& xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
}

bool sorted_unique(const std::vector<member_id>& xs) {
  return std::adjacent_find(xs.begin(), xs.end(),
                            [](const auto& a, const auto& b) {
                              return !(a < b);
                            })
         == xs.end();
}

void append_list(std::string& out, const std::vector<member_id>& xs) {
  char buf[4];
  detail::put_le32(buf, static_cast<uint32_t>(xs.size()));
  out.append(buf, 4);
  for (auto& x : xs) {
    detail::put_le32(buf, static_cast<uint32_t>(x.size()));
    out.append(buf, 4);
    out += x;
  }
}

bool read_list(const std::string& in, size_t& pos,
               std::vector<member_id>& xs) {
  if (in.size() - pos < 4)
    return false;
  auto n = detail::get_le32(in.data() + pos);
  pos += 4;
  // Each member takes at least 4 bytes: never reserve beyond what is there.
  if (n > (in.size() - pos) / 4)
    return false;
  xs.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (in.size() - pos < 4)
      return false;
    auto len = detail::get_le32(in.data() + pos);
    pos += 4;
    if (len > in.size() - pos)
      return false;
    xs.emplace_back(in.data() + pos, len);
    pos += len;
  }
  return true;
}

std::string join(const std::vector<member_id>& xs) {
  std::string out;
  for (auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

} // namespace

bool cluster_configuration::is_voter(const member_id& id) const {
  return has(voters, id) || has(old_voters, id);
}

bool cluster_configuration::is_learner(const member_id& id) const {
  return has(learners, id);
}

bool cluster_configuration::contains(const member_id& id) const {
  return is_voter(id) || is_learner(id);
}

std::vector<member_id> cluster_configuration::members() const {
  auto result = voters;
  result.insert(result.end(), learners.begin(), learners.end());
  result.insert(result.end(), old_voters.begin(), old_voters.end());
  sort_unique(result);
  return result;
}

void cluster_configuration::normalize() {
  sort_unique(voters);
  sort_unique(learners);
  sort_unique(old_voters);
}

std::string to_string(const cluster_configuration& x) {
  std::string out = "{voters: " + join(x.voters);
  if (!x.learners.empty())
    out += "; learners: " + join(x.learners);
  if (x.joint())
    out += "; old voters: " + join(x.old_voters);
  return out + "}";
}

caf::error check(const cluster_configuration& x) {
  if (!sorted_unique(x.voters) || !sorted_unique(x.learners)
      || !sorted_unique(x.old_voters))
    return make_error(errc::invalid_config,
                      "configuration lists must be sorted and unique: "
                        + to_string(x));
  for (auto& id : x.learners)
    if (x.is_voter(id))
      return make_error(errc::invalid_config,
                        "member " + id + " is both a learner and a voter");
  for (auto& id : x.members())
    if (id.empty())
      return make_error(errc::invalid_config, "empty member id");
  if (x.voters.empty() && !x.empty())
    return make_error(errc::invalid_config,
                      "a configuration needs at least one voter: "
                        + to_string(x));
  return caf::none;
}

payload encode_configuration(const cluster_configuration& x) {
  std::string out;
  append_list(out, x.voters);
  append_list(out, x.learners);
  append_list(out, x.old_voters);
  return payload{std::move(out)};
}

caf::expected<cluster_configuration> decode_configuration(const payload& x) {
  auto& in = x.bytes();
  cluster_configuration result;
  size_t pos = 0;
  if (!read_list(in, pos, result.voters) || !read_list(in, pos, result.learners)
      || !read_list(in, pos, result.old_voters) || pos != in.size())
    return make_error(errc::corrupt_record,
                      "malformed configuration entry ("
                        + std::to_string(in.size()) + " bytes)");
  if (auto err = check(result))
    return make_error(errc::corrupt_record,
                      "invalid configuration entry: " + to_string(result));
  return result;
}

} // namespace raft
