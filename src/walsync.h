/*
 * walsync.h — the hub's WAL sync worker: a pipelined group commit.
 *
 * The loop commits a batch of webhooks without waiting for the disk
 * (store_begin_deferred) and asks the worker for a sync tagged with a
 * sequence number; the worker runs store_wal_sync() in its own thread, so
 * the loop goes on reading and applying the next batch meanwhile.  When a
 * sync returns, everything committed before it started is durable: the
 * worker records the highest sequence number it covered and calls wake()
 * (from its thread) so the loop can answer those webhooks.  Requests that
 * arrive during a sync are served together by the next one.
 *
 * With sync, a commit thread takes the batch's COMMIT itself off the loop
 * (walsync_commit): the loop lends it the store's connection (store_lend)
 * and goes on serving its sockets; the thread commits, gives the
 * connection back and asks for the sync.  Any store call from the loop
 * meanwhile waits for the connection (at most that COMMIT), so the loop
 * asks store_lent() first where it would rather do something else.
 *
 * It also starts a checkpoint thread and hands the store's checkpoints to
 * it (store_checkpoint_offload): a request wakes it when the store says
 * one is due.  With sync = normal there is no sync to pipeline and the
 * checkpoint thread runs alone (walsync_start with sync 0).
 */
#ifndef WADESK_WALSYNC_H
#define WADESK_WALSYNC_H

#include <stdint.h>

struct store;
struct walsync;

/* Starts the threads for st (borrowed; must outlive them): the checkpoint
 * thread, and with sync the sync worker.  wake (may be NULL) is called
 * from the worker's thread after each sync, with arg; it must be safe to
 * call from another thread (lws_cancel_service is).  NULL with *cause when
 * the sync worker cannot start; without the checkpoint thread, commits
 * checkpoint themselves (a warning). */
struct walsync *walsync_start(struct store *st, int sync, void (*wake)(void *), void *arg,
                              char **cause);
/* Asks for a sync covering everything committed so far, tagged seq
 * (increasing). */
void walsync_request(struct walsync *w, uint64_t seq);
/* Whether there is a commit thread (started with sync, NULL ok). */
int walsync_commits(struct walsync *w);
/* Lends the store's connection (store_lend) to the commit thread, which
 * commits the open deferred transaction and then asks for its sync,
 * tagged seq (increasing), as walsync_request: the loop waits for neither
 * the COMMIT nor the sync.  A failed COMMIT counts as a failed sync. */
void walsync_commit(struct walsync *w, uint64_t seq);
/* The loop waits for the lent connection: the commit thread wakes it
 * once the COMMIT returned.  Set, then check store_lent() again: if the
 * connection came back in between, the loop goes on itself (both are
 * sequentially consistent, so one of the two sees the other). */
void walsync_want_wake(struct walsync *w);
/* 1 once a sync or a lent COMMIT failed. */
int walsync_broken(struct walsync *w);
/* The highest seq known durable.  After a failed sync, *failed (when not
 * NULL) gets the reason (xmalloc'd, caller frees), once; nothing after it
 * is reported durable again. */
uint64_t walsync_done(struct walsync *w, char **failed);
/* Blocks until seq is durable or a sync failed; the highest durable seq. */
uint64_t walsync_wait(struct walsync *w, uint64_t seq);
/* Wakes the checkpoint thread if the store says a checkpoint is due
 * (walsync_request does this itself); after commits that need no sync
 * request.  NULL ok.  walsync_request/done/wait are for a walsync started
 * with sync only. */
void walsync_checkpoint_check(struct walsync *w);
/* Stops and joins the threads (a sync in progress finishes first); NULL ok. */
void walsync_stop(struct walsync *w);

#endif
