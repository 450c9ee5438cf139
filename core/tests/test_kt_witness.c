/* Witnesses, the verifying client and evidence, as an attacker would try
 * them: a directory that forks its log (two views under one key), with one
 * colluding witness out of three and clients that need 2 of 3; a client
 * that restarts and is then shown an older checkpoint; a witness that
 * restarts and is shown a rollback or a fork; evidence that anyone checks,
 * and a negative test for every rule of the state and evidence parsers. */
#include "kt/kt_impl.h"
#include "kt_fixture.h"

static const imc_backend *B;
static imc_kt_key wkey[3];
static uint8_t wsk[3][32];

#define NOTE_CAP IMC_KT_MAX_NOTE_BYTES

/* Asks witness w to cosign the note in buf and appends its line. */
static imc_status cosign(char *buf, size_t *len, imc_kt_witness *w, const uint8_t *proof,
                         size_t plen)
{
    char line[IMC_KT_COSIG_LINE_MAX];
    size_t ll = 0;
    imc_status st = imc_kt_witness_cosign(line, sizeof line, &ll, w, (const uint8_t *)buf, *len,
                                          proof, plen, 1700000000);
    if (st == IMC_OK && *len + ll <= NOTE_CAP) {
        memcpy(buf + *len, line, ll);
        *len += ll;
    }
    return st;
}

/* A colluding witness signs whatever it is given, with its real key. */
static void collude(char *buf, size_t *len, size_t text_len)
{
    size_t ll = 0;
    CHECK_OK(imc_kt_cosign(buf + *len, NOTE_CAP - *len, &ll, B, &wkey[2], wsk[2],
                           (const uint8_t *)buf, text_len, 1700000001));
    *len += ll;
}

static size_t text_len_of(const char *note, size_t len)
{
    static imc_kt_note n;
    return imc_kt_note_parse(&n, (const uint8_t *)note, len) == IMC_OK ? n.text_len : 0;
}

static imc_kt_client_config config(const kt_log *l, size_t threshold)
{
    return kt_config(l, wkey, 3, threshold);
}

static imc_kt_client c1, c2, c3, c4, restarted;
static imc_kt_witness w[2];
static uint8_t state[IMC_KT_CLIENT_STATE_MAX], ev[IMC_KT_EVIDENCE_MAX_BYTES];

/* One test per rule of the evidence format, starting from valid PREFIX
 * evidence: version, kind, name, lengths, trailing bytes, proof count, and
 * the semantic checks. */
static void evidence_negative(const uint8_t *good, size_t len)
{
    static uint8_t e[IMC_KT_EVIDENCE_MAX_BYTES + 1];
    memcpy(e, good, len);
    CHECK_OK(imc_kt_evidence_verify(NULL, B, e, len));
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len - 1), IMC_ERR_MALFORMED); /* short */
    e[len] = 0;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len + 1), IMC_ERR_MALFORMED); /* trailing */
    e[0] = 2;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED); /* version */
    e[0] = 1;
    e[1] = 3;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED); /* kind */
    e[1] = 1; /* SAME_SIZE with two sizes: the proof becomes trailing bytes */
    CHECK(imc_kt_evidence_verify(NULL, B, e, len) != IMC_OK);
    e[1] = 2;
    size_t name_len = e[2];
    e[3] = ' '; /* a space in the name */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED);
    e[3] = good[3];
    e[3 + name_len] ^= 1; /* another public key: no valid log signature */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_AUTH);
    e[3 + name_len] ^= 1;
    /* The proof's count byte sits before the last count hashes. */
    size_t count = imc_kt_consistency_len(10, 13), at = len - 32 * count - 1;
    CHECK(e[at] == count);
    e[at] = (uint8_t)(count - 1);
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len - 32), IMC_ERR_MALFORMED);
    e[at] = 255; /* over the 64-hash limit (read must not happen) */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED);
    e[at] = (uint8_t)count;
    e[at - 1] ^= 1; /* another prefix root: the proof no longer verifies */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_AUTH);
    e[at - 1] ^= 1;
    e[len - 1] ^= 1;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_AUTH);
    e[len - 1] ^= 1;
    CHECK_OK(imc_kt_evidence_verify(NULL, B, e, len));
}

static void split_view(void)
{
    kt_log honest, fork;
    kt_log_open(&honest, B, 10);
    kt_log_open(&fork, B, 10); /* the same directory key */
    for (int i = 0; i < 2; i++)
        CHECK_OK(imc_kt_witness_init(&w[i], B, &wkey[i], wsk[i], &honest.key));
    imc_kt_client_config cfg = config(&honest, 2);
    CHECK_OK(imc_kt_client_init(&c1, B, &cfg));
    CHECK_OK(imc_kt_client_init(&c2, B, &cfg));
    CHECK_OK(imc_kt_client_init(&c4, B, &cfg));
    imc_kt_client_config none = config(&honest, 0);
    CHECK_OK(imc_kt_client_init(&c3, B, &none));

    /* Both views share 6 leaves; the honest one is cosigned by all. */
    kt_log_append(&honest, "shared", 6);
    kt_log_append(&fork, "shared", 6);
    char a[NOTE_CAP];
    size_t al = kt_log_note(a, sizeof a, &honest);
    /* Fewer than two cosignatures: refused, nothing kept. */
    bool evd = true;
    CHECK_ST(imc_kt_client_update(&c1, &evd, (const uint8_t *)a, al, NULL, 0), IMC_ERR_AUTH);
    CHECK(!evd);
    CHECK_OK(cosign(a, &al, &w[0], NULL, 0));
    CHECK_ST(imc_kt_client_update(&c1, NULL, (const uint8_t *)a, al, NULL, 0), IMC_ERR_AUTH);
    CHECK_OK(cosign(a, &al, &w[1], NULL, 0));
    CHECK_OK(imc_kt_client_update(&c1, &evd, (const uint8_t *)a, al, NULL, 0));
    CHECK(!evd);
    CHECK_OK(imc_kt_client_update(&c4, NULL, (const uint8_t *)a, al, NULL, 0));

    /* The views diverge at size 6 and both reach size 10. */
    kt_log_append(&honest, "honest", 4);
    kt_log_append(&fork, "ghost", 4);
    uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    char h10[NOTE_CAP], f10[NOTE_CAP];
    size_t hl = kt_log_note(h10, sizeof h10, &honest);
    size_t pl = kt_log_proof(proof, sizeof proof, &honest, 6);
    CHECK_OK(cosign(h10, &hl, &w[0], proof, pl));
    CHECK_OK(cosign(h10, &hl, &w[1], proof, pl));
    CHECK_OK(imc_kt_client_update(&c1, NULL, (const uint8_t *)h10, hl, proof, pl));

    size_t fl = kt_log_note(f10, sizeof f10, &fork), ftl = text_len_of(f10, fl);
    size_t fpl = kt_log_proof(proof, sizeof proof, &fork, 6);
    /* Honest witnesses that cosigned size 10 refuse the fork. */
    CHECK_ST(cosign(f10, &fl, &w[0], proof, fpl), IMC_ERR_AUTH);
    CHECK_ST(cosign(f10, &fl, &w[1], proof, fpl), IMC_ERR_AUTH);
    collude(f10, &fl, ftl);
    /* A victim that never saw the honest view: 1 of 3 is not enough. */
    CHECK_ST(imc_kt_client_update(&c2, &evd, (const uint8_t *)f10, fl, NULL, 0), IMC_ERR_AUTH);
    CHECK(!evd);
    /* Without witnesses the same victim would take it. */
    CHECK_OK(imc_kt_client_update(&c3, NULL, (const uint8_t *)f10, fl, NULL, 0));
    /* A client on the honest view sees the fork: refused, evidence kept. */
    CHECK_ST(imc_kt_client_update(&c1, &evd, (const uint8_t *)f10, fl, NULL, 0), IMC_ERR_AUTH);
    CHECK(evd);
    size_t el = 0;
    CHECK_OK(imc_kt_client_evidence(ev, sizeof ev, &el, &c1));
    imc_kt_evidence e;
    CHECK_OK(imc_kt_evidence_verify(&e, B, ev, el));
    CHECK(e.kind == IMC_KT_EVIDENCE_SAME_SIZE && e.a.size == 10 && e.b.size == 10);
    CHECK(e.log.id == honest.key.id && memcmp(e.log.pk, honest.key.pk, 32) == 0);
    /* Any change to the header or to a signed text is refused (cosignature
     * lines are not part of the evidence's claim, so they are not tried). */
    size_t hdr = 3 + ev[2] + 32, a_len = (size_t)ev[hdr] << 8 | ev[hdr + 1];
    size_t a_text = text_len_of((const char *)ev + hdr + 2, a_len);
    size_t b_at = hdr + 2 + a_len + 2;
    size_t b_text = text_len_of((const char *)ev + b_at, el - b_at);
    CHECK(a_text > 0 && b_text > 0);
    for (size_t i = 0; i < el; i++) {
        if (!(i < hdr + 2 + a_text || (i >= b_at && i < b_at + b_text)))
            continue;
        ev[i] ^= 0x20;
        CHECK(imc_kt_evidence_verify(NULL, B, ev, el) != IMC_OK);
        ev[i] ^= 0x20;
    }
    /* The evidence survives a restart of the client. */
    size_t sl = 0;
    CHECK_OK(imc_kt_client_save(state, sizeof state, &sl, &c1));
    CHECK_OK(imc_kt_client_init(&restarted, B, &cfg));
    CHECK_OK(imc_kt_client_load(&restarted, state, sl));
    size_t el2 = 0;
    static uint8_t ev2[IMC_KT_EVIDENCE_MAX_BYTES];
    CHECK_OK(imc_kt_client_evidence(ev2, sizeof ev2, &el2, &restarted));
    CHECK(el2 == el && memcmp(ev2, ev, el) == 0);

    /* A larger fork shown to a client that holds the honest size 10,
     * with the fork's own consistency proof from 10: the proof shows that
     * the fork's first 10 leaves have another root, which is evidence. */
    size_t hp = kt_log_proof(proof, sizeof proof, &honest, 6);
    CHECK_OK(imc_kt_client_update(&c4, NULL, (const uint8_t *)h10, hl, proof, hp));
    kt_log_append(&fork, "ghost", 3);
    char f13[NOTE_CAP];
    size_t f13l = kt_log_note(f13, sizeof f13, &fork);
    collude(f13, &f13l, text_len_of(f13, f13l));
    size_t p13 = kt_log_proof(proof, sizeof proof, &fork, 10);
    CHECK_ST(imc_kt_client_update(&c4, &evd, (const uint8_t *)f13, f13l, proof, p13),
             IMC_ERR_AUTH);
    CHECK(evd);
    CHECK_OK(imc_kt_client_evidence(ev, sizeof ev, &el, &c4));
    CHECK_OK(imc_kt_evidence_verify(&e, B, ev, el));
    CHECK(e.kind == IMC_KT_EVIDENCE_PREFIX && e.a.size == 10 && e.b.size == 13);
    evidence_negative(ev, el);
    kt_log_close(&honest);
    kt_log_close(&fork);
}

/* A client that restarts keeps refusing what is older than its state, and
 * a state that was tampered with does not load. */
static void rollback_after_restart(void)
{
    kt_log l;
    kt_log_open(&l, B, 11);
    imc_kt_client_config cfg = config(&l, 2);
    for (int i = 0; i < 2; i++)
        CHECK_OK(imc_kt_witness_init(&w[i], B, &wkey[i], wsk[i], &l.key));
    kt_log_append(&l, "x", 5);
    char n5[NOTE_CAP], n9[NOTE_CAP];
    uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t l5 = kt_log_note(n5, sizeof n5, &l);
    CHECK_OK(cosign(n5, &l5, &w[0], NULL, 0));
    CHECK_OK(cosign(n5, &l5, &w[1], NULL, 0));
    kt_log_append(&l, "x", 4);
    size_t l9 = kt_log_note(n9, sizeof n9, &l), pl = kt_log_proof(proof, sizeof proof, &l, 5);
    CHECK_OK(cosign(n9, &l9, &w[0], proof, pl));
    CHECK_OK(cosign(n9, &l9, &w[1], proof, pl));

    CHECK_OK(imc_kt_client_init(&c1, B, &cfg));
    CHECK_OK(imc_kt_client_update(&c1, NULL, (const uint8_t *)n5, l5, NULL, 0));
    /* A newer checkpoint needs its proof. */
    CHECK_ST(imc_kt_client_update(&c1, NULL, (const uint8_t *)n9, l9, NULL, 0),
             IMC_ERR_MALFORMED);
    uint8_t wrong[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t wl = kt_log_proof(wrong, sizeof wrong, &l, 4);
    CHECK_ST(imc_kt_client_update(&c1, NULL, (const uint8_t *)n9, l9, wrong, wl), IMC_ERR_AUTH);
    CHECK_OK(imc_kt_client_update(&c1, NULL, (const uint8_t *)n9, l9, proof, pl));
    size_t sl = 0;
    CHECK_OK(imc_kt_client_save(state, sizeof state, &sl, &c1));
    /* Restart: a fresh process loads the state and is shown size 5. */
    CHECK_OK(imc_kt_client_init(&restarted, B, &cfg));
    CHECK_OK(imc_kt_client_load(&restarted, state, sl));
    CHECK_ST(imc_kt_client_update(&restarted, NULL, (const uint8_t *)n5, l5, NULL, 0),
             IMC_ERR_STALE);
    imc_kt_checkpoint cp;
    CHECK_OK(imc_kt_client_checkpoint(&cp, &restarted));
    CHECK(cp.size == 9);
    CHECK_OK(imc_kt_client_update(&restarted, NULL, (const uint8_t *)n9, l9, NULL, 0));
    /* Without the saved state the same client would have taken size 5. */
    CHECK_OK(imc_kt_client_init(&c2, B, &cfg));
    CHECK_OK(imc_kt_client_update(&c2, NULL, (const uint8_t *)n5, l5, NULL, 0));

    /* State rules: version, lengths, trailing bytes, a note the log did not
     * sign (one byte of the text changed). */
    CHECK_ST(imc_kt_client_load(&restarted, state, sl - 1), IMC_ERR_MALFORMED);
    state[sl] = 0;
    CHECK_ST(imc_kt_client_load(&restarted, state, sl + 1), IMC_ERR_MALFORMED);
    state[0] = 2;
    CHECK_ST(imc_kt_client_load(&restarted, state, sl), IMC_ERR_MALFORMED);
    state[0] = 1;
    state[3 + 2] ^= 1;
    CHECK(imc_kt_client_load(&restarted, state, sl) != IMC_OK);
    state[3 + 2] ^= 1;
    CHECK_OK(imc_kt_client_load(&restarted, state, sl));
    kt_log_close(&l);
}

/* A witness's own rules, across a restart from its saved state. */
static void witness_rules(void)
{
    kt_log l, other;
    kt_log_open(&l, B, 12);
    kt_log_open(&other, B, 13); /* another log key, same origin name */
    imc_kt_witness wi;
    CHECK_OK(imc_kt_witness_init(&wi, B, &wkey[0], wsk[0], &l.key));
    CHECK_ST(imc_kt_witness_init(&wi, B, &wkey[0], wsk[1], &l.key), IMC_ERR_ARG);
    CHECK_OK(imc_kt_witness_init(&wi, B, &wkey[0], wsk[0], &l.key));
    kt_log_append(&l, "y", 3);
    kt_log_append(&other, "y", 3);
    char n3[NOTE_CAP], n7[NOTE_CAP], o3[NOTE_CAP];
    size_t l3 = kt_log_note(n3, sizeof n3, &l), ol = kt_log_note(o3, sizeof o3, &other);
    CHECK_ST(cosign(o3, &ol, &wi, NULL, 0), IMC_ERR_AUTH); /* not the log's key */
    CHECK_OK(cosign(n3, &l3, &wi, NULL, 0));
    uint8_t st[IMC_KT_WITNESS_STATE_MAX];
    size_t sl = 0;
    CHECK_OK(imc_kt_witness_save(st, sizeof st, &sl, &wi));
    kt_log_append(&l, "y", 4);
    uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t l7 = kt_log_note(n7, sizeof n7, &l), pl = kt_log_proof(proof, sizeof proof, &l, 3);
    CHECK_ST(cosign(n7, &l7, &wi, NULL, 0), IMC_ERR_MALFORMED); /* no proof */
    uint8_t bad[IMC_KT_LOG_PROOF_MAX_BYTES];
    memcpy(bad, proof, pl);
    bad[pl - 1] ^= 1;
    CHECK_ST(cosign(n7, &l7, &wi, bad, pl), IMC_ERR_AUTH);
    CHECK_OK(cosign(n7, &l7, &wi, proof, pl));
    /* Restart from the state saved at size 3: the proof from 3 works again,
     * and after it the witness refuses size 3 (rollback). */
    imc_kt_witness again;
    CHECK_OK(imc_kt_witness_init(&again, B, &wkey[0], wsk[0], &l.key));
    CHECK_OK(imc_kt_witness_load(&again, st, sl));
    imc_kt_checkpoint last;
    CHECK_OK(imc_kt_witness_last(&last, &again));
    CHECK(last.size == 3);
    size_t l7b = kt_log_note(n7, sizeof n7, &l);
    CHECK_OK(cosign(n7, &l7b, &again, proof, pl));
    CHECK_OK(imc_kt_witness_save(st, sizeof st, &sl, &again));
    CHECK_OK(imc_kt_witness_init(&again, B, &wkey[0], wsk[0], &l.key));
    CHECK_ST(imc_kt_witness_last(&last, &again), IMC_ERR_NOT_FOUND); /* none before load */
    CHECK_OK(imc_kt_witness_load(&again, st, sl));
    CHECK_OK(imc_kt_witness_last(&last, &again));
    CHECK(last.size == 7);
    l3 = kt_log_note(n3, sizeof n3, &l); /* now the size-7 note; rebuild size 3 below */
    (void)l3;
    kt_log old;
    kt_log_open(&old, B, 12);
    kt_log_append(&old, "y", 3);
    size_t ol3 = kt_log_note(o3, sizeof o3, &old);
    CHECK_ST(cosign(o3, &ol3, &again, NULL, 0), IMC_ERR_STALE);
    /* State rules. */
    CHECK_ST(imc_kt_witness_load(&again, st, sl - 1), IMC_ERR_MALFORMED);
    st[0] = 9;
    CHECK_ST(imc_kt_witness_load(&again, st, sl), IMC_ERR_MALFORMED);
    st[0] = 1;
    st[3] = 'X'; /* another origin */
    CHECK_ST(imc_kt_witness_load(&again, st, sl), IMC_ERR_AUTH);
    st[3] = 'd';
    CHECK_OK(imc_kt_witness_load(&again, st, sl));
    imc_kt_witness_wipe(&again);
    imc_kt_witness_wipe(&wi);
    kt_log_close(&l);
    kt_log_close(&other);
    kt_log_close(&old);
}

int main(void)
{
    B = kt_backend();
    CHECK(B != NULL);
    if (B == NULL)
        return imc_test_end();
    static const char *const names[3] = {"w1.example", "w2.example", "w3.example"};
    for (unsigned i = 0; i < 3; i++)
        wkey[i] = kt_key(B, 20 + i, names[i], IMC_KT_SIG_COSIGNATURE, wsk[i]);
    split_view();
    rollback_after_restart();
    witness_rules();
    return imc_test_end();
}
