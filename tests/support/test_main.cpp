// Boost.Test's main() lives in each test binary (BOOST_TEST_MODULE); this
// file only keeps the support library non-empty when it has nothing else.
namespace raft::test {
void support_library_anchor() {
}
} // namespace raft::test
