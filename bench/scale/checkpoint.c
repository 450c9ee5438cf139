/* Checkpoints: a shard's progress saved periodically, so that a killed run
 * resumes where its last checkpoint stopped instead of from the start
 * (docs/scale.md, "Checkpoints").
 *
 * A checkpoint holds the first message index not yet done (every index
 * below it is done: workers finish each chunk they take, and chunks are
 * handed out in order), the results merged over every thread so far
 * (totals, digest lanes, histograms), and the time spent. Because the
 * digest is a sum of per-message hashes, resuming from it and running the
 * rest gives the digest of an uninterrupted run.
 *
 * Layout (native byte order: it is read back by the same build on the same
 * kind of machine, and refused otherwise): a header, the result, and a
 * SHA-256 of everything before it. It is written to a temporary file that
 * is then renamed over the previous one, so a kill at any moment leaves the
 * old or the new checkpoint, never a torn one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scale.h"

static const char MAGIC[16] = "imcore-scale-ck1";

typedef struct ck_header {
    char magic[16];
    char commit[48]; /* the source commit: other code may give other digests */
    uint8_t config_id[IMC_SHA256_BYTES];
    uint64_t messages_total, lo, hi, next;
    uint64_t result_bytes; /* sizeof(scale_thread_result) of the writer */
    double wall_seconds, process_cpu_seconds;
    uint64_t resumes;
} ck_header;

typedef struct ck_file {
    ck_header h;
    scale_thread_result res;
    uint8_t sum[IMC_SHA256_BYTES];
} ck_file;

static imc_status checksum(uint8_t out[IMC_SHA256_BYTES], const scale_config *cfg,
                           const ck_file *f)
{
    return imc_crypto_sha256(cfg->b, out, (const uint8_t *)f, offsetof(ck_file, sum));
}

int scale_checkpoint_load(scale_checkpoint *ck, const scale_config *cfg)
{
    memset(ck, 0, sizeof *ck);
    ck->next = cfg->lo;
    for (int s = 0; s < ST_COUNT; s++)
        scale_hist_init(&ck->res.hist[s]);
    if (cfg->checkpoint_path == NULL)
        return 0;
    FILE *fp = fopen(cfg->checkpoint_path, "rb");
    if (fp == NULL && errno == ENOENT)
        return 0;
    if (fp == NULL) {
        scale_err("cannot read checkpoint %s: %s", cfg->checkpoint_path, strerror(errno));
        return SCALE_EXIT_FAIL;
    }
    ck_file *f = malloc(sizeof *f);
    bool whole = f != NULL && fread(f, 1, sizeof *f, fp) == sizeof *f && fgetc(fp) == EOF;
    fclose(fp);
    const char *why = NULL;
    uint8_t sum[IMC_SHA256_BYTES];
    if (f == NULL)
        why = "out of memory";
    else if (!whole || memcmp(f->h.magic, MAGIC, sizeof MAGIC) != 0 ||
             strncmp(f->h.commit, IMC_SCALE_GIT_COMMIT, sizeof f->h.commit) != 0 ||
             f->h.result_bytes != sizeof f->res || checksum(sum, cfg, f) != IMC_OK ||
             !imc_ct_equal(sum, f->sum, sizeof sum))
        why = "not a checkpoint of this build (commit " IMC_SCALE_GIT_COMMIT ") of imcore-scale, "
              "or damaged";
    else if (memcmp(f->h.config_id, cfg->config_id, sizeof cfg->config_id) != 0 ||
             f->h.messages_total != cfg->messages || f->h.lo != cfg->lo || f->h.hi != cfg->hi)
        why = "a checkpoint of other options (configuration, --messages or --shard differ)";
    else if (f->h.next < f->h.lo || f->h.next > f->h.hi ||
             f->res.t.messages != f->h.next - f->h.lo)
        why = "inconsistent (its message count does not match its progress)";
    if (why != NULL) {
        scale_err("checkpoint %s: %s; remove it to start over", cfg->checkpoint_path, why);
        free(f);
        return SCALE_EXIT_FAIL;
    }
    ck->next = f->h.next;
    ck->wall_seconds = f->h.wall_seconds;
    ck->process_cpu_seconds = f->h.process_cpu_seconds;
    ck->resumes = f->h.resumes + 1;
    ck->res = f->res;
    free(f);
    return 0;
}

int scale_checkpoint_save(const scale_checkpoint *ck, const scale_config *cfg)
{
    ck_file *f = calloc(1, sizeof *f);
    size_t n = strlen(cfg->checkpoint_path) + 32;
    char *tmp = malloc(n);
    if (f == NULL || tmp == NULL) {
        free(f);
        free(tmp);
        scale_err("out of memory writing checkpoint %s", cfg->checkpoint_path);
        return SCALE_EXIT_FAIL;
    }
    memcpy(f->h.magic, MAGIC, sizeof MAGIC);
    snprintf(f->h.commit, sizeof f->h.commit, "%s", IMC_SCALE_GIT_COMMIT);
    memcpy(f->h.config_id, cfg->config_id, sizeof cfg->config_id);
    f->h.messages_total = cfg->messages;
    f->h.lo = cfg->lo;
    f->h.hi = cfg->hi;
    f->h.next = ck->next;
    f->h.result_bytes = sizeof f->res;
    f->h.wall_seconds = ck->wall_seconds;
    f->h.process_cpu_seconds = ck->process_cpu_seconds;
    f->h.resumes = ck->resumes;
    f->res = ck->res;
    bool ok = checksum(f->sum, cfg, f) == IMC_OK;
    snprintf(tmp, n, "%s.tmp.%ld", cfg->checkpoint_path, (long)getpid());
    FILE *fp = ok ? fopen(tmp, "wb") : NULL;
    ok = fp != NULL && fwrite(f, 1, sizeof *f, fp) == sizeof *f;
    if (fp != NULL)
        ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0 && fclose(fp) == 0 && ok;
    if (ok && rename(tmp, cfg->checkpoint_path) != 0)
        ok = false;
    if (!ok) {
        scale_err("cannot write checkpoint %s: %s", cfg->checkpoint_path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(f);
    return ok ? 0 : SCALE_EXIT_FAIL;
}
