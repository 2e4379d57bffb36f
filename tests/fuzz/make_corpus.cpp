// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/):
// valid inputs made with the project's own encoders, so the fuzzers start
// from the formats rather than from noise. Run it again after a format
// change and commit the result:
//
//   cmake --build build --target fuzz_make_corpus
//   build/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/message.hpp"

#include "raft/member.hpp"
#include "raft/messages.hpp"
#include "raft/storage/crc32c.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"
#include "raft/wire/frame.hpp"
#include "raft/wire/messages.hpp"

#include "disk_format.hpp"
#include "record_codec.hpp"
#include "remote_protocol.hpp"
#include "test_cluster.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string root;

void put(const std::string& target, const std::string& name,
         const std::string& bytes) {
  auto dir = root + "/" + target;
  fs::create_directories(dir);
  std::ofstream out{dir + "/" + name, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string str(const std::vector<char>& x) {
  return std::string{x.begin(), x.end()};
}

std::string u16(size_t x) {
  return std::string{static_cast<char>(x & 0xff),
                     static_cast<char>((x >> 8) & 0xff)};
}

template <class T>
std::string encode(caf::actor_system& sys, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(x))
    raft::fuzz::fail("cannot encode: " + sys.render(err));
  return str(buf);
}

log_entry entry(term_t term, index_t index, std::string cmd) {
  log_entry e;
  e.term = term;
  e.index = index;
  e.data = payload{std::move(cmd)};
  return e;
}

/// A joint configuration with a learner (issue 12).
cluster_configuration joint_configuration() {
  cluster_configuration c;
  c.voters = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7004"};
  c.learners = {"127.0.0.1:7005"};
  c.old_voters = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  return c;
}

log_entry configuration_entry(term_t term, index_t index) {
  log_entry e;
  e.term = term;
  e.index = index;
  e.kind = entry_kind::configuration;
  e.data = encode_configuration(joint_configuration());
  return e;
}

// -- storage ------------------------------------------------------------------

void record_codec() {
  detail::entry_encoder enc;
  std::vector<char> seg = detail::encode_segment_header(1, 0, enc.prototype());
  for (index_t i = 1; i <= 3; ++i) {
    auto pos = detail::begin_frame(seg);
    enc.encode(entry(1 + i / 2, i, "put k v" + std::to_string(i)), seg);
    detail::seal_frame(seg, pos);
  }
  put("record_codec", "segment", std::string(1, '\0') + str(seg));
  std::vector<char> rec;
  enc.encode(entry(3, 7, "cas k a b"), rec);
  put("record_codec", "record", std::string(1, '\1') + str(rec));
  detail::metadata_record m;
  m.state.current_term = 5;
  m.state.voted_for = "127.0.0.1:7002";
  m.base = snapshot_meta{4, 2};
  m.generation = 1;
  auto archive = detail::encode_metadata(m);
  put("record_codec", "metadata_file",
      std::string(1, '\2') + str(detail::encode_metadata_file(archive)));
  put("record_codec", "metadata_archive", std::string(1, '\3') + str(archive));
  // Issue 12: a configuration entry, a metadata file with a bootstrap.
  rec.clear();
  enc.encode(configuration_entry(3, 8), rec);
  put("record_codec", "record_configuration", std::string(1, '\1') + str(rec));
  put("record_codec", "metadata_file_bootstrap",
      std::string(1, '\2')
        + str(detail::encode_metadata_file(
          archive, encode_configuration(joint_configuration()).bytes())));
}

/// Packs a directory's files as file_storage_fuzz reads them.
std::string pack(const std::string& dir) {
  std::string out;
  for (auto& f : fs::directory_iterator{dir}) {
    auto name = f.path().filename().string();
    uint8_t code;
    if (name == "metadata")
      code = 0;
    else if (name == "log-00000000000000000001")
      code = 2;
    else if (name == "log-00000000000000000002")
      code = 3;
    else if (name == "log-00000000000000000003")
      code = 4;
    else if (name == "log-00000000000000000005")
      code = 5;
    else if (name == "log-00000000000000000011")
      code = 6;
    else
      continue;
    std::ifstream in{f.path(), std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>{in},
                      std::istreambuf_iterator<char>{}};
    if (bytes.size() > 0xffff)
      raft::fuzz::fail("corpus file too large: " + name);
    out += static_cast<char>(code) + u16(bytes.size()) + bytes;
  }
  return out;
}

void file_storage_corpus() {
  file_storage_options opts;
  opts.sync = false;
  {
    raft::fuzz::temp_dir dir;
    file_storage st{dir.path(), opts};
    st.load();
    write_batch b;
    b.has_state = true;
    b.state.current_term = 2;
    b.state.voted_for = "127.0.0.1:7001";
    b.entries = {entry(1, 1, "put a 1"), entry(2, 2, "put b 2")};
    st.write(b);
    put("file_storage", "one_segment", pack(dir.path()));
  }
  {
    raft::fuzz::temp_dir dir;
    opts.segment_bytes = 100;
    file_storage st{dir.path(), opts};
    st.load();
    write_batch b;
    b.has_state = true;
    b.state.current_term = 3;
    b.entries = {entry(1, 1, "put a 1"), entry(1, 2, "put b 2")};
    st.write(b);
    b = write_batch{};
    b.entries = {entry(2, 3, "del a"), entry(3, 4, "cas b 2 3")};
    st.write(b);
    b = write_batch{};
    b.truncate_from = 4;
    b.entries = {entry(3, 4, "put c 4"), entry(3, 5, "put d 5")};
    st.write(b);
    st.compact(snapshot_meta{2, 1});
    put("file_storage", "segments_compacted", pack(dir.path()));
  }
  {
    // Issue 12: a bootstrap configuration and a configuration entry.
    raft::fuzz::temp_dir dir;
    opts.segment_bytes = 8 * 1024 * 1024;
    file_storage st{dir.path(), opts};
    st.load();
    write_batch b;
    b.has_state = true;
    b.state.current_term = 2;
    b.bootstrap = joint_configuration();
    b.entries = {entry(1, 1, "put a 1"), configuration_entry(2, 2)};
    st.write(b);
    put("file_storage", "bootstrap_and_configuration_entry",
        pack(dir.path()));
  }
}

void snapshot_corpus() {
  raft::fuzz::temp_dir dir;
  snapshot_store_options opts;
  opts.sync = false;
  snapshot_store st{dir.path(), opts};
  snapshot_meta meta{5, 2};
  auto path = st.begin(meta);
  std::string data = "2\na 1\nb 2\n";
  {
    std::ofstream out{*path, std::ios::binary};
    out << data;
  }
  // Issue 12: the sidecar (format version 2) carries a configuration.
  auto info = st.commit(meta, joint_configuration());
  if (!info)
    raft::fuzz::fail("snapshot commit failed");
  std::ifstream in{path->substr(0, path->size() - 4) + ".meta",
                   std::ios::binary};
  std::string sidecar;
  for (auto& f : fs::directory_iterator{dir.path()})
    if (f.path().extension() == ".meta") {
      std::ifstream m{f.path(), std::ios::binary};
      sidecar.assign(std::istreambuf_iterator<char>{m},
                     std::istreambuf_iterator<char>{});
    }
  put("snapshot", "on_disk", std::string(1, '\0') + u16(sidecar.size())
                               + sidecar + data);
  // Received in three chunks, then the sender's size and crc (both given
  // as "the right ones": selector bytes 0).
  std::string chunks;
  for (auto part : {std::string{"2\na"}, std::string{" 1\nb"},
                    std::string{" 2\n"}})
    chunks += std::string(1, '\0') + u16(part.size()) + part;
  put("snapshot", "received", std::string(1, '\1') + chunks
                                + std::string(2, '\0'));
}

// -- messages -------------------------------------------------------------------

void messages_corpus(caf::actor_system& sys) {
  auto one = [&](const std::string& name, uint8_t type,
                 const std::string& bytes) {
    put("messages", name, std::string(1, static_cast<char>(type)) + bytes);
  };
  append_entries_request ae;
  ae.term = 3;
  ae.leader_id = "127.0.0.1:7001";
  ae.prev_log_index = 4;
  ae.prev_log_term = 2;
  ae.entries = {entry(3, 5, "put k v"), entry(3, 6, "get k")};
  ae.leader_commit = 4;
  one("message", 0, encode(sys, caf::make_message(ae)));
  one("request_vote_request", 1,
      encode(sys, request_vote_request{4, "127.0.0.1:7002", 6, 3}));
  request_vote_response rv;
  rv.term = 4;
  rv.from = "127.0.0.1:7003";
  rv.vote_granted = true;
  one("request_vote_response", 2, encode(sys, rv));
  one("append_entries_request", 3, encode(sys, ae));
  append_entries_response ar;
  ar.term = 3;
  ar.from = "127.0.0.1:7002";
  ar.success = true;
  ar.match_index = 6;
  one("append_entries_response", 4, encode(sys, ar));
  install_snapshot_request is;
  is.term = 3;
  is.leader_id = "127.0.0.1:7001";
  is.last_included_index = 5;
  is.last_included_term = 2;
  is.data = "2\na 1\nb 2\n";
  is.done = true;
  is.size = is.data.size();
  is.crc = crc32c(is.data.data(), is.data.size());
  one("install_snapshot_request", 5, encode(sys, is));
  is.configuration = joint_configuration();
  one("install_snapshot_request_configuration", 5, encode(sys, is));
  install_snapshot_response isr;
  isr.term = 3;
  isr.from = "127.0.0.1:7002";
  isr.last_included_index = 5;
  isr.next_offset = 10;
  one("install_snapshot_response", 6, encode(sys, isr));
  one("append_reply", 7, encode(sys, append_reply{6, "v", ""}));
  member_status ms;
  ms.id = "127.0.0.1:7001";
  ms.role = role::leader;
  ms.term = 3;
  ms.leader = ms.id;
  ms.commit_index = 6;
  ms.last_applied = 6;
  ms.last_log_index = 6;
  ms.members = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  one("member_status", 8, encode(sys, ms));
  one("payload", 9, encode(sys, payload{"put k v"}));
  one("payload_vector", 13,
      encode(sys, remote::payload_vector{payload{"put a 1"}, payload{"get a"}}));
  remote::append_outcome oc;
  oc.reply = append_reply{3, "ok", ""};
  one("outcome_vector", 14, encode(sys, remote::outcome_vector{oc}));
  one("entry_vector", 15, encode(sys, ae.entries));
  ae.entries.push_back(configuration_entry(3, 7));
  one("entry_vector_configuration", 15, encode(sys, ae.entries));
}

// -- live members -----------------------------------------------------------------

void member_corpus() {
  // The same start as member_fuzz: learn who leads, in which term, and the
  // log, to make messages a member takes seriously.
  test::test_cluster c{3, 1};
  c.start_all();
  auto l = c.await_leader(2s);
  if (!l)
    raft::fuzz::fail("no leader");
  c.append(*l, test::put_cmd("a", "1"), 1s);
  c.append(*l, test::put_cmd("b", "2"), 1s);
  auto& sys = *c.sys;
  auto& st = c.state(*l);
  auto term = st.persistent.current_term;
  auto last = st.log.last_index();
  auto last_term = st.log.last_term();
  auto leader = c.ids[*l];
  auto f = static_cast<uint8_t>((*l + 1) % 3);
  auto g = static_cast<uint8_t>((*l + 2) % 3);
  auto rec = [&](uint8_t target, uint8_t type, const std::string& bytes) {
    return std::string{static_cast<char>(target), static_cast<char>(type)}
           + u16(bytes.size()) + bytes;
  };
  append_entries_request hb;
  hb.term = term;
  hb.leader_id = leader;
  hb.prev_log_index = last;
  hb.prev_log_term = last_term;
  hb.leader_commit = last;
  put("member", "heartbeat", rec(f, 0, encode(sys, hb)));
  auto more = hb;
  more.entries = {entry(term, last + 1, "put c 3"),
                  entry(term, last + 2, "del a")};
  put("member", "new_entries",
      rec(f, 0, encode(sys, more)) + rec(g, 0, encode(sys, more)));
  auto conflict = hb;
  conflict.term = term + 1;
  conflict.prev_log_index = last - 1;
  conflict.prev_log_term = st.log.term_at(last - 1).value_or(0);
  conflict.entries = {entry(term + 1, last, "put x 9")};
  conflict.leader_commit = last - 1;
  put("member", "conflict", rec(f, 0, encode(sys, conflict)));
  put("member", "vote",
      rec(static_cast<uint8_t>(*l), 1,
          encode(sys, request_vote_request{term + 1, c.ids[f], last + 5,
                                           term})));
  append_entries_response ar;
  ar.term = term;
  ar.from = c.ids[f];
  ar.success = true;
  ar.match_index = last;
  put("member", "ack", rec(static_cast<uint8_t>(*l), 2, encode(sys, ar)));
  request_vote_response rv;
  rv.term = term + 2;
  rv.from = c.ids[g];
  rv.vote_granted = true;
  put("member", "granted", rec(f, 3, encode(sys, rv)));
  install_snapshot_request is;
  is.term = term;
  is.leader_id = leader;
  is.last_included_index = last + 3;
  is.last_included_term = term;
  is.data = "3\na 1\nb 2\nc 3\n";
  is.done = true;
  is.size = is.data.size();
  is.crc = crc32c(is.data.data(), is.data.size());
  put("member", "install_snapshot", rec(f, 4, encode(sys, is)));
  install_snapshot_response isr;
  isr.term = term;
  isr.from = c.ids[f];
  isr.last_included_index = last;
  isr.next_offset = 3;
  put("member", "snapshot_ack",
      rec(static_cast<uint8_t>(*l), 5, encode(sys, isr)));
  put("member", "message", rec(f, 6, encode(sys, caf::make_message(more))));
}


// -- the wire (docs/wire.md) -------------------------------------------------------

void wire_corpus() {
  const std::string a = "127.0.0.1:7001", b = "127.0.0.1:7002";
  // One whole frame of each payload type, made with the encoders.
  std::vector<std::pair<std::string, std::string>> frames; // name, frame
  auto add = [&](const std::string& name, const auto& x) {
    std::string f;
    wire::encode(f, x);
    frames.emplace_back(name, f);
  };
  wire::hello h;
  h.identity = a;
  h.kind = wire::peer_kind::member;
  h.target = b;
  add("hello", h);
  wire::welcome w;
  w.identity = b;
  add("welcome", w);
  wire::refuse rf;
  rf.code = wire::refuse_code::access_denied;
  rf.text = "'x' is not in the access list";
  add("refuse", rf);
  request_vote_request rv;
  rv.term = 7;
  rv.candidate_id = a;
  rv.last_log_index = 12;
  rv.last_log_term = 6;
  add("request_vote_request", rv);
  request_vote_response rvr;
  rvr.term = 7;
  rvr.from = b;
  rvr.vote_granted = true;
  add("request_vote_response", rvr);
  append_entries_request ae;
  ae.term = 3;
  ae.leader_id = a;
  ae.prev_log_index = 4;
  ae.prev_log_term = 2;
  ae.entries = {entry(3, 5, "put k v"), entry(3, 6, "get k")};
  ae.entries[1].kind = entry_kind::noop;
  ae.leader_commit = 4;
  ae.read_round = 9;
  add("append_entries_request", ae);
  append_entries_response aer;
  aer.term = 3;
  aer.from = b;
  aer.success = true;
  aer.match_index = 6;
  add("append_entries_response", aer);
  install_snapshot_request is;
  is.term = 3;
  is.leader_id = a;
  is.last_included_index = 100;
  is.last_included_term = 2;
  is.data = "snapshot bytes";
  is.done = true;
  is.size = 14;
  is.crc = 0x12345678;
  is.configuration = joint_configuration();
  add("install_snapshot_request", is);
  install_snapshot_response isr;
  isr.term = 3;
  isr.from = b;
  isr.last_included_index = 100;
  isr.next_offset = 14;
  isr.done = true;
  add("install_snapshot_response", isr);
  wire::client_request cr;
  cr.id = 42;
  cr.op = wire::client_op::append;
  cr.commands = {payload{"put k v"}, payload{"put k2 v2"}};
  add("client_request", cr);
  wire::client_reply rep;
  rep.id = 42;
  wire::client_outcome ok;
  ok.reply.index = 5;
  ok.reply.result = "v";
  wire::client_outcome bad;
  bad.error = make_error(errc::no_leader, b);
  rep.outcomes = {ok, bad};
  add("client_reply", rep);
  wire::status_reply st;
  st.id = 43;
  st.status.id = b;
  st.status.role = role::follower;
  st.status.term = 3;
  st.status.leader = a;
  st.status.commit_index = 6;
  st.status.last_applied = 6;
  st.status.last_log_index = 6;
  st.status.members = {a, b};
  add("status_reply", st);
  // wire_messages: the payload type (the target's own numbering), then the
  // payload without its header.
  const char* order[] = {"hello", "welcome", "refuse", "request_vote_request",
                         "request_vote_response", "append_entries_request",
                         "append_entries_response", "install_snapshot_request",
                         "install_snapshot_response", "client_request",
                         "client_reply", "status_reply"};
  for (uint8_t i = 0; i < 12; ++i)
    for (auto& [name, f] : frames)
      if (name == order[i])
        put("wire_messages", name,
            std::string(1, static_cast<char>(i)) + f.substr(wire::header_size));
  // Issue 12: a configuration entry (kind 2) among the entries.
  ae.entries.push_back(configuration_entry(3, 7));
  std::string with_configuration;
  wire::encode(with_configuration, ae);
  put("wire_messages", "append_entries_request_configuration",
      std::string(1, '\5') + with_configuration.substr(wire::header_size));
  // wire_frame: mode byte (limit, raise after the first frame), chunking
  // seed, then a stream as a peer would send it.
  auto stream = [&](const std::string& name, uint8_t mode, const std::string& bytes) {
    put("wire_frame", name, std::string{static_cast<char>(mode), '\x07'} + bytes);
  };
  auto frame = [&](const std::string& name) {
    for (auto& [n, f] : frames)
      if (n == name)
        return f;
    raft::fuzz::fail("no frame " + name);
  };
  std::string ping, pong;
  wire::encode_ping(ping);
  wire::encode_pong(pong);
  stream("hello_only", 0, frame("hello"));
  stream("member_session", 4,
         frame("hello") + frame("request_vote_request") + frame("append_entries_request")
           + ping + frame("install_snapshot_request") + frame("append_entries_response"));
  stream("client_session", 6, frame("hello") + frame("client_request") + pong);
  stream("listener_replies", 6,
         frame("welcome") + frame("client_reply") + frame("status_reply") + frame("refuse"));
  std::string huge(wire::header_size, '\0');
  wire::write_header(huge.data(), wire::frame_type::hello, 1u << 30);
  stream("announces_1gib", 0, huge + "abc");
  stream("partial_payload", 2, frame("append_entries_request").substr(0, 20));
  stream("bad_magic", 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
  auto bad_version = frame("hello");
  bad_version[1] = 2;
  stream("bad_version", 0, bad_version);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  root = argv[1];
  record_codec();
  file_storage_corpus();
  snapshot_corpus();
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    remote::add_remote_message_types(cfg);
    caf::actor_system sys{cfg};
    messages_corpus(sys);
  }
  member_corpus();
  wire_corpus();
  std::printf("corpus written to %s\n", root.c_str());
  return 0;
}
