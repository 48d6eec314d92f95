/*
 * walsync.c — the WAL sync worker (see walsync.h).
 *
 * The sync thread: want is the highest sequence number asked for, done
 * the highest one a finished sync covered (under mu, as everything
 * here).  The worker takes want as its target before it syncs, so a
 * request that comes in during the sync waits for the next one (its
 * commit may have written after the sync began).  A failed sync is final:
 * the reason is kept, done never moves again, and the hub stops.
 *
 * A second thread checkpoints (store_checkpoint_offload): a checkpoint
 * copies thousands of pages and syncs the log and the database, tens of
 * milliseconds that neither the loop nor the syncs behind it should wait
 * for.  A request (or walsync_checkpoint_check) finds a checkpoint due
 * (store_checkpoint_due: made so by the COMMIT that crossed the mark),
 * and wakes it.  With sync = normal the checkpoint thread runs alone.
 *
 * The commit thread (with sync) runs the COMMIT of a batch whose
 * connection the loop lent it: cseq is that batch's ticket until the
 * thread takes it.  Once committed it raises want, as a request would.
 * The connection goes back inside store_commit_lent, so cseq is cleared
 * before it: the loop may lend it again at once.
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
	pthread_t       thread, ckthread, cthread;
	pthread_mutex_t mu;
	pthread_cond_t  work, synced, ckwork, cwork;
	uint64_t        cseq;         /* the lent COMMIT's ticket, 0: none */
	int             cwake;        /* atomic: the loop waits for the connection */
	int             crunning;     /* the commit thread was started */
	int             ckwant;       /* a checkpoint is asked for */
	int             ckrunning;    /* the checkpoint thread was started */
	int             syncing;      /* the sync thread was started */
	uint64_t        want, done;
	char           *failed;      /* why the last sync failed (kept until read) */
	int             broken, stop;
};

/* Records a failed sync or lent COMMIT (the first reason is kept: nothing
 * after it is durable anyway); under mu.  Takes *cause. */
static void
break_locked(struct walsync *w, char **cause)
{
	if (!w->broken) {
		w->broken = 1;
		w->failed = *cause;
		*cause = NULL;
	}
	free(*cause);
	*cause = NULL;
}

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
		if (rc < 0)
			break_locked(w, &cause);
		else
			w->done = target;
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

/* Wakes the checkpoint thread when the store says one is due; under mu. */
static void checkpoint_wake_locked(struct walsync *w);

/*
 * The commit thread: runs the COMMIT the loop lent the connection for
 * (walsync_commit), then asks the sync thread for the sync that makes it
 * durable and wakes the loop, which may have a batch waiting for the
 * connection.  A failed COMMIT is final like a failed sync: its webhooks
 * are never acknowledged and the hub stops.
 */
static void *
committer(void *arg)
{
	struct walsync *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->cseq == 0)
			pthread_cond_wait(&w->cwork, &w->mu);
		if (w->cseq == 0)
			break;
		/* Cleared before the connection goes back: the loop can lend
		 * it again (and set cseq) as soon as store_commit_lent returns. */
		uint64_t seq = w->cseq;
		w->cseq = 0;
		pthread_mutex_unlock(&w->mu);
		char *cause = NULL;
		int rc = store_commit_lent(w->st, &cause);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			break_locked(w, &cause);
			pthread_cond_broadcast(&w->synced);
		} else if (seq > w->want) {
			w->want = seq;
			pthread_cond_signal(&w->work);
		}
		checkpoint_wake_locked(w);
		/* The connection is back (store_commit_lent cleared the flag
		 * before this reads cwake: see walsync_want_wake). */
		if (w->wake != NULL && (__atomic_exchange_n(&w->cwake, 0, __ATOMIC_SEQ_CST) || rc < 0)) {
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
	pthread_cond_init(&w->cwork, NULL);
	return w;
}

static void
walsync_free(struct walsync *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->synced);
	pthread_cond_destroy(&w->ckwork);
	pthread_cond_destroy(&w->cwork);
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
	if (sync && pthread_create(&w->cthread, NULL, committer, w) == 0)
		w->crunning = 1;
	else if (sync)
		log_warn("cannot start the commit thread: the loop commits itself");
	if (start_checkpointer(w) < 0)
		log_warn("cannot start the checkpoint thread: commits checkpoint themselves");
	return w;
}

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

int
walsync_commits(struct walsync *w)
{
	return w != NULL && w->crunning;
}

void
walsync_commit(struct walsync *w, uint64_t seq)
{
	store_lend(w->st);
	pthread_mutex_lock(&w->mu);
	w->cseq = seq;
	pthread_cond_signal(&w->cwork);
	pthread_mutex_unlock(&w->mu);
}

void
walsync_want_wake(struct walsync *w)
{
	if (w != NULL)
		__atomic_store_n(&w->cwake, 1, __ATOMIC_SEQ_CST);
}

int
walsync_broken(struct walsync *w)
{
	pthread_mutex_lock(&w->mu);
	int b = w->broken;
	pthread_mutex_unlock(&w->mu);
	return b;
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
	pthread_cond_signal(&w->cwork);
	pthread_mutex_unlock(&w->mu);
	if (w->crunning)
		pthread_join(w->cthread, NULL);
	if (w->syncing)
		pthread_join(w->thread, NULL);
	if (w->ckrunning)
		pthread_join(w->ckthread, NULL);
	walsync_free(w);
}
