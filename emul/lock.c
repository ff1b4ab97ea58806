/*
 * lock.c - the slow paths of the engine's locks and the heap-level
 * concurrency built on them: the lookup cache, thread slots and shards,
 * entering a heap, and ph_heap_lock.  The protocol is written at the top
 * of lock.h.
 */
#include "engine.h"
#include "track.h"

struct ph__lock_counts ph__lock_counts;

/* ---- thread identity ------------------------------------------------------ */

_Thread_local struct ph__thread ph__thread PH_TLS_FAST;
static atomic_uintptr_t next_thread_id = 1;

uintptr_t ph__thread_id_assign(void) {
  uintptr_t id = atomic_fetch_add_explicit(&next_thread_id, 1,
                                           memory_order_relaxed);
  ph__thread.id = id;
  return id;
}

/* ---- the mutex -------------------------------------------------------------- */

/* Spin a little (the holder is inside one short operation), then sleep:
 * state 2 tells the holder's unlock to wake a sleeper. */
void ph__mutex_lock_slow(ph__mutex_t* m) {
  ph__count(&ph__lock_counts.contended);
  for (unsigned spins = 0; spins < PH__SPIN_LIMIT; spins++) {
    PH__CPU_RELAX();
    if (ph__mutex_try(m))
      return;
  }
  while (atomic_exchange_explicit(&m->state, 2, memory_order_acquire) != 0) {
    ph__count(&ph__lock_counts.sleeps);
    ph__prim_wait(&m->state, 2);
  }
}

void ph__mutex_wake(ph__mutex_t* m) {
  ph__prim_wake(&m->state, false);
}

/* ---- the biased lock -------------------------------------------------------- */

atomic_bool ph__bias_on;

void ph__biased_setup(bool allowed) {
  atomic_store(&ph__bias_on, allowed && ph__prim_fence_all_init());
}

/* The fence stopped working: no bias is granted from now on. */
static void fence_failed(void) {
  ph__count(&ph__lock_counts.fence_failures);
  atomic_store(&ph__bias_on, false);
}

/* The process-wide fence of a revocation (lock.h): without it, exclusion
 * cannot be guaranteed, so the process ends. */
static void revoke_fence(void) {
  if (ph__prim_fence_all())
    return;
  fence_failed();
  ph__prim_write_error(
      "portheap: the process-wide memory barrier (membarrier) failed while "
      "revoking a biased heap lock; exclusion cannot be guaranteed, so the "
      "process ends.  Run with PORTHEAP_BIASED_LOCKS=0 where a seccomp "
      "filter may forbid membarrier.\n");
  ph__prim_abort();
}

static bool token_take(uintptr_t holder, ph__biased_t* lock);

/* Take lock's mutex and, if another thread holds its bias, take that
 * away (bias = 0) with its token (lock.h); the caller then runs
 * revoke_finish.  Returns the holder whose bias it revokes, or 0; *met:
 * whether the mutex was taken. */
static uintptr_t lock_begin(ph__biased_t* lock, uintptr_t self, bool* met) {
  *met = ph__mutex_lock(&lock->mutex);
  uintptr_t holder = atomic_load_explicit(&lock->bias, memory_order_relaxed);
  if (holder == 0 || holder == self)
    return 0;
  atomic_store_explicit(&lock->bias, 0, memory_order_relaxed);
  ph__count(&ph__lock_counts.revocations);
  token_take(holder, lock);
  return holder;
}

/* After the fence: wait for the old holder to leave the one operation it
 * may be inside; a lock revoked again must be shared for longer before it
 * is biased again.  Returns whether the threads met: the holder was
 * inside, or the lock has been revoked three times (threads that take
 * turns on one processor seldom meet inside, yet share the lock: as
 * separate shards, prod-cons on one processor went from 44 to 28 ns a
 * block). */
static bool revoke_wait(ph__biased_t* lock) {
  bool inside = false;
  for (unsigned spins = 0;
       atomic_load_explicit(&lock->busy, memory_order_acquire) != 0; spins++) {
    inside = true;
    if (spins < PH__SPIN_LIMIT)
      PH__CPU_RELAX();
    else
      ph__prim_yield(); /* bounded: the holder is inside one operation */
  }
  if (lock->streak_goal < PH__BIAS_GOAL_MAX)
    lock->streak_goal *= 2;
  return inside || lock->streak_goal >= PH__BIAS_GOAL_SHARED;
}

/* After lock_begin revoked the biases of locks[0..n) from holders[i]: the
 * fence; each holder's token once more, in case it set it as the bias went
 * (lock.h: the fast token), and if one was, a second fence; then the wait
 * for each holder to leave the operation it may be inside.  Returns
 * whether a holder was met (revoke_wait). */
static bool revoke_finish(ph__biased_t* const* locks, const uintptr_t* holders,
                          unsigned n) {
  revoke_fence();
  bool again = false;
  for (unsigned i = 0; i < n; i++)
    again |= token_take(holders[i], locks[i]);
  if (again)
    revoke_fence();
  bool met = false;
  for (unsigned i = 0; i < n; i++)
    met |= revoke_wait(locks[i]);
  return met;
}

bool ph__biased_lock(ph__biased_t* lock, uintptr_t self) {
  bool met;
  uintptr_t holder = lock_begin(lock, self, &met);
  if (holder != 0)
    met |= revoke_finish(&lock, &holder, 1);
  return met;
}

/* Grant self the bias, if the fence still works: it is re-tested at a
 * grant at most every PH__FENCE_RETEST_MS (a membarrier costs
 * microseconds, and a program that makes a heap per request grants a
 * bias per heap), so a fence that stops working is found at a grant
 * rather than at a revocation, where it would end the process, unless
 * both fall in the same short window. */
#define PH__FENCE_RETEST_MS 100u
static atomic_uint_fast64_t fence_tested_at; /* ph__prim_now_ms + 1; 0: never */

static bool bias_grant(ph__biased_t* lock, uintptr_t self) {
  uint64_t now = ph__prim_now_ms() + 1;
  uint64_t tested = atomic_load_explicit(&fence_tested_at, memory_order_relaxed);
  if (tested == 0 || now - tested >= PH__FENCE_RETEST_MS) {
    if (!ph__prim_fence_all()) {
      fence_failed();
      return false;
    }
    atomic_store_explicit(&fence_tested_at, now, memory_order_relaxed);
  }
  ph__count(&ph__lock_counts.grants);
  atomic_store_explicit(&lock->bias, self, memory_order_relaxed);
  return true;
}

void ph__biased_init(ph__biased_t* lock) {
  atomic_init(&lock->bias, 0);
  atomic_init(&lock->busy, 0);
  lock->mutex = (ph__mutex_t)PH__MUTEX_INIT;
  lock->streak_thread = 0;
  lock->streak = 0;
  lock->streak_goal = PH__BIAS_GOAL_MIN;
}

bool ph__biased_give(ph__biased_t* lock, uintptr_t maker) {
  return ph__biasing() && bias_grant(lock, maker);
}

bool ph__biased_note(ph__biased_t* lock, uintptr_t self) {
  if (lock->streak_thread != self) {
    lock->streak_thread = self;
    lock->streak = 0;
  }
  if (++lock->streak < lock->streak_goal ||
      atomic_load_explicit(&lock->bias, memory_order_relaxed) == self)
    return false;
  return ph__biasing() && bias_grant(lock, self);
}

/* ---- fast tokens -------------------------------------------------------------
 * The list of threads that have had a token (lock.h: the fast token), so
 * that a revoker finds the holder's by its id.  A thread joins it as it is
 * first given a token, if its exit can be hooked (else it has none: its
 * fast paths take the other ways in), and leaves it as it exits, its token
 * cleared first; after that it never joins again, as nothing would take
 * it off.  A revocation walks the list under threads_mutex, so a record is
 * read only while its thread is alive.  When the library is unloaded or
 * the process ends, exits are no longer hooked: tokens_teardown clears
 * every token and empties the list for good (a thread without a token
 * enters through the bias handshake, which needs no list).
 */
static ph__mutex_t threads_mutex = PH__MUTEX_INIT;
static struct ph__thread* threads; /* under threads_mutex */
static atomic_bool tokens_off;     /* set once, by tokens_teardown */
static _Thread_local bool thread_gone PH_TLS_FAST; /* thread_unlist ran */

static bool exit_hook(void);

/* The shard whose lock is `lock` (every biased lock is a heap's). */
static struct ph__heap* lock_shard(ph__biased_t* lock) {
  return (struct ph__heap*)((char*)lock - offsetof(struct ph__heap, lock));
}

/* Clear the token of thread `holder` if it names lock's shard: whether it
 * did. */
static bool token_take(uintptr_t holder, ph__biased_t* lock) {
  bool took = false;
  ph__mutex_lock(&threads_mutex);
  for (struct ph__thread* t = threads; t != NULL; t = t->next) {
    if (t->id != holder)
      continue;
    struct ph__heap* named = lock_shard(lock);
    took = atomic_compare_exchange_strong(&t->fast, &named, NULL);
    break;
  }
  ph__mutex_unlock(&threads_mutex);
  return took;
}

/* Put the calling thread on the list: false if its exit cannot be hooked
 * (it could not leave the list). */
static bool thread_list(void) {
  if (ph__thread.listed)
    return true;
  if (thread_gone || !exit_hook())
    return false;
  ph__mutex_lock(&threads_mutex);
  bool off = atomic_load_explicit(&tokens_off, memory_order_relaxed);
  if (!off) {
    ph__thread.next = threads;
    threads = &ph__thread;
    ph__thread.listed = true;
  }
  ph__mutex_unlock(&threads_mutex);
  return !off;
}

/* As the calling thread exits: its token cleared, then off the list. */
static void thread_unlist(void) {
  thread_gone = true;
  atomic_store_explicit(&ph__thread.fast, NULL, memory_order_relaxed);
  if (!ph__thread.listed)
    return;
  ph__mutex_lock(&threads_mutex);
  struct ph__thread** at = &threads;
  while (*at != NULL && *at != &ph__thread)
    at = &(*at)->next;
  if (*at != NULL)
    *at = ph__thread.next;
  ph__mutex_unlock(&threads_mutex);
  ph__thread.listed = false;
}

void ph__thread_token_set(void) {
  struct ph__heap* s = ph__thread.shard;
  uintptr_t self = ph__thread.id;
  if (s == NULL || s == &ph__fast_none || self == 0 ||
      atomic_load_explicit(&s->lock.bias, memory_order_relaxed) != self ||
      !thread_list()) {
    atomic_store_explicit(&ph__thread.fast, NULL, memory_order_relaxed);
    return;
  }
  atomic_store_explicit(&ph__thread.fast, s, memory_order_relaxed);
  /* A revoker's fence stands for one here: it looks at the token again
   * after its fence (revoke_finish); so does tokens_teardown. */
  atomic_signal_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&s->lock.bias, memory_order_relaxed) != self ||
      atomic_load_explicit(&tokens_off, memory_order_relaxed))
    atomic_store_explicit(&ph__thread.fast, NULL, memory_order_relaxed);
}

void ph__heap_tokens_forget(struct ph__heap* h) {
  /* Shards other than h are made only once h has spread. */
  bool spread = atomic_load_explicit(&h->spread, memory_order_relaxed);
  for (struct ph__heap* s = h; s != NULL;
       s = spread ? ph__heap_next_shard(s) : NULL) {
    struct ph__heap* own = s;
    atomic_compare_exchange_strong(&ph__thread.fast, &own, NULL);
    uintptr_t holder = atomic_load_explicit(&s->lock.bias,
                                            memory_order_relaxed);
    if (holder != 0 && holder != ph__thread.id)
      token_take(holder, &s->lock);
  }
}

#if defined(__GNUC__)
/* As the library is unloaded or the process ends (see above): a thread
 * setting its token now either sees tokens_off after the fence, or its
 * token is seen here.  The list's mutex is tried for a while, not waited
 * for: as a Windows process ends, its other threads are gone, and one
 * may have held it (then no thread is left to need the list). */
__attribute__((destructor)) static void tokens_teardown(void) {
  atomic_store(&tokens_off, true);
  ph__prim_fence_all();
  for (unsigned tries = 0; !ph__mutex_try(&threads_mutex); tries++) {
    if (tries == 1000)
      return;
    ph__prim_yield();
  }
  for (struct ph__thread* t = threads; t != NULL; t = t->next)
    atomic_store(&t->fast, NULL);
  threads = NULL;
  ph__mutex_unlock(&threads_mutex);
}
#endif

/* In a child after fork(): the only thread is the calling one, and no
 * bias is held (the handler resets them). */
void ph__thread_tokens_fork_child(void) {
  ph__mutex_reset(&threads_mutex);
  atomic_store_explicit(&ph__thread.fast, NULL, memory_order_relaxed);
  threads = NULL;
  if (ph__thread.listed) {
    ph__thread.next = NULL;
    threads = &ph__thread;
  }
}

/* ---- biases given back as a thread exits ------------------------------------
 * A thread that exits holding a shard's bias leaves it to the next thread
 * of its slot to revoke: a process-wide fence (a membarrier: tens of
 * microseconds), and since a revoked lock must be shared for longer before
 * it is biased again, that thread's first entries through the mutex.  So
 * a thread remembers the shards whose bias it was given (up to PH__HELD;
 * a bias past them is revoked when needed, as before) and, as it exits,
 * sets each bias it still holds back to 0 under the shard's mutex: no
 * fence, as it is inside no operation.  A shard is used only once found
 * again among the live heaps, under the registry lock (a heap destroyed
 * since is skipped; one being destroyed waits for that lock), and its
 * bias is cleared only if it is still this thread's.  The mutexes are
 * held for one operation at a time (ph_heap_lock holds none), so the
 * exiting thread waits for no ph_heap_lock owner (lock order: registry,
 * then heaps).
 */
#define PH__HELD 8u

struct held_bias {
  struct ph__heap* top; /* the shard's heap when it was given */
  struct ph__heap* shard;
  unsigned slot;        /* its index in top->shards; PH__SHARDS: top itself */
};
static _Thread_local struct held_bias held[PH__HELD] PH_TLS_FAST;
static _Thread_local unsigned held_n PH_TLS_FAST;

/* Whether shard (a pointer to compare, not to read) is still `slot` of
 * live heap top. */
static bool held_live(struct ph__heap* top, const struct held_bias* b) {
  return b->slot == PH__SHARDS
             ? b->shard == top
             : b->shard == atomic_load_explicit(&top->shards[b->slot],
                                                memory_order_acquire);
}

static void held_release(struct ph__heap* top, void* self) {
  for (unsigned i = 0; i < held_n; i++) {
    if (held[i].top != top || !held_live(top, &held[i]))
      continue;
    ph__biased_t* lock = &held[i].shard->lock;
    ph__mutex_lock(&lock->mutex);
    if (atomic_load_explicit(&lock->bias, memory_order_relaxed) ==
        (uintptr_t)self)
      atomic_store_explicit(&lock->bias, 0, memory_order_relaxed);
    ph__mutex_unlock(&lock->mutex);
  }
}

static void held_give_back(void) {
  if (held_n == 0)
    return;
  ph__registry_foreach(held_release, (void*)ph__thread.id);
  held_n = 0;
}

/* The calling thread was given shard s's bias: remember it. */
static void held_add(struct ph__heap* s) {
  for (unsigned i = 0; i < held_n; i++)
    if (held[i].shard == s)
      return;
  if (held_n == PH__HELD || !exit_hook())
    return;
  held[held_n++] = (struct held_bias){
      .top = s->top, .shard = s, .slot = s == s->top ? PH__SHARDS : s->slot};
}

/* The calling thread was given shard s's bias: remembered, and its token
 * if s is its shard. */
static void bias_taken(struct ph__heap* s) {
  held_add(s);
  if (s == ph__thread.shard)
    ph__thread_token_set();
}

void ph__heap_give_bias(struct ph__heap* s) {
  if (ph__biased_give(&s->lock, ph__thread_self()))
    bias_taken(s);
}

/* ---- thread slots ----------------------------------------------------------
 * A thread's slot picks its shard of every spread heap (lock.h).  A thread
 * takes the lowest slot no live thread has: a thread started after
 * another exited takes that one's slot, and with it shards whose runs and
 * pages are still there (a program whose threads come and go uses as many
 * shards as it has threads at a time, not 64).  slot_users[i] counts the
 * threads that have slot i, a free one claimed by a compare-exchange,
 * given back as a thread exits (thread_exit) or moves; they are hints,
 * like the slot itself.  With every slot taken (more than 64 threads),
 * and for a thread whose exit cannot be hooked (not counted), slots are
 * given in turn.
 */
static atomic_uint slot_users[PH__SHARDS];
static atomic_uint slots_given;
static _Thread_local bool exit_hooked PH_TLS_FAST;  /* thread_exit will run */
static _Thread_local bool slot_counted PH_TLS_FAST; /* slot_users counts
                                                       this thread */

static void slot_give_back(void) {
  unsigned s = ph__thread.slot_plus1;
  if (s != 0 && slot_counted)
    atomic_fetch_sub_explicit(&slot_users[s - 1], 1, memory_order_relaxed);
  slot_counted = false;
}

/* As the calling thread exits: its token, its biases and its slot given
 * back. */
static void thread_exit(void) {
  thread_unlist();
  held_give_back();
  slot_give_back();
}

/* Whether thread_exit will run as the calling thread exits. */
static bool exit_hook(void) {
  if (!exit_hooked)
    exit_hooked = ph__prim_on_thread_exit(thread_exit);
  return exit_hooked;
}

/* The next slot in turn, other than `not`. */
static unsigned slot_in_turn(unsigned not) {
  unsigned s;
  do
    s = atomic_fetch_add(&slots_given, 1) % PH__SHARDS;
  while (s == not);
  return s;
}

/* Claim the lowest slot that no thread has, other than `not`; with none,
 * the next in turn (so that threads beyond 64 that keep meeting spread
 * over all slots, not over the lowest). */
static unsigned slot_claim(unsigned not) {
  for (unsigned i = 0; i < PH__SHARDS; i++) {
    unsigned none = 0;
    if (i != not &&
        atomic_load_explicit(&slot_users[i], memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&slot_users[i], &none, 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
      return i;
  }
  unsigned s = slot_in_turn(not);
  atomic_fetch_add_explicit(&slot_users[s], 1, memory_order_relaxed);
  return s;
}

/* Give the calling thread a slot (another than its own, if it has one),
 * giving its own back. */
unsigned ph__thread_slot_assign(void) {
  unsigned old = ph__thread.slot_plus1;
  unsigned not = old != 0 ? old - 1 : PH__SHARDS;
  unsigned s;
  if (exit_hook()) {
    s = slot_claim(not);
    slot_give_back();
    slot_counted = true;
  } else {
    s = slot_in_turn(not);
  }
  ph__thread.slot_plus1 = s + 1;
  return s;
}

/* In a child after fork(): only the calling thread has a slot. */
void ph__thread_slots_fork_child(void) {
  for (unsigned i = 0; i < PH__SHARDS; i++)
    atomic_store_explicit(&slot_users[i], 0, memory_order_relaxed);
  unsigned s = ph__thread.slot_plus1;
  if (s != 0 && slot_counted)
    atomic_store_explicit(&slot_users[s - 1], 1, memory_order_relaxed);
}

/* ---- the lookup cache, shards -------------------------------------------- */

atomic_uintptr_t ph__heap_epoch = 1; /* 1: a zeroed thread cache is stale */

/* Never biased (bias 0), its mutex always held, no region: every way in
 * of ph__fast_lock fails on it. */
struct ph__heap ph__fast_none = {.lock = {.mutex = {1}}};

/* The shard of h for the fast paths (fast.h) of this thread, or
 * &ph__fast_none: none under Valgrind (the general paths tell it about
 * every block), nor before the thread's shard exists. */
static struct ph__heap* fast_shard(struct ph__heap* h) {
  struct ph__heap* s = PH_TRACK ? NULL : ph__heap_slot_shard(h);
  return s != NULL ? s : &ph__fast_none;
}

/* Make top heap h this thread's cached lookup; `epoch` was read before h
 * was known to be live (so the entry may be stale, never wrong). */
static void remember(struct ph__heap* h, uintptr_t epoch) {
  ph__thread_self(); /* the token's checks read ph__thread.id */
  ph__thread.handle = ph__heap_handle(h);
  ph__thread.heap = h;
  ph__thread.shard = fast_shard(h);
  ph__thread.epoch = epoch;
  ph__thread_token_set();
}

struct ph__heap* ph__heap_lookup_slow(const void* handle) {
  uintptr_t epoch = atomic_load_explicit(&ph__heap_epoch, memory_order_relaxed);
  struct ph__heap* h = ph__heap_lookup_map(handle);
  if (h != NULL)
    remember(h, epoch);
  return h;
}

void ph__heap_remember(struct ph__heap* h) {
  remember(h, atomic_load_explicit(&ph__heap_epoch, memory_order_relaxed));
}

/* Whether shard s is the one the calling thread allocates from. */
static bool own_shard(const struct ph__heap* s) {
  const struct ph__heap* top = s->top;
  if (!atomic_load_explicit(&top->spread, memory_order_relaxed))
    return s == top;
  unsigned slot = ph__thread.slot_plus1;
  return slot != 0 &&
         s == atomic_load_explicit(&top->shards[slot - 1], memory_order_relaxed);
}

/*
 * The calling thread met another inside shard s of a serialized heap as it
 * entered it (found its mutex taken, or revoked the bias of a thread that
 * was inside); `guest`: the other came to free a block of s, not to
 * allocate.  The first time on a heap, its threads spread to their own
 * slots' shards from then on (a heap used by one thread at a time stays
 * one shard).  After that, if s is the shard the thread allocates from and
 * the other allocates there too, the thread moves to a free slot, or the
 * next in turn, so threads that keep meeting part (a guest would follow the
 * blocks wherever the thread went).  Its cached fast-path shard follows.
 */
static void contended(struct ph__heap* s, bool guest) {
  struct ph__heap* top = s->top;
  if (!top->sharded)
    return;
  if (!atomic_load_explicit(&top->spread, memory_order_relaxed)) {
    atomic_store_explicit(&top->spread, true, memory_order_relaxed);
    /* Every thread's cached shard of top is top itself until now: make
     * them look again (as a destruction does), or a thread would go on
     * allocating from top, not from its slot's shard. */
    atomic_fetch_add(&ph__heap_epoch, 1);
  } else if (!guest && own_shard(s))
    ph__thread_slot_assign();
  if (ph__thread.heap == top) {
    ph__thread.shard = fast_shard(top);
    ph__thread_token_set();
  }
}

/* Make h's shard for `slot`; h itself if that fails (no memory). */
struct ph__heap* ph__heap_shard_new(struct ph__heap* h, unsigned slot) {
  ph__biased_lock(&h->lock, ph__thread_self());
  struct ph__heap* s = atomic_load_explicit(&h->shards[slot],
                                            memory_order_relaxed);
  if (s == NULL) {
    uint32_t error;
    s = ph__heap_new(h->options, 0, 0, 0, &error);
    if (s != NULL) {
      s->top = h;
      s->slot = slot;
      s->sharded = false;
      s->region0.index = ph__heap_index_take(h);
      /* Its thread's from the start, unless a ph_heap_lock holds h: a
       * bias must not let the thread past it (lock.h). */
      if (atomic_load_explicit(&h->owner, memory_order_relaxed) == 0)
        ph__heap_give_bias(s);
      atomic_store_explicit(&h->shards[slot], s, memory_order_release);
    }
  }
  ph__biased_unlock(&h->lock);
  if (s != NULL && ph__thread.heap == h) {
    ph__thread.shard = fast_shard(h);
    ph__thread_token_set();
  }
  return s != NULL ? s : h;
}

struct ph__heap* ph__heap_next_shard(const struct ph__heap* s) {
  struct ph__heap* top = s->top;
  for (unsigned i = s->slot + 1; i < PH__SHARDS; i++) {
    struct ph__heap* next = atomic_load(&top->shards[i]);
    if (next != NULL)
      return next;
  }
  return NULL;
}

/* Take every shard's mutex in index order (the lock order), revoking
 * other threads' biases with one fence for them all. */
static void lock_all(struct ph__heap* h, uintptr_t self) {
  ph__biased_t* revoked[PH__SHARDS];
  uintptr_t holders[PH__SHARDS];
  unsigned n = 0;
  for (unsigned i = 0; i < PH__SHARDS; i++) {
    struct ph__heap* s = atomic_load(&h->shards[i]);
    bool met;
    if (s != NULL && (holders[n] = lock_begin(&s->lock, self, &met)) != 0)
      revoked[n++] = &s->lock;
  }
  if (n > 0)
    revoke_finish(revoked, holders, n);
  for (unsigned i = 0; i < PH__SHARDS; i++) { /* a whole, settled heap */
    struct ph__heap* s = atomic_load(&h->shards[i]);
    if (s != NULL)
      ph__remote_take(s);
  }
}

static void unlock_all(struct ph__heap* h) {
  for (unsigned i = PH__SHARDS; i-- > 0;) {
    struct ph__heap* s = atomic_load(&h->shards[i]);
    if (s != NULL)
      ph__biased_unlock(&s->lock);
  }
}

/*
 * Enter every shard of top heap h (in index order: the lock order), for
 * an operation that reads the whole heap.  Returns whether locks were
 * taken; pass that to ph__heap_leave_all.
 */
bool ph__heap_enter_all(struct ph__heap* h, uint32_t flags) {
  if ((h->options | flags) & PH_HEAP_NO_SERIALIZE)
    return false;
  uintptr_t self = ph__thread_self();
  for (;;) {
    lock_all(h, self);
    uintptr_t owner = atomic_load_explicit(&h->owner, memory_order_relaxed);
    if (owner == 0 || owner == self)
      return true;
    unlock_all(h);
    ph__heap_wait_owner(h);
  }
}

/* ph__heap_enter_all for a process-wide pass, which must not wait for a
 * ph_heap_lock owner (lock.h): false, holding nothing, if another thread
 * holds h with ph_heap_lock.  h is serialized. */
bool ph__heap_enter_all_now(struct ph__heap* h) {
  uintptr_t self = ph__thread_self();
  lock_all(h, self);
  uintptr_t owner = atomic_load_explicit(&h->owner, memory_order_relaxed);
  if (owner == 0 || owner == self)
    return true;
  unlock_all(h);
  return false;
}

void ph__heap_leave_all(struct ph__heap* h, bool locked) {
  if (locked)
    unlock_all(h);
}

/* A shard's mutex held while its bias is 0 excludes every other thread:
 * one without the bias enters through the mutex, and the bias is set
 * only under it.  ph_heap_lock takes every shard's mutex before it sets
 * the owner, so an owner seen here holds the heap already.  The caller
 * may be inside another shard: it waits for nothing, so the lock order
 * does not apply. */
bool ph__heap_enter_alone(struct ph__heap* s) {
  if (!ph__mutex_try(&s->lock.mutex))
    return false;
  uintptr_t owner = atomic_load_explicit(&s->top->owner, memory_order_relaxed);
  if (atomic_load_explicit(&s->lock.bias, memory_order_relaxed) == 0 &&
      (owner == 0 || owner == ph__thread_self()))
    return true;
  ph__mutex_unlock(&s->lock.mutex);
  return false;
}

void ph__heap_leave_alone(struct ph__heap* s) {
  ph__mutex_unlock(&s->lock.mutex);
}

/* ---- the heap's lock --------------------------------------------------- */

/* ph__heap_enter for a thread without h's bias: the mutex, then the wait
 * for a ph_heap_lock held by another thread.  Only with no such holder
 * does the entry count towards a bias (so a bias never lets a thread past
 * a ph_heap_lock: taking one revokes every bias). */
enum ph__entry ph__heap_enter_slow(struct ph__heap* h, uintptr_t self) {
  for (;;) {
    bool met = ph__biased_lock(&h->lock, self);
    bool after_guest = h->guest; /* the thread before, if met */
    bool guest = !own_shard(h);
    uintptr_t owner =
        atomic_load_explicit(&h->top->owner, memory_order_relaxed);
    if (owner == 0 && !guest && /* a guest neither breaks nor makes a streak */
        ph__biased_note(&h->lock, self))
      bias_taken(h);
    if (owner == 0 || owner == self) {
      h->guest = guest;
      if (met)
        contended(h, after_guest);
      return PH__ENTRY_MUTEX;
    }
    ph__biased_unlock(&h->lock);
    ph__heap_wait_owner(h->top);
  }
}

/*
 * Wait, holding no lock, until no other thread holds top heap h with
 * ph_heap_lock.  A short spin, then sleep on owner_seq, which the release
 * bumps.  No wake is lost: a sleeper counts itself in owner_sleepers and
 * re-reads owner (both seq_cst) before it sleeps; the release stores
 * owner = 0, bumps owner_seq and reads owner_sleepers (seq_cst too), so
 * either the release sees the sleeper and wakes it, or the sleeper sees
 * owner = 0; and a sleeper that read owner_seq before the bump does not
 * sleep, as the word no longer holds what it read.
 */
void ph__heap_wait_owner(struct ph__heap* h) {
  ph__count(&ph__lock_counts.owner_waits);
  for (unsigned spins = 0;; spins++) {
    unsigned seq = atomic_load_explicit(&h->owner_seq, memory_order_acquire);
    if (atomic_load_explicit(&h->owner, memory_order_acquire) == 0)
      return;
    if (spins < PH__SPIN_LIMIT) {
      PH__CPU_RELAX();
      continue;
    }
    atomic_fetch_add(&h->owner_sleepers, 1);
    if (atomic_load(&h->owner) != 0) {
      ph__count(&ph__lock_counts.sleeps);
      ph__prim_wait(&h->owner_seq, seq);
    }
    atomic_fetch_sub(&h->owner_sleepers, 1);
  }
}

/* ph_heap_unlock's last release: wake the threads waiting for it. */
static void owner_release(struct ph__heap* h) {
  atomic_store(&h->owner, 0);
  atomic_fetch_add(&h->owner_seq, 1);
  if (atomic_load(&h->owner_sleepers) != 0)
    ph__prim_wake(&h->owner_seq, true);
}

/* ph_heap_lock: every shard's lock is taken at once, so no operation is
 * half done when the calling thread becomes the owner; from then on the
 * others wait in ph__heap_enter until ph__heap_user_unlock. */
bool ph__heap_user_lock(struct ph__heap* h) {
  if (h->options & PH_HEAP_NO_SERIALIZE)
    return true;
  uintptr_t self = ph__thread_self();
  for (;;) {
    lock_all(h, self);
    uintptr_t owner = atomic_load_explicit(&h->owner, memory_order_relaxed);
    if (owner == 0 || owner == self) {
      atomic_store_explicit(&h->owner, self, memory_order_relaxed);
      h->owner_depth++;
      unlock_all(h);
      return true;
    }
    unlock_all(h);
    ph__heap_wait_owner(h);
  }
}

bool ph__heap_user_unlock(struct ph__heap* h) {
  if (h->options & PH_HEAP_NO_SERIALIZE)
    return true;
  bool ok = false;
  uintptr_t self = ph__thread_self();
  ph__biased_lock(&h->lock, self);
  if (atomic_load_explicit(&h->owner, memory_order_relaxed) == self) {
    ok = true;
    if (--h->owner_depth == 0)
      owner_release(h);
  }
  ph__biased_unlock(&h->lock);
  return ok;
}
