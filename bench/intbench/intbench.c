/*
 * Bare-metal integer benchmark for the virt board: CRC32 over a buffer,
 * quicksort of pseudo-random ints, 32x32 integer matrix multiply and a
 * sieve of Eratosthenes, repeated ROUNDS times (a -D at build time, the
 * size parameter).  Each kernel folds its results into a checksum, printed
 * on the ns16550a UART at the end, so two emulators can be checked to have
 * computed the same thing; then the sifive_test device powers the machine
 * off.  The program is deterministic: the same build retires the same
 * instructions everywhere, and every round the same number, so a count
 * measured at one size gives the count at any other.  ROUNDS=0 is the
 * start-up probe: it prints the (zero) checksums and powers off.
 */
#include <stdint.h>
#include <stddef.h>

#ifndef ROUNDS
#define ROUNDS 1
#endif

#define UART_BASE     0x10000000UL
#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20
#define TEST_DEVICE   0x100000UL
#define TEST_PASS     0x5555

#define CRC_BYTES   4096
#define SORT_INTS   1024
#define MAT_N       32
#define SIEVE_LIMIT 8192

/* gcc may turn loops into calls to these even with -ffreestanding. */
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

static void putc_uart(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
    while (!(uart[UART_LSR] & UART_LSR_THRE))
        ;
    uart[UART_THR] = (uint8_t)c;
}

static void puts_uart(const char *s)
{
    while (*s)
        putc_uart(*s++);
}

static void print_result(const char *name, uint32_t value)
{
    static const char hex[] = "0123456789abcdef";
    puts_uart(name);
    puts_uart(" 0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        putc_uart(hex[(value >> shift) & 0xf]);
    putc_uart('\n');
}

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* ---- CRC32 (IEEE 802.3, reflected, table-driven) ---- */
static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_BYTES];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_round(uint32_t seed)
{
    for (size_t i = 0; i < CRC_BYTES; i++)
        crc_buf[i] = (uint8_t)xorshift32(&seed);
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < CRC_BYTES; i++)
        crc = crc_table[(crc ^ crc_buf[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- quicksort (Lomuto partition, recursing on the smaller side) ---- */
static int32_t sort_buf[SORT_INTS];

static void quicksort(int32_t *a, long lo, long hi)
{
    while (lo < hi) {
        int32_t pivot = a[(lo + hi) / 2];
        a[(lo + hi) / 2] = a[hi];
        a[hi] = pivot;
        long store = lo;
        for (long i = lo; i < hi; i++) {
            if (a[i] < pivot) {
                int32_t t = a[i];
                a[i] = a[store];
                a[store] = t;
                store++;
            }
        }
        a[hi] = a[store];
        a[store] = pivot;
        if (store - lo < hi - store) {
            quicksort(a, lo, store - 1);
            lo = store + 1;
        } else {
            quicksort(a, store + 1, hi);
            hi = store - 1;
        }
    }
}

static uint32_t sort_round(uint32_t seed)
{
    for (size_t i = 0; i < SORT_INTS; i++)
        sort_buf[i] = (int32_t)xorshift32(&seed);
    quicksort(sort_buf, 0, SORT_INTS - 1);
    uint32_t sum = 0;
    for (size_t i = 0; i < SORT_INTS; i++) {
        if (i && sort_buf[i - 1] > sort_buf[i])
            return 0xbad50f7u;      /* not sorted: a wrong checksum on purpose */
        sum = sum * 31 + (uint32_t)sort_buf[i];
    }
    return sum;
}

/* ---- 32x32 integer matrix multiply ---- */
static int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint32_t matmul_round(uint32_t seed)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            /* 12-bit entries: a dot product of 32 stays within int32_t. */
            mat_a[i][j] = (int32_t)(xorshift32(&seed) & 0xfff) - 0x800;
            mat_b[i][j] = (int32_t)(xorshift32(&seed) & 0xfff) - 0x800;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MAT_N; k++)
                acc += mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
        }
    uint32_t sum = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            sum = sum * 17 + (uint32_t)mat_c[i][j];
    return sum;
}

/* ---- sieve of Eratosthenes ---- */
static uint8_t composite[SIEVE_LIMIT];

static uint32_t sieve_round(void)
{
    memset(composite, 0, SIEVE_LIMIT);
    uint32_t count = 0, sum = 0;
    for (uint32_t n = 2; n < SIEVE_LIMIT; n++) {
        if (composite[n])
            continue;
        count++;
        sum += n;
        for (uint32_t m = n * n; m < SIEVE_LIMIT; m += n)
            composite[m] = 1;
    }
    return count ^ (sum << 8);
}

int main(void)
{
    uint32_t crc = 0, sort = 0, mat = 0, sieve = 0;
    crc32_init();
    for (uint32_t r = 0; r < ROUNDS; r++) {
        /* CRC32 and matmul take the same steps whatever the data, so their
         * data change with the round; quicksort and the sieve get the same
         * input every round.  Every round then retires the same number of
         * instructions, and the count is linear in ROUNDS. */
        uint32_t seed = 0x9e3779b9u ^ (r * 0x85ebca6bu);
        crc ^= crc32_round(seed) + r;
        sort = sort * 3 + sort_round(0x2545f491u);
        mat = mat * 3 + matmul_round(seed);
        sieve = sieve * 3 + sieve_round();
    }
    print_result("crc32", crc);
    print_result("qsort", sort);
    print_result("matmul", mat);
    print_result("sieve", sieve);
    puts_uart("intbench done\n");
    *(volatile uint32_t *)TEST_DEVICE = TEST_PASS;
    for (;;)
        ;
}
