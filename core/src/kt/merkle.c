/* The log: RFC 9162 Merkle tree hashing, inclusion and consistency proofs
 * (generation from the store, verification from the RFC's algorithms), and
 * their wire form.
 *
 * The store keeps the hash of every complete subtree: level l, index i
 * covers leaves [i * 2^l, (i + 1) * 2^l). An append writes the leaf hash
 * and the subtrees it completes (two puts per append on average). Every
 * MTH(D[a:e]) the RFC's recursions ask for is either such a subtree or
 * splits at the largest power of two below its width into one, so a root
 * or a proof costs O(log n) gets and hashes, at any earlier size too. */
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"

#define META_SIZE "size"

imc_status imc_kt_leaf_hash(const imc_backend *b, uint8_t out[IMC_KT_HASH_BYTES],
                            const uint8_t *data, size_t len)
{
    uint8_t buf[1 + IMC_KT_MAX_LEAF_BYTES];
    if (out == NULL || (data == NULL && len != 0) || len > IMC_KT_MAX_LEAF_BYTES)
        return IMC_ERR_ARG;
    buf[0] = 0x00;
    if (len != 0)
        memcpy(buf + 1, data, len);
    return imc_crypto_sha256(b, out, buf, 1 + len);
}

imc_status imc_kt_node_hash(const imc_backend *b, uint8_t out[IMC_KT_HASH_BYTES],
                            const uint8_t left[IMC_KT_HASH_BYTES],
                            const uint8_t right[IMC_KT_HASH_BYTES])
{
    uint8_t buf[1 + 2 * IMC_KT_HASH_BYTES];
    if (out == NULL || left == NULL || right == NULL)
        return IMC_ERR_ARG;
    buf[0] = 0x01;
    memcpy(buf + 1, left, IMC_KT_HASH_BYTES);
    memcpy(buf + 1 + IMC_KT_HASH_BYTES, right, IMC_KT_HASH_BYTES);
    return imc_crypto_sha256(b, out, buf, sizeof buf);
}

/* The largest power of two strictly below w (w >= 2). */
static uint64_t split_point(uint64_t w)
{
    uint64_t k = 1;
    while (k << 1 < w)
        k <<= 1;
    return k;
}

static bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

size_t imc_kt_inclusion_len(uint64_t index, uint64_t size)
{
    size_t len = 0;
    if (index >= size)
        return 0;
    while (size > 1) {
        uint64_t k = split_point(size);
        if (index < k) {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        len++;
    }
    return len;
}

size_t imc_kt_consistency_len(uint64_t m, uint64_t n)
{
    size_t len = 0;
    bool whole = true; /* SUBPROOF's b: m is still the whole first tree */
    if (m == 0 || m >= n)
        return 0;
    while (m != n) {
        uint64_t k = split_point(n);
        if (m <= k) {
            n = k;
        } else {
            m -= k;
            n -= k;
            whole = false;
        }
        len++;
    }
    return whole ? len : len + 1;
}

/* ---- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------- */

imc_status imc_kt_inclusion_verify(const imc_backend *b, const uint8_t leaf_hash[IMC_KT_HASH_BYTES],
                                   const uint8_t root[IMC_KT_HASH_BYTES],
                                   const imc_kt_log_proof *p)
{
    if (leaf_hash == NULL || root == NULL || p == NULL || p->count > IMC_KT_MAX_LOG_PROOF)
        return IMC_ERR_ARG;
    if (p->kind != IMC_KT_PROOF_INCLUSION || p->a >= p->b)
        return IMC_ERR_AUTH;
    uint64_t fn = p->a, sn = p->b - 1;
    uint8_t r[IMC_KT_HASH_BYTES];
    memcpy(r, leaf_hash, sizeof r);
    for (size_t i = 0; i < p->count; i++) {
        if (sn == 0)
            return IMC_ERR_AUTH;
        imc_status st;
        if ((fn & 1) != 0 || fn == sn) {
            st = imc_kt_node_hash(b, r, p->path[i], r);
            if ((fn & 1) == 0)
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            st = imc_kt_node_hash(b, r, r, p->path[i]);
        }
        if (st != IMC_OK)
            return st;
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && imc_ct_equal(r, root, sizeof r) ? IMC_OK : IMC_ERR_AUTH;
}

imc_status imc_kt_consistency_roots(const imc_backend *b, uint8_t fr[IMC_KT_HASH_BYTES],
                                    uint8_t sr[IMC_KT_HASH_BYTES], uint64_t m, uint64_t n,
                                    const uint8_t (*path)[32], size_t count)
{
    if (m == 0 || m >= n || count == 0)
        return IMC_ERR_AUTH;
    uint64_t fn = m - 1, sn = n - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, path[0], IMC_KT_HASH_BYTES);
    memcpy(sr, path[0], IMC_KT_HASH_BYTES);
    for (size_t i = 1; i < count; i++) {
        if (sn == 0)
            return IMC_ERR_AUTH;
        imc_status st = IMC_OK;
        if ((fn & 1) != 0 || fn == sn) {
            st = imc_kt_node_hash(b, fr, path[i], fr);
            if (st == IMC_OK)
                st = imc_kt_node_hash(b, sr, path[i], sr);
            if ((fn & 1) == 0)
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            st = imc_kt_node_hash(b, sr, sr, path[i]);
        }
        if (st != IMC_OK)
            return st;
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 ? IMC_OK : IMC_ERR_AUTH;
}

imc_status imc_kt_consistency_verify(const imc_backend *b,
                                     const uint8_t first_root[IMC_KT_HASH_BYTES],
                                     const uint8_t second_root[IMC_KT_HASH_BYTES],
                                     const imc_kt_log_proof *p)
{
    if (first_root == NULL || second_root == NULL || p == NULL ||
        p->count > IMC_KT_MAX_LOG_PROOF)
        return IMC_ERR_ARG;
    if (p->kind != IMC_KT_PROOF_CONSISTENCY || p->a > p->b)
        return IMC_ERR_AUTH;
    if (p->a == p->b)
        return p->count == 0 && imc_ct_equal(first_root, second_root, IMC_KT_HASH_BYTES)
                   ? IMC_OK
                   : IMC_ERR_AUTH;
    if (p->a == 0)
        return p->count == 0 ? IMC_OK : IMC_ERR_AUTH;
    if (p->count == 0)
        return IMC_ERR_AUTH;
    /* A power-of-two first tree is a complete subtree: the RFC leaves its
     * root out of the path and the verifier puts it first. */
    uint8_t path[IMC_KT_MAX_LOG_PROOF + 1][IMC_KT_HASH_BYTES];
    size_t count = 0;
    if (is_pow2(p->a))
        memcpy(path[count++], first_root, IMC_KT_HASH_BYTES);
    memcpy(path[count], p->path, p->count * IMC_KT_HASH_BYTES);
    count += p->count;
    uint8_t fr[IMC_KT_HASH_BYTES], sr[IMC_KT_HASH_BYTES];
    imc_status st = imc_kt_consistency_roots(b, fr, sr, p->a, p->b,
                                             (const uint8_t(*)[32])path, count);
    if (st != IMC_OK)
        return st;
    return imc_ct_equal(fr, first_root, sizeof fr) && imc_ct_equal(sr, second_root, sizeof sr)
               ? IMC_OK
               : IMC_ERR_AUTH;
}

/* ---- Wire form ----------------------------------------------------------- */

static size_t expected_len(imc_kt_proof_kind kind, uint64_t a, uint64_t b)
{
    return kind == IMC_KT_PROOF_INCLUSION ? imc_kt_inclusion_len(a, b)
                                          : imc_kt_consistency_len(a, b);
}

static bool proof_shape_ok(imc_kt_proof_kind kind, uint64_t a, uint64_t b)
{
    if (b >= IMC_KT_MAX_SIZE)
        return false;
    if (kind == IMC_KT_PROOF_INCLUSION)
        return a < b;
    return kind == IMC_KT_PROOF_CONSISTENCY && a <= b;
}

imc_status imc_kt_log_proof_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                   const imc_kt_log_proof *p)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || p == NULL || !proof_shape_ok(p->kind, p->a, p->b) ||
        p->count != expected_len(p->kind, p->a, p->b))
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, (uint8_t)p->kind);
    imc_wire_write_u64(&w, p->a);
    imc_wire_write_u64(&w, p->b);
    imc_wire_write_u8(&w, (uint8_t)p->count);
    imc_wire_write_bytes(&w, &p->path[0][0], p->count * IMC_KT_HASH_BYTES);
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_kt_log_proof_parse(imc_kt_log_proof *p, const uint8_t *in, size_t in_len)
{
    if (p == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(p, 0, sizeof *p);
    imc_reader r;
    imc_wire_reader_init(&r, in, in_len);
    uint8_t kind = imc_wire_read_u8(&r);
    uint64_t a = imc_wire_read_u64(&r), b = imc_wire_read_u64(&r);
    size_t count = imc_wire_read_u8(&r);
    if (!r.err && (!proof_shape_ok((imc_kt_proof_kind)kind, a, b) ||
                   count != expected_len((imc_kt_proof_kind)kind, a, b)))
        imc_wire_reader_fail(&r);
    if (!r.err)
        imc_wire_read_copy(&r, &p->path[0][0], count * IMC_KT_HASH_BYTES);
    imc_status st = imc_wire_reader_finish(&r);
    if (st != IMC_OK) {
        memset(p, 0, sizeof *p);
        return st;
    }
    p->kind = (imc_kt_proof_kind)kind;
    p->a = a;
    p->b = b;
    p->count = count;
    return IMC_OK;
}

/* ---- The log over a store --------------------------------------------------- */

static void node_key(uint8_t key[9], unsigned level, uint64_t idx)
{
    key[0] = (uint8_t)level;
    for (int i = 0; i < 8; i++)
        key[1 + i] = (uint8_t)(idx >> (56 - 8 * i));
}

static bool store_ok(const imc_kt_store *s)
{
    return s != NULL && s->get != NULL && s->put != NULL;
}

/* A stored value of exactly want bytes; absent or the wrong length is a
 * corrupt store (IMC_ERR_IO). */
static imc_status get_exact(const imc_kt_store *s, imc_kt_table t, const uint8_t *key,
                            size_t key_len, uint8_t *out, size_t want)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = s->get(s->ctx, t, key, key_len, &v, &n);
    if (st == IMC_ERR_NOT_FOUND || (st == IMC_OK && n != want))
        return IMC_ERR_IO;
    if (st == IMC_OK)
        memcpy(out, v, want);
    return st;
}

imc_status imc_kt_log_size(uint64_t *size, const imc_kt_store *s)
{
    if (size == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    *size = 0;
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = s->get(s->ctx, IMC_KT_TABLE_META, (const uint8_t *)META_SIZE,
                           sizeof META_SIZE - 1, &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_OK;
    if (st != IMC_OK)
        return st;
    imc_reader r;
    imc_wire_reader_init(&r, v, n);
    uint64_t size_v = imc_wire_read_u64(&r);
    if (imc_wire_reader_finish(&r) != IMC_OK || size_v >= IMC_KT_MAX_SIZE)
        return IMC_ERR_IO;
    *size = size_v;
    return IMC_OK;
}

static imc_status get_node(const imc_kt_store *s, unsigned level, uint64_t idx,
                           uint8_t out[IMC_KT_HASH_BYTES])
{
    uint8_t key[9];
    node_key(key, level, idx);
    return get_exact(s, IMC_KT_TABLE_NODES, key, sizeof key, out, IMC_KT_HASH_BYTES);
}

static imc_status put_node(const imc_kt_store *s, unsigned level, uint64_t idx,
                           const uint8_t h[IMC_KT_HASH_BYTES])
{
    uint8_t key[9];
    node_key(key, level, idx);
    return s->put(s->ctx, IMC_KT_TABLE_NODES, key, sizeof key, h, IMC_KT_HASH_BYTES);
}

imc_status imc_kt_log_append(uint64_t *index, const imc_backend *b, const imc_kt_store *s,
                             const uint8_t *data, size_t len)
{
    if (index != NULL)
        *index = 0;
    if (!store_ok(s) || data == NULL || len == 0 || len > IMC_KT_MAX_LEAF_BYTES)
        return IMC_ERR_ARG;
    uint64_t n = 0;
    imc_status st = imc_kt_log_size(&n, s);
    if (st != IMC_OK)
        return st;
    if (n + 1 >= IMC_KT_MAX_SIZE)
        return IMC_ERR_LIMIT;
    uint8_t h[IMC_KT_HASH_BYTES], left[IMC_KT_HASH_BYTES], key[8], sz[8];
    st = imc_kt_leaf_hash(b, h, data, len);
    for (int i = 0; i < 8; i++) {
        key[i] = (uint8_t)(n >> (56 - 8 * i));
        sz[i] = (uint8_t)((n + 1) >> (56 - 8 * i));
    }
    if (st == IMC_OK)
        st = s->put(s->ctx, IMC_KT_TABLE_LEAVES, key, sizeof key, data, len);
    if (st == IMC_OK)
        st = put_node(s, 0, n, h);
    /* Each odd index closes a pair: hash it with its left sibling, up. */
    unsigned level = 0;
    for (uint64_t idx = n; st == IMC_OK && (idx & 1) != 0; idx >>= 1) {
        st = get_node(s, level, idx - 1, left);
        if (st == IMC_OK)
            st = imc_kt_node_hash(b, h, left, h);
        level++;
        if (st == IMC_OK)
            st = put_node(s, level, idx >> 1, h);
    }
    if (st == IMC_OK)
        st = s->put(s->ctx, IMC_KT_TABLE_META, (const uint8_t *)META_SIZE, sizeof META_SIZE - 1,
                    sz, sizeof sz);
    if (st == IMC_OK && index != NULL)
        *index = n;
    return st;
}

imc_status imc_kt_log_leaf(const uint8_t **data, size_t *len, const imc_kt_store *s,
                           uint64_t index)
{
    if (data == NULL || len == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    *data = NULL;
    *len = 0;
    uint8_t key[8];
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(index >> (56 - 8 * i));
    return s->get(s->ctx, IMC_KT_TABLE_LEAVES, key, sizeof key, data, len);
}

/* MTH(D[a:e]) for 0 <= a < e <= size, as the RFC's recursions reach it. */
static imc_status range_hash(const imc_backend *b, const imc_kt_store *s, uint64_t a, uint64_t e,
                             uint8_t out[IMC_KT_HASH_BYTES])
{
    uint64_t w = e - a;
    if (is_pow2(w) && a % w == 0) {
        unsigned level = 0;
        while ((UINT64_C(1) << level) < w)
            level++;
        return get_node(s, level, a >> level, out);
    }
    uint64_t k = split_point(w);
    uint8_t left[IMC_KT_HASH_BYTES], right[IMC_KT_HASH_BYTES];
    imc_status st = range_hash(b, s, a, a + k, left);
    if (st == IMC_OK)
        st = range_hash(b, s, a + k, e, right);
    if (st == IMC_OK)
        st = imc_kt_node_hash(b, out, left, right);
    return st;
}

static imc_status check_size(const imc_kt_store *s, uint64_t want)
{
    uint64_t n = 0;
    imc_status st = imc_kt_log_size(&n, s);
    if (st != IMC_OK)
        return st;
    return want <= n ? IMC_OK : IMC_ERR_ARG;
}

imc_status imc_kt_log_root(uint8_t root[IMC_KT_HASH_BYTES], const imc_backend *b,
                           const imc_kt_store *s, uint64_t size)
{
    if (root == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    memset(root, 0, IMC_KT_HASH_BYTES);
    imc_status st = check_size(s, size);
    if (st != IMC_OK)
        return st;
    if (size == 0)
        return imc_crypto_sha256(b, root, NULL, 0);
    return range_hash(b, s, 0, size, root);
}

/* PATH(m, D[a:e]) of RFC 9162 2.1.3.1, appended to p (deepest first). */
static imc_status path_rec(imc_kt_log_proof *p, const imc_backend *b, const imc_kt_store *s,
                           uint64_t m, uint64_t a, uint64_t e)
{
    if (e - a <= 1)
        return IMC_OK;
    uint64_t k = split_point(e - a);
    imc_status st = m < a + k ? path_rec(p, b, s, m, a, a + k) : path_rec(p, b, s, m, a + k, e);
    if (st == IMC_OK)
        st = m < a + k ? range_hash(b, s, a + k, e, p->path[p->count])
                       : range_hash(b, s, a, a + k, p->path[p->count]);
    if (st == IMC_OK)
        p->count++;
    return st;
}

/* SUBPROOF(m - a, D[a:e], whole) of RFC 9162 2.1.4.1. */
static imc_status subproof(imc_kt_log_proof *p, const imc_backend *b, const imc_kt_store *s,
                           uint64_t m, uint64_t a, uint64_t e, bool whole)
{
    imc_status st = IMC_OK;
    if (m == e) {
        if (!whole && (st = range_hash(b, s, a, e, p->path[p->count])) == IMC_OK)
            p->count++;
        return st;
    }
    uint64_t k = split_point(e - a);
    if (m - a <= k) {
        st = subproof(p, b, s, m, a, a + k, whole);
        if (st == IMC_OK)
            st = range_hash(b, s, a + k, e, p->path[p->count]);
    } else {
        st = subproof(p, b, s, m, a + k, e, false);
        if (st == IMC_OK)
            st = range_hash(b, s, a, a + k, p->path[p->count]);
    }
    if (st == IMC_OK)
        p->count++;
    return st;
}

imc_status imc_kt_log_prove_inclusion(imc_kt_log_proof *p, const imc_backend *b,
                                      const imc_kt_store *s, uint64_t index, uint64_t size)
{
    if (p == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    memset(p, 0, sizeof *p);
    if (index >= size)
        return IMC_ERR_ARG;
    imc_status st = check_size(s, size);
    if (st == IMC_OK)
        st = path_rec(p, b, s, index, 0, size);
    if (st != IMC_OK) {
        memset(p, 0, sizeof *p);
        return st;
    }
    p->kind = IMC_KT_PROOF_INCLUSION;
    p->a = index;
    p->b = size;
    return IMC_OK;
}

imc_status imc_kt_log_prove_consistency(imc_kt_log_proof *p, const imc_backend *b,
                                        const imc_kt_store *s, uint64_t m, uint64_t n)
{
    if (p == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    memset(p, 0, sizeof *p);
    if (m > n)
        return IMC_ERR_ARG;
    imc_status st = check_size(s, n);
    if (st == IMC_OK && m != 0 && m != n)
        st = subproof(p, b, s, m, 0, n, true);
    if (st != IMC_OK) {
        memset(p, 0, sizeof *p);
        return st;
    }
    p->kind = IMC_KT_PROOF_CONSISTENCY;
    p->a = m;
    p->b = n;
    return IMC_OK;
}
