/*
 * remote.c - frees from other threads.  A thread freeing a block of a
 * shard it does not allocate from (a guest) does not take that shard's
 * lock: it marks the block and pushes it on the shard's remote list, and
 * the shard releases it later under its own lock (ph__remote_drain).  The
 * protocol, and why it is safe, is lock.h's ("Frees from other threads").
 */
#include "runs.h"
#include "small.h"
#include "track.h"

/* The payload of a block on a remote list (the block is still BUSY). */
struct ph__remote_link {
  uintptr_t mark; /* ph__remote_mark(shard, block) */
  uintptr_t next; /* the next block of the list, encoded (ph__encode) */
};

/* Mark BUSY block (or run slot) b of shard s as freed by a guest and push
 * it on s's list.  False, nothing done, if it was marked already, or is a
 * free run slot (its free mark, ph__free_mark): a second free. */
static bool remote_push(struct ph__heap* s, struct ph__block* b) {
  struct ph__remote_link* l = (struct ph__remote_link*)ph__block_data(b);
  uintptr_t mark = ph__remote_mark(s, b);
  /* The caller's own block: the atomic exchange decides between two
   * threads that free it at once. */
  _Atomic(uintptr_t)* first = (_Atomic(uintptr_t)*)&l->mark;
  uintptr_t was = atomic_load_explicit(first, memory_order_relaxed);
  if ((was | 1u) == (mark | 1u) || /* marked, or a run slot's free mark */
      !atomic_compare_exchange_strong_explicit(
                         first, &was, mark, memory_order_relaxed,
                         memory_order_relaxed))
    return false;
  if (!atomic_load_explicit(&s->guests, memory_order_relaxed)) /* once */
    atomic_store_explicit(&s->guests, 1, memory_order_relaxed);
  struct ph__block* head = atomic_load_explicit(&s->remote, memory_order_relaxed);
  do
    l->next = ph__encode(s, &l->next, head);
  while (!atomic_compare_exchange_weak_explicit(
      &s->remote, &head, b, memory_order_release, memory_order_relaxed));
  return true;
}

/* Every PH__REMOTE_EVERY-th guest free of a thread looks whether s's
 * owner has released its list since the last such look (by any thread):
 * if it has not, the free goes the general way, which enters s (revoking
 * its owner's bias) and releases the list, so a shard whose owner no
 * longer allocates (it exited, sleeps, or only frees) holds a bounded
 * number of blocks pending; an owner that keeps releasing its list is
 * left alone (revoking it every 4096th guest free cost larson 1-3 ns a
 * pair: its bias revoked 118 times a million operations).  The counts
 * are hints: a look that races with another only moves the next general
 * free. */
#define PH__REMOTE_EVERY 4096u

static bool remote_owner_idle(struct ph__heap* s) {
  unsigned drains = atomic_load_explicit(&s->remote_drains, memory_order_relaxed);
  if (atomic_load_explicit(&s->remote_seen, memory_order_relaxed) == drains)
    return true;
  atomic_store_explicit(&s->remote_seen, drains, memory_order_relaxed);
  return false;
}

bool ph__remote_free(struct ph__heap* s, struct ph__region* r, void* data) {
  if (PH_TRACK || (s->options & PH_HEAP_NO_SERIALIZE) ||
      atomic_load_explicit(&s->top->owner, memory_order_relaxed) != 0 ||
      (++ph__thread.remote_frees % PH__REMOTE_EVERY == 0 &&
       remote_owner_idle(s)))
    return false; /* the general path: the mutex, HeapLock's wait */
  /* Without s's lock: the header read in one atomic load, as its owner may
   * be setting its PH__PREV_FREE (ph__block_mark_prev). */
  struct ph__block* b = ph__region_spot(r, data);
  if (b == NULL)
    return false;
  uint64_t w = ph__block_word_shared(b);
  unsigned state = ph__block_word_state(w); /* a run slot's, free or not:
                                               its free mark */
  return ph__block_word_sealed(&s->seal, b, w) &&
         (state == PH__STATE_BUSY || state == PH__STATE_RUN) &&
         remote_push(s, b);
}

void ph__remote_drain(struct ph__heap* s) {
  struct ph__block* b =
      atomic_exchange_explicit(&s->remote, NULL, memory_order_acquire);
  atomic_store_explicit(&s->remote_drains,
                        atomic_load_explicit(&s->remote_drains,
                                             memory_order_relaxed) + 1,
                        memory_order_relaxed); /* only s's holder writes it */
  if (b != NULL && s->runs) /* guests free here: free slots get the mark */
    s->runs |= PH__RUNS_MARKED;
  while (b != NULL) {
    const struct ph__remote_link* l =
        (const struct ph__remote_link*)ph__block_data(b);
    /* A released block is no longer BUSY: a cycle stops here too. */
    if (!ph__block_owned(s, b) ||
        !ph__block_live(s, b) ||
        l->mark != ph__remote_mark(s, b)) {
      ph__corruption(s, b, "block freed by another thread overwritten");
      return; /* the rest of the list is left, not followed */
    }
    struct ph__block* next = ph__decode(s, &l->next, l->next);
    ph__heap_free_block(s, b); /* the mark goes: links or a free mark */
    b = next;
  }
}
