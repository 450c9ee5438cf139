/* Target dir_state_parse: the strict reader of the persistent client's
 * contact values (docs/directory-format.md, "Client state file"), which a
 * client reads from its state file at start.
 *
 * Input: one byte picking the key (a handle of the universe, or one not in
 * normal form), then the value. Any input: OK or IO (a corrupt file), and
 * on IO the output is all zero. When it decodes: the key is a handle in
 * normal form, the list (if any) is of that handle with a version at most
 * the stored global epoch, a pinned key exactly when there is a list, and
 * encoding the result gives the identical bytes (canonical form). Seeds
 * are real contact values over genuinely signed lists (gen_corpus). */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "fuzz_common.h"
#include "imcore/util.h"

static const char *const BAD_KEY = "Alice@example.org";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t klen = 0;
    const uint8_t *key = data[0] < FUZZ_DIR_HANDLES ? fuzz_dir_handle(data[0], &klen)
                                                    : (const uint8_t *)BAD_KEY;
    if (data[0] >= FUZZ_DIR_HANDLES)
        klen = strlen(BAD_KEY);
    static imc_dir_contact c;
    memset(&c, 0xa5, sizeof c);
    imc_status st = imc_dir_decode_contact(&c, key, klen, data + 1, size - 1);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_IO, "decode_contact returned %s", imc_status_str(st));
        FUZZ_CHECK(imc_ct_is_zero((const uint8_t *)&c, sizeof c), "refused value left output");
        fuzz_count("dirstate.refused");
        return 0;
    }
    fuzz_count(c.rec.epoch != 0 ? "dirstate.ok-account" : "dirstate.ok-none");
    FUZZ_CHECK(imc_dir_handle_valid(key, klen), "accepted a key not in normal form");
    FUZZ_CHECK(c.rec.handle_len == klen && memcmp(c.rec.handle, key, klen) == 0,
               "the record is of another handle");
    FUZZ_CHECK(c.rec.epoch <= c.global_epoch, "list version above the global epoch");
    FUZZ_CHECK((c.rec.epoch == 0) == imc_ct_is_zero(c.pinned, sizeof c.pinned),
               "a pinned key without a list, or a list without one");
    uint8_t *out = malloc(IMC_DIR_CONTACT_MAX_BYTES);
    FUZZ_CHECK(out != NULL, "out of memory");
    size_t n = 0;
    st = imc_dir_encode_contact(out, IMC_DIR_CONTACT_MAX_BYTES, &n, &c);
    if (st != IMC_OK || n != size - 1 || memcmp(out, data + 1, n) != 0) {
        fuzz_hexdump("input", data + 1, size - 1);
        fuzz_hexdump("re-encoded", out, n);
        FUZZ_CHECK(0, "contact value is not canonical (%s)", imc_status_str(st));
    }
    free(out);
    return 0;
}
