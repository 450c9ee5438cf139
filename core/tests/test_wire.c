/* The wire reader and writer: every integer width, sticky errors, finish
 * with short and trailing input, reserve, spans, and empty buffers. */
#include "test.h"

static void test_integers(void)
{
    uint8_t buf[32];
    imc_writer w;
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u8(&w, 0xA1);
    imc_wire_write_u16(&w, 0xB2C3);
    imc_wire_write_u32(&w, 0xD4E5F607u);
    imc_wire_write_u64(&w, 0x0102030405060708ull);
    imc_wire_write_bytes(&w, (const uint8_t *)"xyz", 3);
    size_t len = 99;
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    CHECK(len == 1 + 2 + 4 + 8 + 3);
    static const uint8_t want[18] = {0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 1, 2,
                                     3,    4,    5,    6,    7,    8,    'x',  'y', 'z'};
    CHECK(memcmp(buf, want, sizeof want) == 0);

    imc_reader r;
    imc_wire_reader_init(&r, buf, len);
    CHECK(imc_wire_read_u8(&r) == 0xA1);
    CHECK(imc_wire_read_u16(&r) == 0xB2C3);
    CHECK(imc_wire_read_u32(&r) == 0xD4E5F607u);
    CHECK(imc_wire_read_u64(&r) == 0x0102030405060708ull);
    CHECK(imc_wire_remaining(&r) == 3);
    uint8_t three[3];
    imc_wire_read_copy(&r, three, 3);
    CHECK(memcmp(three, "xyz", 3) == 0);
    CHECK(imc_wire_remaining(&r) == 0);
    CHECK_OK(imc_wire_reader_finish(&r));

    /* Extremes of every width survive a round trip. */
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u8(&w, 0xFF);
    imc_wire_write_u16(&w, 0xFFFF);
    imc_wire_write_u32(&w, 0xFFFFFFFFu);
    imc_wire_write_u64(&w, UINT64_MAX);
    imc_wire_write_u64(&w, 0);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    imc_wire_reader_init(&r, buf, len);
    CHECK(imc_wire_read_u8(&r) == 0xFF);
    CHECK(imc_wire_read_u16(&r) == 0xFFFF);
    CHECK(imc_wire_read_u32(&r) == 0xFFFFFFFFu);
    CHECK(imc_wire_read_u64(&r) == UINT64_MAX);
    CHECK(imc_wire_read_u64(&r) == 0);
    CHECK_OK(imc_wire_reader_finish(&r));
}

/* A read one byte past the end fails for every width, and stays failed. */
static void test_reader_sticky(void)
{
    static const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const size_t widths[4] = {1, 2, 4, 8};
    for (size_t i = 0; i < 4; i++) {
        imc_reader r;
        imc_wire_reader_init(&r, in, widths[i] - 1);
        uint64_t v = 1;
        switch (widths[i]) {
        case 1: v = imc_wire_read_u8(&r); break;
        case 2: v = imc_wire_read_u16(&r); break;
        case 4: v = imc_wire_read_u32(&r); break;
        default: v = imc_wire_read_u64(&r); break;
        }
        CHECK(v == 0);
        CHECK(r.err);
        CHECK(imc_wire_remaining(&r) == 0);
        CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);
    }

    imc_reader r;
    imc_wire_reader_init(&r, in, sizeof in);
    CHECK(imc_wire_read_bytes(&r, 9) == NULL);
    /* Sticky: bytes that are there are not handed out any more. */
    CHECK(imc_wire_read_u8(&r) == 0);
    CHECK(imc_wire_read_bytes(&r, 0) == NULL);
    uint8_t copy[4] = {9, 9, 9, 9};
    imc_wire_read_copy(&r, copy, 4);
    CHECK(imc_ct_is_zero(copy, 4));
    CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);

    /* A huge length cannot wrap the bounds check. */
    imc_wire_reader_init(&r, in, sizeof in);
    (void)imc_wire_read_u8(&r);
    CHECK(imc_wire_read_bytes(&r, SIZE_MAX) == NULL);
    CHECK(r.err);

    /* fail() marks a value that parsed but is not allowed. */
    imc_wire_reader_init(&r, in, 1);
    CHECK(imc_wire_read_u8(&r) == 1);
    imc_wire_reader_fail(&r);
    CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);
}

static void test_reader_finish(void)
{
    static const uint8_t in[4] = {0, 1, 2, 3};
    imc_reader r;
    imc_wire_reader_init(&r, in, sizeof in);
    CHECK(imc_wire_read_u16(&r) == 1);
    /* Trailing bytes are an error... */
    CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);
    CHECK(imc_wire_remaining(&r) == 2);
    /* ...until consumed. */
    const uint8_t *p = imc_wire_read_bytes(&r, 2);
    CHECK(p == in + 2);
    CHECK_OK(imc_wire_reader_finish(&r));
    /* A zero-length read at the end is fine and not NULL. */
    CHECK(imc_wire_read_bytes(&r, 0) != NULL);
    CHECK_OK(imc_wire_reader_finish(&r));

    /* Empty and NULL inputs. */
    imc_wire_reader_init(&r, NULL, 0);
    CHECK_OK(imc_wire_reader_finish(&r));
    CHECK(imc_wire_read_bytes(&r, 0) != NULL);
    CHECK(imc_wire_read_u8(&r) == 0);
    CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);
    imc_wire_reader_init(&r, NULL, 5);
    CHECK(r.err);
    CHECK_ST(imc_wire_reader_finish(&r), IMC_ERR_MALFORMED);
}

static void test_reader_since(void)
{
    static const uint8_t in[6] = {10, 11, 12, 13, 14, 15};
    imc_reader r;
    imc_wire_reader_init(&r, in, sizeof in);
    (void)imc_wire_read_u8(&r);
    size_t mark = r.off, n = 99;
    (void)imc_wire_read_u32(&r);
    const uint8_t *span = imc_wire_reader_since(&r, mark, &n);
    CHECK(span == in + 1 && n == 4);
    CHECK(imc_wire_reader_since(&r, r.off + 1, &n) == NULL && n == 0);
    CHECK(imc_wire_reader_since(&r, r.off, &n) != NULL && n == 0);
    (void)imc_wire_read_u16(&r); /* over the end */
    CHECK(imc_wire_reader_since(&r, mark, &n) == NULL && n == 0);
}

static void test_writer(void)
{
    uint8_t buf[8];
    imc_writer w;
    size_t len = 99;

    /* Exactly full is fine; one more byte is sticky. */
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u64(&w, 42);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    CHECK(len == 8);
    imc_wire_write_u8(&w, 1);
    CHECK_ST(imc_wire_writer_finish(&w, &len), IMC_ERR_NO_SPACE);
    CHECK(len == 0);
    CHECK(w.len == 8);

    /* Each width overflowing by one byte. */
    for (size_t width = 1; width <= 8; width *= 2) {
        imc_wire_writer_init(&w, buf, width - 1);
        switch (width) {
        case 1: imc_wire_write_u8(&w, 1); break;
        case 2: imc_wire_write_u16(&w, 1); break;
        case 4: imc_wire_write_u32(&w, 1); break;
        default: imc_wire_write_u64(&w, 1); break;
        }
        CHECK(w.err && w.len == 0);
        /* Once failed, even what would fit is refused. */
        imc_wire_write_bytes(&w, (const uint8_t *)"", 0);
        CHECK(imc_wire_write_reserve(&w, 0) == NULL);
        CHECK_ST(imc_wire_writer_finish(&w, NULL), IMC_ERR_NO_SPACE);
    }

    /* NULL bytes with a length is a writer error; with 0 it is nothing. */
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_bytes(&w, NULL, 0);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    CHECK(len == 0);
    imc_wire_write_bytes(&w, NULL, 1);
    CHECK_ST(imc_wire_writer_finish(&w, &len), IMC_ERR_NO_SPACE);

    /* A writer without a buffer can only write nothing. */
    imc_wire_writer_init(&w, NULL, 0);
    CHECK(imc_wire_write_reserve(&w, 0) != NULL);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    imc_wire_write_u8(&w, 0);
    CHECK_ST(imc_wire_writer_finish(&w, &len), IMC_ERR_NO_SPACE);
    imc_wire_writer_init(&w, NULL, 10);
    CHECK_ST(imc_wire_writer_finish(&w, &len), IMC_ERR_NO_SPACE);
}

static void test_reserve(void)
{
    uint8_t buf[16];
    memset(buf, 0xEE, sizeof buf);
    imc_writer w;
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u16(&w, 0x0102);
    uint8_t *p = imc_wire_write_reserve(&w, 10);
    CHECK(p == buf + 2);
    CHECK(w.len == 12);
    /* Reserved bytes are the caller's to fill, later. */
    imc_wire_write_u32(&w, 0x0A0B0C0D);
    memset(p, 0x55, 10);
    size_t len = 0;
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    CHECK(len == 16);
    CHECK(buf[0] == 1 && buf[1] == 2 && buf[2] == 0x55 && buf[11] == 0x55 && buf[12] == 0x0A &&
          buf[15] == 0x0D);
    CHECK(imc_wire_write_reserve(&w, 0) == buf + 16);
    CHECK(imc_wire_write_reserve(&w, 1) == NULL);
    CHECK_ST(imc_wire_writer_finish(&w, &len), IMC_ERR_NO_SPACE);

    /* A reservation too large for what is left, or absurdly large. */
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u8(&w, 0);
    CHECK(imc_wire_write_reserve(&w, 16) == NULL);
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u8(&w, 0);
    CHECK(imc_wire_write_reserve(&w, SIZE_MAX) == NULL);
    CHECK(w.len == 1);
}

int main(void)
{
    test_integers();
    test_reader_sticky();
    test_reader_finish();
    test_reader_since();
    test_writer();
    test_reserve();
    return imc_test_end();
}
