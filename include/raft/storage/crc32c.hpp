// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the
// checksum of every record, header and snapshot on disk. Table-driven
// (slicing-by-8) everywhere; the SSE4.2 `crc32` instruction where the CPU has
// it (checked once at run time). Both give the same values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace raft {

/// CRC-32C of `n` bytes at `data`, continuing from `crc` (0 to start), so that
/// `crc32c(b, nb, crc32c(a, na)) == crc32c(a + b)`.
/// Known value: crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

/// The same, always computed with the portable slicing-by-8 tables.
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc = 0);

/// True if crc32c() uses the SSE4.2 instruction on this machine.
bool crc32c_hardware();

} // namespace raft
