/* Audit answers mutated and re-signed (fuzz_kt_forge.h). The writers and
 * the RFC 9162 root computation here follow docs/directory-format.md and
 * docs/transparency.md on their own; only the parsers and the hash
 * primitives are the library's. */
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_kt_forge.h"
#include "imcore/dirkt.h"
#include "imcore/wire.h"

#define MAX_ITEMS 16

typedef fuzz_prng prng;

static uint32_t next(prng *r) { return fuzz_prng_next(r); }

/* The answer being mutated, as its parts. */
typedef struct kt_audit {
    imc_kt_checkpoint cp;
    uint64_t from_size;
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len;
    uint64_t since, latest;
    size_t count;
    uint8_t leaf[MAX_ITEMS][IMC_DIR_KT_LEAF_MAX_BYTES];
    size_t leaf_len[MAX_ITEMS];
    imc_kt_log_proof incl[MAX_ITEMS];
    uint8_t index_value[IMC_KT_HASH_BYTES];
    uint8_t index_proof[IMC_KT_INDEX_PROOF_MAX_BYTES];
    size_t index_proof_len;
} kt_audit;

static kt_audit ka;
static const imc_backend *backend;
static uint8_t dir_pk[32], dir_sk[32];

static bool load(const uint8_t *data, size_t size)
{
    static imc_dir_kt_audit_response r;
    if (imc_dir_kt_parse_audit(&r, data, size) != IMC_OK || r.count > MAX_ITEMS)
        return false;
    ka.cp = r.head.cp;
    ka.from_size = r.head.from_size;
    memcpy(ka.handle, r.handle.bytes, r.handle.len);
    ka.handle_len = r.handle.len;
    ka.since = r.since;
    ka.latest = r.latest;
    ka.count = r.count;
    imc_reader rd;
    imc_wire_reader_init(&rd, r.items, r.items_len);
    for (size_t i = 0; i < r.count; i++) {
        size_t ll = imc_wire_read_u16(&rd);
        const uint8_t *leaf = imc_wire_read_bytes(&rd, ll);
        size_t pl = imc_wire_read_u16(&rd);
        const uint8_t *proof = imc_wire_read_bytes(&rd, pl);
        if (rd.err || ll > sizeof ka.leaf[i] ||
            imc_kt_log_proof_parse(&ka.incl[i], proof, pl) != IMC_OK)
            return false;
        memcpy(ka.leaf[i], leaf, ll);
        ka.leaf_len[i] = ll;
    }
    memcpy(ka.index_value, r.index_value, sizeof ka.index_value);
    if (r.index_proof_len > sizeof ka.index_proof)
        return false;
    memcpy(ka.index_proof, r.index_proof, r.index_proof_len);
    ka.index_proof_len = r.index_proof_len;
    return true;
}

static void leaf_hash(uint8_t out[IMC_KT_HASH_BYTES], size_t i)
{
    imc_status st = imc_kt_leaf_hash(backend, out, ka.leaf[i], ka.leaf_len[i]);
    FUZZ_CHECK(st == IMC_OK, "leaf hash: %s", imc_status_str(st));
}

/* The root that item i's inclusion proof gives its leaf (RFC 9162
 * 2.1.3.2); false if the path does not fit the index and size. */
static bool implied_root(uint8_t root[IMC_KT_HASH_BYTES], size_t i)
{
    const imc_kt_log_proof *p = &ka.incl[i];
    if (p->a >= p->b)
        return false;
    uint64_t fn = p->a, sn = p->b - 1;
    uint8_t r[IMC_KT_HASH_BYTES];
    leaf_hash(r, i);
    for (size_t k = 0; k < p->count; k++) {
        if (sn == 0)
            return false;
        imc_status st;
        if ((fn & 1) || fn == sn) {
            st = imc_kt_node_hash(backend, r, p->path[k], r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            st = imc_kt_node_hash(backend, r, r, p->path[k]);
        }
        FUZZ_CHECK(st == IMC_OK, "node hash: %s", imc_status_str(st));
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return false;
    memcpy(root, r, sizeof r);
    return true;
}

static void swap_items(size_t i, size_t j)
{
    static uint8_t leaf[IMC_DIR_KT_LEAF_MAX_BYTES];
    static imc_kt_log_proof p;
    size_t l = ka.leaf_len[i];
    memcpy(leaf, ka.leaf[i], l);
    p = ka.incl[i];
    memcpy(ka.leaf[i], ka.leaf[j], ka.leaf_len[j]);
    ka.leaf_len[i] = ka.leaf_len[j];
    ka.incl[i] = ka.incl[j];
    memcpy(ka.leaf[j], leaf, l);
    ka.leaf_len[j] = l;
    ka.incl[j] = p;
}

static void drop_item(size_t i)
{
    for (size_t k = i; k + 1 < ka.count; k++)
        swap_items(k, k + 1);
    ka.count--;
}

static uint64_t nudge(prng *r, uint64_t v)
{
    switch (next(r) % 4) {
    case 0: return v + 1;
    case 1: return v > 0 ? v - 1 : 0;
    case 2: return v + 2 + next(r) % 8;
    default: return v ^ (UINT64_C(1) << (next(r) % 8));
    }
}

/* One field of leaf i changed, the leaf written again. */
static void edit_leaf(prng *r, size_t i)
{
    imc_dir_kt_leaf l;
    if (imc_dir_kt_leaf_parse(&l, ka.leaf[i], ka.leaf_len[i]) != IMC_OK)
        return;
    switch (next(r) % 5) {
    case 0: l.version = nudge(r, l.version); break;
    case 1: /* chained to another leaf, or to none */
        if (ka.count > 1 && next(r) % 2 == 0)
            leaf_hash(l.prev_leaf, (i + 1 + next(r) % (ka.count - 1)) % ka.count);
        else
            l.prev_leaf[next(r) % sizeof l.prev_leaf] ^= (uint8_t)(1u << (next(r) % 8));
        break;
    case 2: { /* another handle of the fixed world */
        size_t hl = 0;
        const uint8_t *h = fuzz_dir_handle(next(r) % FUZZ_DIR_HANDLES, &hl);
        memcpy(l.handle, h, hl);
        l.handle_len = hl;
        break;
    }
    case 3: l.account_pk[next(r) % sizeof l.account_pk] ^= 1; break;
    default: l.list_hash[next(r) % sizeof l.list_hash] ^= 1; break;
    }
    size_t n = 0;
    if (imc_dir_kt_leaf_encode(ka.leaf[i], sizeof ka.leaf[i], &n, &l) == IMC_OK)
        ka.leaf_len[i] = n;
}

static void mutate(prng *r)
{
    size_t i = ka.count != 0 ? next(r) % ka.count : 0;
    switch (next(r) % 9) {
    case 0:
        if (ka.count != 0)
            drop_item(i);
        break;
    case 1:
        if (ka.count > 1)
            swap_items(i, (i + 1 + next(r) % (ka.count - 1)) % ka.count);
        break;
    case 2: /* an item twice */
        if (ka.count != 0 && ka.count < MAX_ITEMS) {
            memcpy(ka.leaf[ka.count], ka.leaf[i], ka.leaf_len[i]);
            ka.leaf_len[ka.count] = ka.leaf_len[i];
            ka.incl[ka.count] = ka.incl[i];
            ka.count++;
            swap_items(i + 1, ka.count - 1);
        }
        break;
    case 3: ka.since = nudge(r, ka.since); break;
    case 4: ka.latest = nudge(r, ka.latest); break;
    case 5: /* a leaf changed and the checkpoint's root made the one its
             * inclusion proof now gives: past the inclusion check */
        if (ka.count != 0) {
            edit_leaf(r, i);
            uint8_t root[IMC_KT_HASH_BYTES];
            if (implied_root(root, i))
                memcpy(ka.cp.root, root, sizeof root);
        }
        break;
    case 6: /* the checkpoint */
        switch (next(r) % 4) {
        case 0: ka.cp.size = nudge(r, ka.cp.size); break;
        case 1: ka.cp.epoch = nudge(r, ka.cp.epoch); break;
        case 2: ka.cp.index_root[next(r) % sizeof ka.cp.index_root] ^= 1; break;
        default: ka.cp.root[next(r) % sizeof ka.cp.root] ^= 1; break;
        }
        break;
    case 7: /* the index value: another leaf's hash, or a bit off */
        if (ka.count != 0 && next(r) % 2 == 0)
            leaf_hash(ka.index_value, i);
        else
            ka.index_value[next(r) % sizeof ka.index_value] ^= 1;
        break;
    default: /* the inclusion proof of item i: index or path */
        if (ka.count != 0) {
            if (next(r) % 2 == 0 && ka.incl[i].a + 1 < ka.incl[i].b)
                ka.incl[i].a++;
            else if (ka.incl[i].count != 0)
                ka.incl[i].path[next(r) % ka.incl[i].count][next(r) % IMC_KT_HASH_BYTES] ^= 1;
        }
        break;
    }
}

/* The counts the format ties together (usually kept): an answer that
 * reaches latest, or an empty one past it. */
static void tidy(void)
{
    if (ka.since == 0)
        ka.since = 1;
    if (ka.count != 0)
        ka.latest = ka.since + ka.count - 1;
    else if (ka.latest >= ka.since)
        ka.latest = ka.since - 1;
    if (ka.from_size > ka.cp.size)
        ka.from_size = ka.cp.size;
}

/* The answer written again, its checkpoint signed by the fixed directory
 * key (the log key) unless `stale`, with a consistency proof from
 * from_size that fits the checkpoint's size (empty: a fresh client needs
 * none; a held one is refused it, which is what a fork looks like). */
static size_t write_audit(uint8_t *out, size_t cap, bool stale, const uint8_t *old_note,
                          size_t old_note_len)
{
    static char note[IMC_KT_MAX_NOTE_BYTES];
    static uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES], buf[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t tl = 0, sl = 0, pl = 0, nl;
    imc_status st = imc_kt_checkpoint_text(note, sizeof note, &tl, &ka.cp);
    if (st != IMC_OK)
        return 0;
    if (stale) {
        if (old_note_len > sizeof note)
            return 0;
        memcpy(note, old_note, old_note_len);
        nl = old_note_len;
    } else {
        imc_kt_key k;
        note[tl] = '\n';
        st = imc_kt_key_init(&k, backend, ka.cp.origin, IMC_KT_SIG_ED25519, dir_pk);
        if (st == IMC_OK)
            st = imc_kt_note_sign(note + tl + 1, sizeof note - tl - 1, &sl, backend, &k, dir_sk,
                                  (const uint8_t *)note, tl);
        if (st != IMC_OK)
            return 0;
        nl = tl + 1 + sl;
    }
    imc_kt_log_proof cons;
    memset(&cons, 0, sizeof cons);
    cons.kind = IMC_KT_PROOF_CONSISTENCY;
    cons.a = cons.b = ka.cp.size;
    if (imc_kt_log_proof_encode(proof, sizeof proof, &pl, &cons) != IMC_OK)
        return 0;
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_KT_AUDIT_RESP);
    imc_wire_write_u16(&w, (uint16_t)nl);
    imc_wire_write_bytes(&w, (const uint8_t *)note, nl);
    imc_wire_write_u16(&w, (uint16_t)pl);
    imc_wire_write_bytes(&w, proof, pl);
    imc_wire_write_u8(&w, (uint8_t)ka.handle_len);
    imc_wire_write_bytes(&w, ka.handle, ka.handle_len);
    imc_wire_write_u64(&w, ka.since);
    imc_wire_write_u64(&w, ka.latest);
    imc_wire_write_u16(&w, (uint16_t)ka.count);
    for (size_t i = 0; i < ka.count; i++) {
        size_t bl = 0;
        if (imc_kt_log_proof_encode(buf, sizeof buf, &bl, &ka.incl[i]) != IMC_OK)
            return 0;
        imc_wire_write_u16(&w, (uint16_t)ka.leaf_len[i]);
        imc_wire_write_bytes(&w, ka.leaf[i], ka.leaf_len[i]);
        imc_wire_write_u16(&w, (uint16_t)bl);
        imc_wire_write_bytes(&w, buf, bl);
    }
    imc_wire_write_bytes(&w, ka.index_value, sizeof ka.index_value);
    imc_wire_write_u16(&w, (uint16_t)ka.index_proof_len);
    imc_wire_write_bytes(&w, ka.index_proof, ka.index_proof_len);
    size_t n = 0;
    return imc_wire_writer_finish(&w, &n) == IMC_OK ? n : 0;
}

size_t fuzz_mutate_kt_audit(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                            fuzz_bytes_mutator bytes, void *bytes_ctx)
{
    if (backend == NULL) {
        backend = fuzz_backend_for(1);
        fuzz_dir_key(dir_pk, dir_sk);
    }
    /* The last input that parsed: what an input that does not parse is
     * replaced by three times in four (the corpus fills with such inputs,
     * which reach only the parser). */
    static uint8_t last[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
    static size_t last_len;
    prng r = {0x6b74666f72676500ull ^ seed};
    (void)next(&r);
    if (next(&r) % 16 == 0)
        return bytes(data, size, max_size, bytes_ctx);
    if (load(data, size)) {
        if (size <= sizeof last) {
            memcpy(last, data, size);
            last_len = size;
        }
    } else if (last_len == 0 || last_len > max_size || next(&r) % 4 == 0 ||
               !load(last, last_len)) {
        return bytes(data, size, max_size, bytes_ctx);
    } else {
        memcpy(data, last, last_len);
        size = last_len;
    }
    static imc_dir_kt_head head;
    static uint8_t old_note[IMC_KT_MAX_NOTE_BYTES];
    size_t old_len = 0;
    if (imc_dir_kt_parse_head(&head, data, size) == IMC_OK && head.note_len <= sizeof old_note) {
        memcpy(old_note, head.note, head.note_len);
        old_len = head.note_len;
    }
    unsigned rounds = 1 + (next(&r) % 4 == 0);
    for (unsigned i = 0; i < rounds; i++)
        mutate(&r);
    if (next(&r) % 8 != 0)
        tidy();
    size_t n = write_audit(data, max_size, next(&r) % 16 == 0 && old_len != 0, old_note, old_len);
    return n != 0 ? n : bytes(data, size, max_size, bytes_ctx);
}
