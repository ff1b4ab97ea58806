/*
 * alias-probe - what this processor charges when a store whose address
 * comes late hits the word a later load reads only some of the time.
 *
 * It does what the runs' fast paths do to their bitmaps (docs/threads.md,
 * "Where portheap stands"), and nothing else: a "free" loads a pointer
 * at random from a table (its address late, as a HeapFree learns its run
 * from the block's header) and sets a bit in the word it points to; an
 * "allocation" clears the lowest set bit of one fixed word (its address
 * early, as the active run's).  The table points at the allocation's
 * word for the given share of its entries, at four other words for the
 * rest.  A second line keeps the free's bits in a word of their own
 * (the check of the shared word kept), which the allocation never reads.
 *
 * Built on demand, never run by `make check`:
 *   make bench/alias-probe && ./bench/alias-probe
 * Prints the fastest of 5 rounds of 10 million pairs for each share, in
 * ns a pair, and its ratio to the 0 % line: on session 20's machine (AMD
 * EPYC) 1.73 ns never, 1.75 always, 3.02-4.68 in between; 1.7-2.2 at
 * every share with the bits apart.  No threshold: a machine's own figures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { TABLE = 1024, ROUNDS = 5, PAIRS = 10 * 1000 * 1000 };

struct word { /* a bitmap word, alone on its cache line */
  uint64_t bits;
  uint64_t apart; /* the free's bits when they are kept apart */
  char pad[48];
};

static struct word words[5];          /* [0]: the allocation's */
static struct word* table[TABLE];     /* the free's pointers */
static struct word* volatile active;  /* read once a pair, as a shard's */

static double now_ns(void) {
  struct timespec t;
  timespec_get(&t, TIME_UTC);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t next(uint64_t* x) { /* xorshift64 */
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Point `percent` % of the table at the allocation's word, the rest at
 * the four others, in a shuffled order. */
static void fill_table(int percent) {
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < TABLE; i++)
    table[i] = i * 100 < percent * TABLE ? &words[0] : &words[1 + i % 4];
  for (int i = TABLE - 1; i > 0; i--) {
    int k = (int)(next(&x) % (uint64_t)(i + 1));
    struct word* t = table[i];
    table[i] = table[k];
    table[k] = t;
  }
  for (int i = 0; i < 5; i++)
    words[i].bits = words[i].apart = ~0ull;
}

/* ns a pair of one round; `apart`: the free's bits in their own word. */
static double round_ns(int apart) {
  uint64_t x = 88172645463325252ull, sum = 0;
  double t0 = now_ns();
  for (long n = 0; n < PAIRS; n++) {
    uint64_t r = next(&x);
    struct word* f = table[r & (TABLE - 1)];
    uint64_t bit = 1ull << ((r >> 20) & 63);
    if (apart) {
      uint64_t a = f->apart;
      sum += (f->bits | a) & bit ? 1 : 0; /* the check of a second free */
      f->apart = a | bit;
    } else {
      f->bits |= bit;
    }
    struct word* w = active;
    uint64_t b = w->bits;
    sum += (uint64_t)__builtin_ctzll(b | (1ull << 63));
    w->bits = b & (b - 1) ? b & (b - 1) : ~0ull;
  }
  double t = (now_ns() - t0) / PAIRS;
  if (sum == 42) /* keeps the loop's work */
    puts("");
  return t;
}

int main(void) {
  static const int shares[] = {0, 5, 20, 50, 90, 100};
  enum { N = sizeof shares / sizeof shares[0] };
  double best[2][N];
  active = &words[0];
  for (int a = 0; a < 2; a++)
    for (int s = 0; s < N; s++)
      best[a][s] = 1e30;
  for (int round = 0; round < ROUNDS; round++)
    for (int a = 0; a < 2; a++)
      for (int s = 0; s < N; s++) {
        fill_table(shares[s]);
        double t = round_ns(a);
        if (t < best[a][s])
          best[a][s] = t;
      }
  printf("the free's word is the allocation's in:");
  for (int s = 0; s < N; s++)
    printf(" %7d%%", shares[s]);
  printf("\n");
  for (int a = 0; a < 2; a++) {
    printf("%-39s", a ? "bits apart, ns a pair:" : "one word, ns a pair:");
    for (int s = 0; s < N; s++)
      printf(" %8.2f", best[a][s]);
    printf("\n%-39s", "  ratio to 0 %:");
    for (int s = 0; s < N; s++)
      printf(" %8.2f", best[a][s] / best[a][0]);
    printf("\n");
  }
  return 0;
}
