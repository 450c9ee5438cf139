/* The worked example of docs/wire-format.md, shared by the generator
 * (gen_wire_example) and the test that keeps the document honest
 * (test_wire_example). */
#ifndef IMCORE_TESTS_WIRE_EXAMPLE_H
#define IMCORE_TESTS_WIRE_EXAMPLE_H

#include <stddef.h>

#include "imcore/imcore.h"

#define IMC_WIRE_EXAMPLE_MAX 65536

/* Renders the example as Markdown into buf (NUL-terminated). Every value
 * is recomputed from the document's rules with imcore/crypto.h alone and
 * must equal what imc_msg_encrypt, imc_msg_fanout and imc_msg_decrypt
 * produce on backend b. Returns the length, or 0 (with a message on stderr)
 * on any mismatch or failure. */
size_t imc_wire_example_render(char *buf, size_t cap, const imc_backend *b);

#endif
