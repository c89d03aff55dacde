/* bytecode.h - the compiled-program file format (.pbc): constants, writer, reader, checksum.
 *
 * The byte layout is specified in docs/bytecode.md; this header holds its numbers. In short:
 * a 32-byte header (magic, format version, flags, total length, CRC-32C of everything after the
 * header, section count) followed by BC_SECTION_COUNT sections in ascending id order, each a
 * (id u32, length u32) pair and `length` bytes of payload. Everything is little-endian; records
 * are packed (no alignment padding) and every reserved byte is zero.
 *
 * Versioning: any change to the layout bumps BC_FORMAT_VERSION. A reader rejects a newer version
 * with PERK_VERSION before looking at anything else, so version 1 has no "unknown but skippable"
 * sections: an unknown section id in a version-1 file is PERK_MALFORMED.
 */
#ifndef PERK_BYTECODE_H
#define PERK_BYTECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perk.h"
#include "program.h"

/* 0x89 is not ASCII (catches 7-bit transfers), "\r\n" catches line-ending conversion, 0x1A stops
 * `type` on Windows. */
#define BC_MAGIC "\x89PERK\r\n\x1a"
#define BC_MAGIC_LEN 8
#define BC_FORMAT_VERSION 2u
#define BC_HEADER_SIZE 32u
#define BC_SECTION_HEADER_SIZE 8u

/* Header field offsets. */
enum {
    BC_OFF_MAGIC = 0,     /* 8 bytes */
    BC_OFF_VERSION = 8,   /* u32 */
    BC_OFF_FLAGS = 12,    /* u32, must be 0 in version 1 */
    BC_OFF_LENGTH = 16,   /* u64: the whole file, header included */
    BC_OFF_CHECKSUM = 24, /* u32: CRC-32C of bytes [BC_HEADER_SIZE, length) */
    BC_OFF_SECTIONS = 28  /* u32: number of sections, BC_SECTION_COUNT in version 1 */
};

/* Section ids, in the order they must appear. BC_SECTION(NAME, id, "name in messages") */
/* clang-format off: a table, aligned by hand */
#define BC_SECTION_LIST(X)     \
    X(META, 1, "meta")         \
    X(TIMEZONE, 2, "timezone") \
    X(STRINGS, 3, "strings")   \
    X(INTS, 4, "ints")         \
    X(STRSETS, 5, "strsets")   \
    X(ATTRS, 6, "attrs")       \
    X(U32, 7, "u32")           \
    X(CODE, 8, "code")         \
    X(CONDS, 9, "conds")       \
    X(ACTIONS, 10, "actions")  \
    X(STEPS, 11, "steps")      \
    X(RULES, 12, "rules")      \
    X(EARNS, 13, "earns")      \
    X(MULTS, 14, "mults")      \
    X(REDEEM, 15, "redeem")    \
    X(TIERS, 16, "tiers")
/* clang-format on */

typedef enum bc_section_id {
#define BC_SECTION_ENUM(name, id, text) BC_SEC_##name = id,
    BC_SECTION_LIST(BC_SECTION_ENUM)
#undef BC_SECTION_ENUM
} bc_section_id;

#define BC_SECTION_COUNT 16u

/* On-disk record sizes (bytes). */
enum {
    BC_META_SIZE = 40,
    BC_TZ_TRANSITION_SIZE = 12,
    BC_INSN_SIZE = 8,
    BC_COND_SIZE = 24,
    BC_ACTION_SIZE = 60,
    BC_STEP_SIZE = 20,
    BC_RULE_SIZE = 100,
    BC_EARN_SIZE = 60,
    BC_MULT_SIZE = 60,
    BC_REDEEM_SIZE = 56,
    BC_TIER_SIZE = 32
};

/* Sane maxima the reader enforces before allocating anything (PERK_MALFORMED beyond them). */
#define BC_MAX_FILE_SIZE (256u * 1024u * 1024u) /* also perk_program_load_file's limit */
#define BC_MAX_COUNT (1u << 24)                 /* entries in any one table or pool */
#define BC_MAX_STRING_BYTES (1u << 27)          /* the string blob */
#define BC_MAX_TZ_TRANSITIONS 100000u

/* Serializes `p` (which should be verified; only what is needed to write it safely is checked).
 * On success *out holds *len bytes allocated with perk_mem_alloc (free with perk_mem_free).
 * Deterministic: the same prog_data always gives the same bytes. On failure returns false and
 * writes a message into err (errlen bytes, may be 0). */
bool bytecode_write(const prog_data *p, uint8_t **out, size_t *len, char *err, size_t errlen);

/* Parses `len` bytes into *out, treating them as hostile: magic, version, length, checksum and
 * every count and offset are checked before use. On success *out owns arrays allocated with
 * perk_mem_* (free with prog_data_free); on failure *out is zeroed, err (may be NULL) says what
 * is wrong, and the status is one of BAD_MAGIC, VERSION, TRUNCATED, CHECKSUM, MALFORMED, NOMEM.
 * The result is only parsed, not verified: run verify_program (verify.h) before using it. */
perk_status bytecode_read(const uint8_t *bytes, size_t len, prog_data *out, perk_error *err);

/* CRC-32C (Castagnoli, reflected, initial and final XOR 0xFFFFFFFF) of `len` bytes: the CPU's
 * crc32 instruction where it has one (SSE4.2, checked at run time), else the portable code. */
uint32_t bytecode_crc32c(const uint8_t *data, size_t len);
/* The two implementations behind it, for tests: the portable one (slice-by-8 tables), and the
 * hardware one, which returns false and leaves *out alone when this CPU or build has none. */
uint32_t bytecode_crc32c_portable(const uint8_t *data, size_t len);
bool bytecode_crc32c_hw(const uint8_t *data, size_t len, uint32_t *out);

/* Recomputes the checksum field of a serialized program in place (len >= BC_HEADER_SIZE).
 * Tools and tests that patch bytes use it to produce a file whose checksum is right. */
void bytecode_seal(uint8_t *bytes, size_t len);

/* True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points beyond
 * U+10FFFF). */
bool bytecode_utf8_valid(const uint8_t *s, size_t n);

#endif
