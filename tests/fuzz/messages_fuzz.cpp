// Fuzz target: every message type that arrives from the network, decoded
// with CAF's binary_deserializer as BASP decodes it. First input byte: the
// type; the rest is its serialized form. Type 0 is a whole type-erased
// caf::message (type names included), the way a remote message arrives.
// Decoding must fail cleanly or give a value that encodes and decodes to
// the same bytes again, and that prints (members log refused messages).
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/deep_to_string.hpp"
#include "caf/message.hpp"

#include "raft/member.hpp"
#include "raft/messages.hpp"

#include "remote_protocol.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using raft::fuzz::check;

namespace {

caf::actor_system& sys() {
  static caf::actor_system_config* cfg = [] {
    auto c = new caf::actor_system_config;
    c->set("scheduler.policy", caf::atom("testing"));
    c->set("logger.verbosity", caf::atom("quiet"));
    add_message_types(*c);
    remote::add_remote_message_types(*c);
    return c;
  }();
  static caf::actor_system* system = new caf::actor_system{*cfg};
  return *system;
}

template <class T>
bool decode(const char* p, size_t n, T& x) {
  caf::binary_deserializer source{sys(), p, n};
  return !source(x);
}

template <class T>
std::vector<char> encode(T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys(), buf};
  if (auto err = sink(x))
    raft::fuzz::fail("a decoded value does not encode: "
                     + sys().render(err));
  return buf;
}

/// Decodes; if that works, the value re-encodes stably and prints.
template <class T>
void round_trip(const char* p, size_t n, const char* what) {
  T x;
  if (!decode(p, n, x))
    return;
  auto once = encode(x);
  T y;
  check(decode(once.data(), once.size(), y),
        std::string{"a re-encoded "} + what + " decodes");
  auto twice = encode(y);
  check(once == twice, std::string{"a "} + what + " round-trips");
  auto text = caf::deep_to_string(x);
  check(!text.empty(), "it prints");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto p = reinterpret_cast<const char*>(data + 1);
  auto n = size - 1;
  switch (data[0] % 16) {
    case 0: {
      caf::message msg;
      if (!decode(p, n, msg))
        break;
      auto once = encode(msg);
      caf::message again;
      check(decode(once.data(), once.size(), again),
            "a re-encoded message decodes");
      check(encode(again) == once, "a message round-trips");
      check(!to_string(msg).empty(), "a message prints");
      break;
    }
    case 1:
      round_trip<request_vote_request>(p, n, "request_vote_request");
      break;
    case 2:
      round_trip<request_vote_response>(p, n, "request_vote_response");
      break;
    case 3:
      round_trip<append_entries_request>(p, n, "append_entries_request");
      break;
    case 4:
      round_trip<append_entries_response>(p, n, "append_entries_response");
      break;
    case 5:
      round_trip<install_snapshot_request>(p, n, "install_snapshot_request");
      break;
    case 6:
      round_trip<install_snapshot_response>(p, n,
                                            "install_snapshot_response");
      break;
    case 7:
      round_trip<append_reply>(p, n, "append_reply");
      break;
    case 8:
      round_trip<member_status>(p, n, "member_status");
      break;
    case 9:
      round_trip<payload>(p, n, "payload");
      break;
    case 13:
      round_trip<remote::payload_vector>(p, n, "payload_vector");
      break;
    case 14:
      round_trip<remote::outcome_vector>(p, n, "outcome_vector");
      break;
    default:
      round_trip<entry_vector>(p, n, "entry_vector");
  }
  return 0;
}
