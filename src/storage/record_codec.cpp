#include "record_codec.hpp"

#include <cstdint>
#include <stdexcept>
#include <streambuf>
#include <string>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/basic_archive.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/tracking.hpp>
#include <boost/serialization/version.hpp>

// -- Boost.Serialization of the stored types -------------------------------------
//
// Version 1 of each type is the first one. A later change bumps the version
// here and keeps the old branch in load(): files store the version they were
// written with (in each segment's prototype and in the metadata archive).

namespace raft::detail {
namespace {

/// The bytes left in the archive being decoded on this thread (null while
/// encoding). Boost resizes a string to the length its archive claims before
/// reading it; a damaged or crafted record claiming gigabytes would allocate
/// them first. Lengths are checked against this instead (same bytes on disk).
thread_local std::streambuf* decoding = nullptr;

size_t bytes_left() {
  return decoding ? static_cast<size_t>(decoding->in_avail()) : SIZE_MAX;
}

class decoding_scope {
public:
  explicit decoding_scope(std::streambuf& src) {
    decoding = &src;
  }
  ~decoding_scope() {
    decoding = nullptr;
  }
};

} // namespace
} // namespace raft::detail

namespace boost::serialization {

/// Loads a string as Boost writes it (a size_t length, then the bytes),
/// refusing a length longer than what is left of the record.
template <class Archive>
void load_bounded(Archive& ar, std::string& s) {
  std::size_t n = 0;
  ar >> n;
  if (n > raft::detail::bytes_left())
    throw std::runtime_error("string of " + std::to_string(n)
                             + " bytes is longer than the record");
  s.resize(n);
  if (n > 0)
    ar.load_binary(&s[0], n);
}

template <class Archive>
void save(Archive& ar, const raft::log_entry& x, unsigned) {
  auto kind = static_cast<uint8_t>(x.kind);
  ar << x.term << x.index << kind << x.data.bytes();
}

template <class Archive>
void load(Archive& ar, raft::log_entry& x, unsigned) {
  uint8_t kind = 0;
  std::string bytes;
  ar >> x.term >> x.index >> kind;
  load_bounded(ar, bytes);
  // Configuration entries (kind 2, issue 12) are stored like commands; their
  // payload is checked where it is used (decode_configuration).
  if (kind > static_cast<uint8_t>(raft::entry_kind::configuration))
    throw std::runtime_error("unknown entry kind " + std::to_string(kind));
  x.kind = static_cast<raft::entry_kind>(kind);
  x.data = raft::payload{std::move(bytes)};
}

template <class Archive>
void save(Archive& ar, const raft::hard_state& x, unsigned) {
  ar << x.current_term << x.voted_for;
}

template <class Archive>
void load(Archive& ar, raft::hard_state& x, unsigned) {
  ar >> x.current_term;
  load_bounded(ar, x.voted_for);
}

template <class Archive>
void serialize(Archive& ar, raft::snapshot_meta& x, unsigned) {
  ar& x.last_index& x.last_term;
}

template <class Archive>
void serialize(Archive& ar, raft::detail::metadata_record& x, unsigned) {
  ar& x.state& x.base& x.generation;
}

} // namespace boost::serialization

BOOST_SERIALIZATION_SPLIT_FREE(raft::log_entry)
BOOST_SERIALIZATION_SPLIT_FREE(raft::hard_state)
BOOST_CLASS_VERSION(raft::log_entry, 1)
BOOST_CLASS_VERSION(raft::hard_state, 1)
BOOST_CLASS_VERSION(raft::snapshot_meta, 1)
BOOST_CLASS_VERSION(raft::detail::metadata_record, 1)

// Values, never pointers: without tracking, an object written twice from the
// same address (the writer reuses its buffers) is written twice, not as a
// back-reference.
BOOST_CLASS_TRACKING(raft::log_entry, boost::serialization::track_never)
BOOST_CLASS_TRACKING(raft::hard_state, boost::serialization::track_never)
BOOST_CLASS_TRACKING(raft::snapshot_meta, boost::serialization::track_never)
BOOST_CLASS_TRACKING(raft::detail::metadata_record,
                     boost::serialization::track_never)

namespace raft::detail {

namespace {

// No archive header (the file headers carry magic and versions) and no
// locale codecvt (binary data; also saves allocations).
constexpr unsigned archive_flags = boost::archive::no_header
                                   | boost::archive::no_codecvt;

/// Appends everything written to a vector the caller chooses per call.
class vector_sink : public std::streambuf {
public:
  std::vector<char>* out = nullptr;

protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out->insert(out->end(), s, s + n);
    return n;
  }

  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      out->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
};

/// Reads from a byte range the caller sets per record.
class span_source : public std::streambuf {
public:
  void set(const char* data, size_t n) {
    auto p = const_cast<char*>(data);
    setg(p, p, p + n);
  }

  size_t remaining() const {
    return static_cast<size_t>(egptr() - gptr());
  }
};

} // namespace

uint16_t archive_library_version() {
  return static_cast<uint16_t>(boost::archive::BOOST_ARCHIVE_VERSION());
}

// -- entry_encoder --------------------------------------------------------------

struct entry_encoder::impl {
  vector_sink sink;
  boost::archive::binary_oarchive ar{sink, archive_flags};
};

entry_encoder::entry_encoder() : impl_(std::make_unique<impl>()) {
  // The first entry written to an archive carries the class information; it
  // becomes the prototype and every later one carries fields only.
  impl_->sink.out = &prototype_;
  const log_entry proto;
  impl_->ar << proto;
  impl_->sink.out = nullptr;
}

entry_encoder::~entry_encoder() {
  // nop
}

void entry_encoder::encode(const log_entry& x, std::vector<char>& out) {
  impl_->sink.out = &out;
  impl_->ar << x;
  impl_->sink.out = nullptr;
}

// -- entry_decoder --------------------------------------------------------------

struct entry_decoder::impl {
  span_source source;
  std::unique_ptr<boost::archive::binary_iarchive> ar;
};

entry_decoder::entry_decoder() : impl_(std::make_unique<impl>()) {
  // nop
}

entry_decoder::~entry_decoder() {
  // nop
}

bool entry_decoder::prime(const char* data, size_t n, std::string& err) {
  try {
    impl_->source.set(data, n);
    decoding_scope scope{impl_->source};
    impl_->ar = std::make_unique<boost::archive::binary_iarchive>(
      impl_->source, archive_flags);
    log_entry proto;
    *impl_->ar >> proto;
    if (impl_->source.remaining() != 0) {
      err = "archive prototype has " + std::to_string(impl_->source.remaining())
            + " trailing bytes";
      impl_->ar.reset();
      return false;
    }
    if (!(proto == log_entry{})) {
      err = "archive prototype is not a default entry";
      impl_->ar.reset();
      return false;
    }
    return true;
  } catch (std::exception& ex) {
    err = std::string{"undecodable archive prototype ("} + ex.what() + ")";
    impl_->ar.reset();
    return false;
  }
}

bool entry_decoder::decode(const char* data, size_t n, log_entry& out,
                           std::string& err) {
  if (!impl_->ar) {
    err = "decoder not primed";
    return false;
  }
  try {
    impl_->source.set(data, n);
    decoding_scope scope{impl_->source};
    *impl_->ar >> out;
    if (impl_->source.remaining() != 0) {
      err = "record payload has " + std::to_string(impl_->source.remaining())
            + " trailing bytes";
      return false;
    }
    return true;
  } catch (std::exception& ex) {
    err = std::string{"undecodable record payload ("} + ex.what() + ")";
    return false;
  }
}

// -- metadata -----------------------------------------------------------------------

std::vector<char> encode_metadata(const metadata_record& x) {
  std::vector<char> out;
  vector_sink sink;
  sink.out = &out;
  {
    boost::archive::binary_oarchive ar{sink, archive_flags};
    ar << x;
  }
  return out;
}

bool decode_metadata(const char* data, size_t n, metadata_record& out,
                     std::string& err) {
  try {
    span_source source;
    source.set(data, n);
    decoding_scope scope{source};
    boost::archive::binary_iarchive ar{source, archive_flags};
    ar >> out;
    if (source.remaining() != 0) {
      err = "metadata archive has " + std::to_string(source.remaining())
            + " trailing bytes";
      return false;
    }
    return true;
  } catch (std::exception& ex) {
    err = std::string{"undecodable metadata archive ("} + ex.what() + ")";
    return false;
  }
}

} // namespace raft::detail
