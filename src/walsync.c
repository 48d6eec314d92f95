/*
 * walsync.c — the WAL sync worker (see walsync.h).
 *
 * One thread, one mutex and two condition variables: want is the highest
 * sequence number asked for, done the highest one a finished sync
 * covered.  The worker takes want as its target before it syncs, so a
 * request that comes in during the sync waits for the next one (its
 * commit may have written after the sync began).  A failed sync is final:
 * the reason is kept, done never moves again, and the hub stops.
 *
 * A second thread checkpoints (store_checkpoint_offload): a checkpoint
 * copies thousands of pages and syncs the log and the database, tens of
 * milliseconds that neither the loop nor the syncs behind it should wait
 * for.  A request (or walsync_checkpoint_check) finds the store's
 * checkpoint_due flag set by the COMMIT that crossed the mark, and wakes
 * it.  With sync = normal the checkpoint thread runs alone.
 */
#include <pthread.h>
#include <stdlib.h>

#include "store.h"
#include "util.h"
#include "walsync.h"

struct walsync {
	struct store   *st;
	void          (*wake)(void *);
	void           *arg;
	pthread_t       thread, ckthread;
	pthread_mutex_t mu;
	pthread_cond_t  work, synced, ckwork;
	int             ckwant;       /* a checkpoint is asked for */
	int             ckrunning;    /* the checkpoint thread was started */
	int             syncing;      /* the sync thread was started */
	uint64_t        want, done;
	char           *failed;      /* why the last sync failed (kept until read) */
	int             broken, stop;
};

static void *
worker(void *arg)
{
	struct walsync *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && (w->broken || w->want == w->done))
			pthread_cond_wait(&w->work, &w->mu);
		if (w->stop)
			break;
		uint64_t target = w->want;
		pthread_mutex_unlock(&w->mu);
		char *cause = NULL;
		int rc = store_wal_sync(w->st, &cause);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			w->broken = 1;
			w->failed = cause;
		} else {
			w->done = target;
		}
		pthread_cond_broadcast(&w->synced);
		if (w->wake != NULL) {
			pthread_mutex_unlock(&w->mu);
			w->wake(w->arg);
			pthread_mutex_lock(&w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void *
checkpointer(void *arg)
{
	struct walsync *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !w->ckwant)
			pthread_cond_wait(&w->ckwork, &w->mu);
		if (w->stop)
			break;
		w->ckwant = 0;
		pthread_mutex_unlock(&w->mu);
		char *cause = NULL;
		if (store_checkpoint(w->st, &cause) < 0) {
			log_warn("%s (left for the next checkpoint)", cause);
			free(cause);
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static struct walsync *
walsync_new(struct store *st, void (*wake)(void *), void *arg)
{
	struct walsync *w = xcalloc(1, sizeof *w);
	w->st = st;
	w->wake = wake;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->synced, NULL);
	pthread_cond_init(&w->ckwork, NULL);
	return w;
}

static void
walsync_free(struct walsync *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->synced);
	pthread_cond_destroy(&w->ckwork);
	free(w->failed);
	free(w);
}

static int
start_checkpointer(struct walsync *w)
{
	if (pthread_create(&w->ckthread, NULL, checkpointer, w) != 0)
		return -1;
	w->ckrunning = 1;
	store_checkpoint_offload(w->st);
	return 0;
}

struct walsync *
walsync_start(struct store *st, int sync, void (*wake)(void *), void *arg, char **cause)
{
	struct walsync *w = walsync_new(st, wake, arg);
	if (sync && pthread_create(&w->thread, NULL, worker, w) != 0) {
		*cause = xstrdup("cannot start the WAL sync thread");
		walsync_free(w);
		return NULL;
	}
	w->syncing = sync;
	if (start_checkpointer(w) < 0)
		log_warn("cannot start the checkpoint thread: commits checkpoint themselves");
	return w;
}

/* Wakes the checkpoint thread when the store says one is due; under mu. */
static void
checkpoint_wake_locked(struct walsync *w)
{
	if (w->ckrunning && !w->ckwant && store_checkpoint_due(w->st)) {
		w->ckwant = 1;
		pthread_cond_signal(&w->ckwork);
	}
}

void
walsync_checkpoint_check(struct walsync *w)
{
	/* The flag is read without the lock first: this runs after every
	 * commit, and a checkpoint is due once in thousands of frames. */
	if (w == NULL || !w->ckrunning || !store_checkpoint_due(w->st))
		return;
	pthread_mutex_lock(&w->mu);
	checkpoint_wake_locked(w);
	pthread_mutex_unlock(&w->mu);
}

void
walsync_request(struct walsync *w, uint64_t seq)
{
	pthread_mutex_lock(&w->mu);
	if (seq > w->want) {
		w->want = seq;
		pthread_cond_signal(&w->work);
	}
	checkpoint_wake_locked(w);
	pthread_mutex_unlock(&w->mu);
}

uint64_t
walsync_done(struct walsync *w, char **failed)
{
	pthread_mutex_lock(&w->mu);
	uint64_t d = w->done;
	if (failed != NULL) {
		*failed = w->failed;
		w->failed = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	return d;
}

uint64_t
walsync_wait(struct walsync *w, uint64_t seq)
{
	pthread_mutex_lock(&w->mu);
	while (w->done < seq && !w->broken)
		pthread_cond_wait(&w->synced, &w->mu);
	uint64_t d = w->done;
	pthread_mutex_unlock(&w->mu);
	return d;
}

void
walsync_stop(struct walsync *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_cond_signal(&w->ckwork);
	pthread_mutex_unlock(&w->mu);
	if (w->syncing)
		pthread_join(w->thread, NULL);
	if (w->ckrunning)
		pthread_join(w->ckthread, NULL);
	walsync_free(w);
}
