/* The index: roots equal a direct recursive definition of the prefix tree
 * over the key set; every key has a verifying inclusion proof, absent keys
 * verifying non-inclusion proofs of both kinds; any change to a proof, the
 * key, the value or the root is refused; keys that differ only in their
 * last bit (depth 256) work; the wire form is strict. */
#include "kt_fixture.h"

#define KEYS 300

static const imc_backend *B;
static uint8_t keys[KEYS + 2][32], vals[KEYS + 2][32];

static int bit(const uint8_t *k, size_t i) { return (k[i / 8] >> (7 - i % 8)) & 1; }

/* The root of the subtree at `depth` holding keys idx[0..n). */
static void ref_root(uint8_t out[32], const size_t *idx, size_t n, size_t depth)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    uint8_t buf[65];
    if (n == 1) {
        buf[0] = 0x02;
        memcpy(buf + 1, keys[idx[0]], 32);
        memcpy(buf + 33, vals[idx[0]], 32);
        CHECK_OK(imc_crypto_sha256(B, out, buf, 65));
        return;
    }
    size_t *l = malloc(n * sizeof *l), *r = malloc(n * sizeof *r), nl = 0, nr = 0;
    for (size_t i = 0; i < n; i++) {
        if (bit(keys[idx[i]], depth))
            r[nr++] = idx[i];
        else
            l[nl++] = idx[i];
    }
    buf[0] = 0x03;
    ref_root(buf + 1, l, nl, depth + 1);
    ref_root(buf + 33, r, nr, depth + 1);
    CHECK_OK(imc_crypto_sha256(B, out, buf, 65));
    free(l);
    free(r);
}

static void check_root(const imc_kt_store *s, size_t n)
{
    size_t idx[KEYS + 2];
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    uint8_t want[32], got[32];
    ref_root(want, idx, n, 0);
    CHECK_OK(imc_kt_index_root(got, s));
    CHECK(memcmp(want, got, 32) == 0);
}

static void roundtrip(const imc_kt_index_proof *p)
{
    static uint8_t buf[IMC_KT_INDEX_PROOF_MAX_BYTES];
    static imc_kt_index_proof q;
    size_t len = 0;
    CHECK_OK(imc_kt_index_proof_encode(buf, sizeof buf, &len, p));
    CHECK_OK(imc_kt_index_proof_parse(&q, buf, len));
    CHECK(q.result == p->result && q.depth == p->depth &&
          memcmp(q.sibling, p->sibling, 32 * p->depth) == 0);
    if (p->result == IMC_KT_INDEX_ABSENT_LEAF)
        CHECK(memcmp(q.other_key, p->other_key, 32) == 0 &&
              memcmp(q.other_value, p->other_value, 32) == 0);
}

static void proofs(const imc_kt_store *s, size_t n)
{
    uint8_t root[32], v[32];
    static imc_kt_index_proof p;
    CHECK_OK(imc_kt_index_root(root, s));
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(imc_kt_index_prove(&p, v, s, keys[i]));
        CHECK(p.result == IMC_KT_INDEX_PRESENT && memcmp(v, vals[i], 32) == 0);
        CHECK_OK(imc_kt_index_verify(B, root, keys[i], vals[i], &p));
        CHECK_ST(imc_kt_index_verify(B, root, keys[i], NULL, &p), IMC_ERR_AUTH);
        v[0] ^= 1;
        CHECK_ST(imc_kt_index_verify(B, root, keys[i], v, &p), IMC_ERR_AUTH);
        CHECK_ST(imc_kt_index_verify(B, root, keys[(i + 1) % KEYS], vals[i], &p), IMC_ERR_AUTH);
        if (p.depth > 0) {
            p.sibling[p.depth - 1][3] ^= 4;
            CHECK_ST(imc_kt_index_verify(B, root, keys[i], vals[i], &p), IMC_ERR_AUTH);
            p.sibling[p.depth - 1][3] ^= 4;
        }
        if (i % 17 == 0)
            roundtrip(&p);
    }
    /* Keys not in the index (the rest of the key list). */
    for (size_t i = n; i < KEYS + 2; i++) {
        CHECK_OK(imc_kt_index_prove(&p, v, s, keys[i]));
        CHECK(p.result == IMC_KT_INDEX_ABSENT_EMPTY || p.result == IMC_KT_INDEX_ABSENT_LEAF);
        CHECK_OK(imc_kt_index_verify(B, root, keys[i], NULL, &p));
        CHECK_ST(imc_kt_index_verify(B, root, keys[i], vals[i], &p), IMC_ERR_AUTH);
        if (p.result == IMC_KT_INDEX_ABSENT_LEAF) {
            /* Claiming the other key's own path for it is not absence. */
            CHECK_ST(imc_kt_index_verify(B, root, p.other_key, NULL, &p), IMC_ERR_AUTH);
            p.other_value[0] ^= 1;
            CHECK_ST(imc_kt_index_verify(B, root, keys[i], NULL, &p), IMC_ERR_AUTH);
            p.other_value[0] ^= 1;
        }
        roundtrip(&p);
    }
}

static void wire_negative(void)
{
    static imc_kt_index_proof p;
    uint8_t buf[4 + 3 * 32 + 64 + 1] = {0x03, 0x03, 0x00, 0x03};
    size_t full = 4 + 3 * 32 + 64;
    CHECK_OK(imc_kt_index_proof_parse(&p, buf, full));
    CHECK(p.result == IMC_KT_INDEX_ABSENT_LEAF && p.depth == 3);
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full - 1), IMC_ERR_MALFORMED); /* short */
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full + 1), IMC_ERR_MALFORMED); /* trailing */
    buf[1] = 1; /* PRESENT carries no other leaf: 64 bytes too many */
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full), IMC_ERR_MALFORMED);
    CHECK_OK(imc_kt_index_proof_parse(&p, buf, full - 64));
    buf[1] = 4; /* unknown result */
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full - 64), IMC_ERR_MALFORMED);
    buf[1] = 0;
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full - 64), IMC_ERR_MALFORMED);
    buf[1] = 2;
    buf[0] = 0x02; /* wrong tag */
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full - 64), IMC_ERR_MALFORMED);
    buf[0] = 0x03;
    buf[2] = 0x01;
    buf[3] = 0x01; /* depth 257 */
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, full - 64), IMC_ERR_MALFORMED);
    CHECK_ST(imc_kt_index_proof_parse(&p, buf, 0), IMC_ERR_MALFORMED);
}

int main(void)
{
    B = kt_backend();
    CHECK(B != NULL);
    if (B == NULL)
        return imc_test_end();
    for (size_t i = 0; i < KEYS; i++) {
        uint8_t seed[8] = {(uint8_t)(i >> 8), (uint8_t)i, 'k'};
        CHECK_OK(imc_kt_index_key(B, keys[i], seed, sizeof seed));
        seed[2] = 'v';
        CHECK_OK(imc_crypto_sha256(B, vals[i], seed, sizeof seed));
    }
    /* Two keys that differ from key 0 only in the last bit and the first. */
    memcpy(keys[5], keys[0], 32);
    keys[5][31] ^= 1;
    memcpy(keys[KEYS], keys[0], 32);
    keys[KEYS][0] ^= 0x80;
    memcpy(keys[KEYS + 1], keys[1], 32);
    keys[KEYS + 1][31] ^= 2;
    memset(vals[KEYS], 7, 32);
    memset(vals[KEYS + 1], 8, 32);

    imc_kt_mem *mem = NULL;
    CHECK_OK(imc_kt_mem_open(&mem, B, 0));
    imc_kt_store s = imc_kt_mem_store(mem);
    uint8_t root[32];
    CHECK_OK(imc_kt_index_root(root, &s));
    CHECK(imc_ct_is_zero(root, 32));
    static imc_kt_index_proof p;
    CHECK_OK(imc_kt_index_prove(&p, NULL, &s, keys[0]));
    CHECK(p.result == IMC_KT_INDEX_ABSENT_EMPTY && p.depth == 0);
    CHECK_OK(imc_kt_index_verify(B, root, keys[0], NULL, &p));

    for (size_t n = 1; n <= KEYS; n++) {
        CHECK_OK(imc_kt_index_put(B, &s, keys[n - 1], vals[n - 1]));
        if (n <= 8 || n % 37 == 0 || n == KEYS) {
            check_root(&s, n);
            proofs(&s, n);
        }
    }
    CHECK_OK(imc_kt_index_prove(&p, NULL, &s, keys[5]));
    CHECK(p.depth == 256);
    /* A new value for a key: the root moves and the old proof fails. */
    uint8_t before[32];
    CHECK_OK(imc_kt_index_root(before, &s));
    CHECK_OK(imc_kt_index_prove(&p, NULL, &s, keys[9]));
    uint8_t old[32];
    memcpy(old, vals[9], 32);
    vals[9][0] ^= 0xff;
    CHECK_OK(imc_kt_index_put(B, &s, keys[9], vals[9]));
    CHECK_OK(imc_kt_index_root(root, &s));
    CHECK(memcmp(root, before, 32) != 0);
    CHECK_ST(imc_kt_index_verify(B, root, keys[9], old, &p), IMC_ERR_AUTH);
    CHECK_OK(imc_kt_index_verify(B, root, keys[9], vals[9], &p)); /* same path */
    check_root(&s, KEYS);
    proofs(&s, KEYS);
    wire_negative();
    imc_kt_mem_close(mem);
    return imc_test_end();
}
