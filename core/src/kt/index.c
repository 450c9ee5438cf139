/* The verifiable index: a Merkle prefix tree (a sparse Merkle tree of depth
 * 256 with one-leaf subtrees collapsed) from 32-byte keys to 32-byte values.
 *
 *   empty subtree        32 zero bytes
 *   subtree of one key   H(0x02 || key || value), wherever it sits
 *   any other subtree    H(0x03 || left || right)
 *
 * A key's path follows its bits from the most significant; a subtree that
 * holds a single key is that key's leaf, so a path is as deep as the
 * longest common prefix with another key plus one (about log2 n). The store
 * holds one node per non-empty subtree: depth (2) || the key's first depth
 * bits, zero-padded to 32 bytes -> type (1) || hash (32) || (leaf) key ||
 * value. An update rewrites the nodes on one path. */
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"

#define NODE_KEY_BYTES (2 + IMC_KT_HASH_BYTES)
#define LEAF_VAL_BYTES (1 + 3 * IMC_KT_HASH_BYTES)
#define NODE_VAL_BYTES (1 + IMC_KT_HASH_BYTES)

typedef struct node {
    bool present;
    uint8_t type; /* IMC_KT_INDEX_LEAF or IMC_KT_INDEX_NODE */
    uint8_t hash[IMC_KT_HASH_BYTES];
    uint8_t key[IMC_KT_HASH_BYTES];   /* leaf */
    uint8_t value[IMC_KT_HASH_BYTES]; /* leaf */
} node;

static int bit(const uint8_t key[IMC_KT_HASH_BYTES], size_t i)
{
    return (key[i / 8] >> (7 - i % 8)) & 1;
}

/* The store key of the node at `depth` on key's path; with flip, of its
 * sibling (depth >= 1: the last path bit flipped). */
static void node_key(uint8_t out[NODE_KEY_BYTES], const uint8_t key[IMC_KT_HASH_BYTES],
                     size_t depth, bool flip)
{
    out[0] = (uint8_t)(depth >> 8);
    out[1] = (uint8_t)depth;
    memset(out + 2, 0, IMC_KT_HASH_BYTES);
    memcpy(out + 2, key, depth / 8);
    if (depth % 8 != 0)
        out[2 + depth / 8] = (uint8_t)(key[depth / 8] & (0xff << (8 - depth % 8)));
    if (flip)
        out[2 + (depth - 1) / 8] ^= (uint8_t)(0x80 >> ((depth - 1) % 8));
}

static imc_status node_get(node *n, const imc_kt_store *s, const uint8_t k[NODE_KEY_BYTES])
{
    memset(n, 0, sizeof *n);
    const uint8_t *v = NULL;
    size_t len = 0;
    imc_status st = s->get(s->ctx, IMC_KT_TABLE_INDEX, k, NODE_KEY_BYTES, &v, &len);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_OK;
    if (st != IMC_OK)
        return st;
    imc_reader r;
    imc_wire_reader_init(&r, v, len);
    n->type = imc_wire_read_u8(&r);
    imc_wire_read_copy(&r, n->hash, IMC_KT_HASH_BYTES);
    if (n->type == IMC_KT_INDEX_LEAF) {
        imc_wire_read_copy(&r, n->key, IMC_KT_HASH_BYTES);
        imc_wire_read_copy(&r, n->value, IMC_KT_HASH_BYTES);
    } else if (n->type != IMC_KT_INDEX_NODE) {
        imc_wire_reader_fail(&r);
    }
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_IO; /* a corrupt store */
    n->present = true;
    return IMC_OK;
}

static imc_status leaf_hash(const imc_backend *b, uint8_t out[IMC_KT_HASH_BYTES],
                            const uint8_t key[IMC_KT_HASH_BYTES],
                            const uint8_t value[IMC_KT_HASH_BYTES])
{
    uint8_t buf[1 + 2 * IMC_KT_HASH_BYTES];
    buf[0] = IMC_KT_INDEX_LEAF;
    memcpy(buf + 1, key, IMC_KT_HASH_BYTES);
    memcpy(buf + 1 + IMC_KT_HASH_BYTES, value, IMC_KT_HASH_BYTES);
    return imc_crypto_sha256(b, out, buf, sizeof buf);
}

/* The parent of child h on key's path at `depth` and its sibling. */
static imc_status combine(const imc_backend *b, uint8_t h[IMC_KT_HASH_BYTES],
                          const uint8_t key[IMC_KT_HASH_BYTES], size_t depth,
                          const uint8_t sibling[IMC_KT_HASH_BYTES])
{
    uint8_t buf[1 + 2 * IMC_KT_HASH_BYTES];
    buf[0] = IMC_KT_INDEX_NODE;
    int right = bit(key, depth);
    memcpy(buf + 1, right ? sibling : h, IMC_KT_HASH_BYTES);
    memcpy(buf + 1 + IMC_KT_HASH_BYTES, right ? h : sibling, IMC_KT_HASH_BYTES);
    return imc_crypto_sha256(b, h, buf, sizeof buf);
}

static imc_status put_leaf(const imc_kt_store *s, const uint8_t at[IMC_KT_HASH_BYTES],
                           size_t depth, const uint8_t hash[IMC_KT_HASH_BYTES],
                           const uint8_t key[IMC_KT_HASH_BYTES],
                           const uint8_t value[IMC_KT_HASH_BYTES])
{
    uint8_t k[NODE_KEY_BYTES], v[LEAF_VAL_BYTES];
    node_key(k, at, depth, false);
    v[0] = IMC_KT_INDEX_LEAF;
    memcpy(v + 1, hash, IMC_KT_HASH_BYTES);
    memcpy(v + 1 + IMC_KT_HASH_BYTES, key, IMC_KT_HASH_BYTES);
    memcpy(v + 1 + 2 * IMC_KT_HASH_BYTES, value, IMC_KT_HASH_BYTES);
    return s->put(s->ctx, IMC_KT_TABLE_INDEX, k, sizeof k, v, sizeof v);
}

static imc_status put_interior(const imc_kt_store *s, const uint8_t key[IMC_KT_HASH_BYTES],
                               size_t depth, const uint8_t hash[IMC_KT_HASH_BYTES])
{
    uint8_t k[NODE_KEY_BYTES], v[NODE_VAL_BYTES];
    node_key(k, key, depth, false);
    v[0] = IMC_KT_INDEX_NODE;
    memcpy(v + 1, hash, IMC_KT_HASH_BYTES);
    return s->put(s->ctx, IMC_KT_TABLE_INDEX, k, sizeof k, v, sizeof v);
}

static bool store_ok(const imc_kt_store *s)
{
    return s != NULL && s->get != NULL && s->put != NULL;
}

imc_status imc_kt_index_key(const imc_backend *b, uint8_t key[IMC_KT_HASH_BYTES],
                            const uint8_t *handle, size_t handle_len)
{
    if (key == NULL || handle == NULL || handle_len == 0)
        return IMC_ERR_ARG;
    return imc_crypto_sha256(b, key, handle, handle_len);
}

imc_status imc_kt_index_put(const imc_backend *b, const imc_kt_store *s,
                            const uint8_t key[IMC_KT_HASH_BYTES],
                            const uint8_t value[IMC_KT_HASH_BYTES])
{
    if (!store_ok(s) || key == NULL || value == NULL)
        return IMC_ERR_ARG;
    uint8_t h[IMC_KT_HASH_BYTES], k[NODE_KEY_BYTES], zero[IMC_KT_HASH_BYTES] = {0};
    imc_status st = leaf_hash(b, h, key, value);
    node n;
    size_t d = 0;
    /* Walk down to the first node that is not an interior node. */
    for (;; d++) {
        if (st != IMC_OK)
            return st;
        if (d > IMC_KT_MAX_INDEX_DEPTH)
            return IMC_ERR_IO;
        node_key(k, key, d, false);
        st = node_get(&n, s, k);
        if (st == IMC_OK && (!n.present || n.type == IMC_KT_INDEX_LEAF))
            break;
    }
    if (!n.present || memcmp(n.key, key, IMC_KT_HASH_BYTES) == 0) {
        st = put_leaf(s, key, d, h, key, value);
    } else {
        /* Another key's leaf: both go below their first differing bit p,
         * and the nodes from p up to d get one path child each. */
        size_t p = d;
        while (p < 8 * IMC_KT_HASH_BYTES && bit(key, p) == bit(n.key, p))
            p++;
        if (p == 8 * IMC_KT_HASH_BYTES)
            return IMC_ERR_IO;
        st = put_leaf(s, n.key, p + 1, n.hash, n.key, n.value);
        if (st == IMC_OK)
            st = put_leaf(s, key, p + 1, h, key, value);
        for (size_t j = p + 1; j-- > d && st == IMC_OK;) {
            st = combine(b, h, key, j, j == p ? n.hash : zero);
            if (st == IMC_OK)
                st = put_interior(s, key, j, h);
        }
    }
    /* Rehash the interior nodes above d with their stored siblings. */
    for (size_t j = d; j-- > 0 && st == IMC_OK;) {
        node sib;
        node_key(k, key, j + 1, true);
        st = node_get(&sib, s, k);
        if (st == IMC_OK)
            st = combine(b, h, key, j, sib.present ? sib.hash : zero);
        if (st == IMC_OK)
            st = put_interior(s, key, j, h);
    }
    return st;
}

imc_status imc_kt_index_root(uint8_t root[IMC_KT_HASH_BYTES], const imc_kt_store *s)
{
    if (root == NULL || !store_ok(s))
        return IMC_ERR_ARG;
    memset(root, 0, IMC_KT_HASH_BYTES);
    uint8_t k[NODE_KEY_BYTES], zero[IMC_KT_HASH_BYTES] = {0};
    node n;
    node_key(k, zero, 0, false);
    imc_status st = node_get(&n, s, k);
    if (st == IMC_OK && n.present)
        memcpy(root, n.hash, IMC_KT_HASH_BYTES);
    return st;
}

imc_status imc_kt_index_prove(imc_kt_index_proof *p, uint8_t value[IMC_KT_HASH_BYTES],
                              const imc_kt_store *s, const uint8_t key[IMC_KT_HASH_BYTES])
{
    if (p == NULL || !store_ok(s) || key == NULL)
        return IMC_ERR_ARG;
    memset(p, 0, sizeof *p);
    if (value != NULL)
        memset(value, 0, IMC_KT_HASH_BYTES);
    uint8_t k[NODE_KEY_BYTES];
    imc_status st = IMC_OK;
    for (size_t d = 0; st == IMC_OK; d++) {
        if (d > IMC_KT_MAX_INDEX_DEPTH) {
            st = IMC_ERR_IO;
            break;
        }
        node n, sib;
        node_key(k, key, d, false);
        st = node_get(&n, s, k);
        if (st != IMC_OK)
            break;
        p->depth = d;
        if (!n.present) {
            p->result = IMC_KT_INDEX_ABSENT_EMPTY;
            return IMC_OK;
        }
        if (n.type == IMC_KT_INDEX_LEAF) {
            if (memcmp(n.key, key, IMC_KT_HASH_BYTES) == 0) {
                p->result = IMC_KT_INDEX_PRESENT;
                if (value != NULL)
                    memcpy(value, n.value, IMC_KT_HASH_BYTES);
            } else {
                p->result = IMC_KT_INDEX_ABSENT_LEAF;
                memcpy(p->other_key, n.key, IMC_KT_HASH_BYTES);
                memcpy(p->other_value, n.value, IMC_KT_HASH_BYTES);
            }
            return IMC_OK;
        }
        if (d == IMC_KT_MAX_INDEX_DEPTH) {
            st = IMC_ERR_IO;
            break;
        }
        node_key(k, key, d + 1, true);
        st = node_get(&sib, s, k);
        if (st == IMC_OK && sib.present)
            memcpy(p->sibling[d], sib.hash, IMC_KT_HASH_BYTES);
    }
    memset(p, 0, sizeof *p);
    if (value != NULL)
        memset(value, 0, IMC_KT_HASH_BYTES);
    return st;
}

imc_status imc_kt_index_verify(const imc_backend *b, const uint8_t root[IMC_KT_HASH_BYTES],
                               const uint8_t key[IMC_KT_HASH_BYTES],
                               const uint8_t value[IMC_KT_HASH_BYTES],
                               const imc_kt_index_proof *p)
{
    if (root == NULL || key == NULL || p == NULL || p->depth > IMC_KT_MAX_INDEX_DEPTH)
        return IMC_ERR_ARG;
    uint8_t h[IMC_KT_HASH_BYTES] = {0};
    imc_status st = IMC_OK;
    switch (p->result) {
    case IMC_KT_INDEX_PRESENT:
        if (value == NULL)
            return IMC_ERR_AUTH;
        st = leaf_hash(b, h, key, value);
        break;
    case IMC_KT_INDEX_ABSENT_EMPTY:
        if (value != NULL)
            return IMC_ERR_AUTH;
        break;
    case IMC_KT_INDEX_ABSENT_LEAF:
        if (value != NULL || memcmp(p->other_key, key, IMC_KT_HASH_BYTES) == 0)
            return IMC_ERR_AUTH;
        for (size_t i = 0; i < p->depth; i++)
            if (bit(p->other_key, i) != bit(key, i))
                return IMC_ERR_AUTH;
        st = leaf_hash(b, h, p->other_key, p->other_value);
        break;
    default: return IMC_ERR_AUTH;
    }
    for (size_t j = p->depth; j-- > 0 && st == IMC_OK;)
        st = combine(b, h, key, j, p->sibling[j]);
    if (st != IMC_OK)
        return st;
    return imc_ct_equal(h, root, sizeof h) ? IMC_OK : IMC_ERR_AUTH;
}

imc_status imc_kt_index_proof_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                     const imc_kt_index_proof *p)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || p == NULL || p->depth > IMC_KT_MAX_INDEX_DEPTH ||
        p->result < IMC_KT_INDEX_PRESENT || p->result > IMC_KT_INDEX_ABSENT_LEAF)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_KT_INDEX_PROOF_TAG);
    imc_wire_write_u8(&w, (uint8_t)p->result);
    imc_wire_write_u16(&w, (uint16_t)p->depth);
    imc_wire_write_bytes(&w, &p->sibling[0][0], p->depth * IMC_KT_HASH_BYTES);
    if (p->result == IMC_KT_INDEX_ABSENT_LEAF) {
        imc_wire_write_bytes(&w, p->other_key, IMC_KT_HASH_BYTES);
        imc_wire_write_bytes(&w, p->other_value, IMC_KT_HASH_BYTES);
    }
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_kt_index_proof_parse(imc_kt_index_proof *p, const uint8_t *in, size_t in_len)
{
    if (p == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(p, 0, sizeof *p);
    imc_reader r;
    imc_wire_reader_init(&r, in, in_len);
    uint8_t tag = imc_wire_read_u8(&r), result = imc_wire_read_u8(&r);
    size_t depth = imc_wire_read_u16(&r);
    if (!r.err && (tag != IMC_KT_INDEX_PROOF_TAG || result < IMC_KT_INDEX_PRESENT ||
                   result > IMC_KT_INDEX_ABSENT_LEAF || depth > IMC_KT_MAX_INDEX_DEPTH))
        imc_wire_reader_fail(&r);
    if (!r.err)
        imc_wire_read_copy(&r, &p->sibling[0][0], depth * IMC_KT_HASH_BYTES);
    if (result == IMC_KT_INDEX_ABSENT_LEAF) {
        imc_wire_read_copy(&r, p->other_key, IMC_KT_HASH_BYTES);
        imc_wire_read_copy(&r, p->other_value, IMC_KT_HASH_BYTES);
    }
    imc_status st = imc_wire_reader_finish(&r);
    if (st != IMC_OK) {
        memset(p, 0, sizeof *p);
        return st;
    }
    p->result = (imc_kt_index_result)result;
    p->depth = depth;
    return IMC_OK;
}
