/*
 * gupshup_sim.c — wadesk-sim's own JSON: the control API's inbox, wallet
 * and info objects, and the --state document (see gupshup_sim.h).
 *
 * One object shape per record (an item, a customer, a ledger entry), each
 * with one builder and one reader, reused by the control API and the
 * state file, so that what the sim saves is what `inbox --json` shows.
 */
#include "gupshup_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup_json.h"
#include "util.h"

#define jget   gupshup_json_get
#define jstr   gupshup_json_str
#define jint   gupshup_json_int
#define jput   gupshup_json_put

static void
put_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void
put_bool(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v != 0));
}

static int
get_bool(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return jint(o, key) != 0;
}

/* ---- Items ---- */

static struct json_object *
item_build(const struct sim_item *it)
{
	struct json_object *o = json_object_new_object();
	jput(o, "id", it->gs_id);
	jput(o, "wa_id", it->wa_id);
	put_int(o, "time_ms", it->time_ms);
	jput(o, "type", it->is_template ? "template" : gupshup_msg_type_name(it->type));
	jput(o, "text", it->text);
	jput(o, "url", it->url);
	jput(o, "filename", it->filename);
	if (it->is_template) {
		struct json_object *t = json_object_new_object(), *p = json_object_new_array();
		jput(t, "id", it->template_id);
		for (size_t i = 0; i < it->nparams; i++)
			json_object_array_add(p, json_object_new_string(it->params[i]));
		json_object_object_add(t, "params", p);
		json_object_object_add(o, "template", t);
	}
	jput(o, "status", it->status);
	if (it->code != 0)
		put_int(o, "code", it->code);
	jput(o, "reason", it->reason);
	put_int(o, "cost_micro", it->cost);
	if (it->media_mime != NULL) {
		struct json_object *m = json_object_new_object();
		jput(m, "name", it->media_name);
		jput(m, "mime", it->media_mime);
		put_int(m, "size", it->media_size);
		jput(m, "sha256", it->media_sha256);
		json_object_object_add(o, "media", m);
	}
	return o;
}

static void
item_parse(struct json_object *o, struct sim_item *it)
{
	struct json_object *t, *p;
	char *type;

	memset(it, 0, sizeof *it);
	it->gs_id = jstr(o, "id");
	it->wa_id = jstr(o, "wa_id");
	it->time_ms = jint(o, "time_ms");
	type = jstr(o, "type");
	if (type != NULL && strcmp(type, "template") == 0)
		it->is_template = 1;
	else if (gupshup_msg_type_parse(type, &it->type) != 0)
		it->type = GUPSHUP_TEXT;
	free(type);
	it->text = jstr(o, "text");
	it->url = jstr(o, "url");
	it->filename = jstr(o, "filename");
	t = gupshup_json_object(o, "template");
	if (t != NULL) {
		it->template_id = jstr(t, "id");
		p = gupshup_json_array(t, "params");
		if (p != NULL) {
			size_t n = json_object_array_length(p);
			it->params = xcalloc(n + 1, sizeof *it->params);
			for (size_t i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(p, i);
				const char *s = json_object_is_type(e, json_type_string)
				                        ? json_object_get_string(e) : "";
				it->params[it->nparams++] = xstrdup(s);
			}
		}
	}
	it->status = jstr(o, "status");
	it->code = (int)jint(o, "code");
	it->reason = jstr(o, "reason");
	it->cost = jint(o, "cost_micro");
	t = gupshup_json_object(o, "media");
	if (t != NULL && (it->media_mime = jstr(t, "mime")) != NULL) {
		it->media_name = jstr(t, "name");
		it->media_size = jint(t, "size");
		it->media_sha256 = jstr(t, "sha256");
	}
}

void
gupshup_sim_item_release(struct sim_item *it)
{
	if (it == NULL)
		return;
	free(it->gs_id);
	free(it->wa_id);
	free(it->text);
	free(it->url);
	free(it->filename);
	free(it->template_id);
	for (size_t i = 0; i < it->nparams; i++)
		free(it->params[i]);
	free(it->params);
	free(it->status);
	free(it->reason);
	free(it->media_name);
	free(it->media_mime);
	free(it->media_sha256);
	memset(it, 0, sizeof *it);
}

/* ---- Customers ---- */

static struct json_object *
customer_build(const struct sim_customer *c)
{
	struct json_object *o = json_object_new_object(), *m = json_object_new_array();
	jput(o, "phone", c->phone);
	jput(o, "name", c->name);
	put_bool(o, "opted_in", c->opted_in);
	put_int(o, "optin_ms", c->optin_ms);
	put_int(o, "last_inbound_ms", c->last_inbound_ms);
	put_bool(o, "bound", c->bound);
	for (size_t i = 0; i < c->nitems; i++)
		json_object_array_add(m, item_build(&c->items[i]));
	json_object_object_add(o, "messages", m);
	return o;
}

static int
customer_parse(struct json_object *o, struct sim_customer *c, char **cause)
{
	struct json_object *m;
	char *phone;

	memset(c, 0, sizeof *c);
	phone = jstr(o, "phone");
	if (phone == NULL || sim_phone(phone, c->phone) != 0) {
		*cause = xasprintf("customer with a bad phone '%.32s'", phone != NULL ? phone : "");
		free(phone);
		return -1;
	}
	free(phone);
	c->name = jstr(o, "name");
	c->opted_in = get_bool(o, "opted_in");
	c->optin_ms = jint(o, "optin_ms");
	c->last_inbound_ms = jint(o, "last_inbound_ms");
	c->bound = get_bool(o, "bound");
	m = gupshup_json_array(o, "messages");
	if (m != NULL) {
		size_t n = json_object_array_length(m);
		c->items = xcalloc(n + 1, sizeof *c->items);
		c->capitems = n + 1;
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(m, i);
			if (!json_object_is_type(e, json_type_object))
				continue;
			item_parse(e, &c->items[c->nitems++]);
		}
	}
	return 0;
}

void
gupshup_sim_customer_release(struct sim_customer *c)
{
	if (c == NULL)
		return;
	free(c->name);
	for (size_t i = 0; i < c->nitems; i++)
		gupshup_sim_item_release(&c->items[i]);
	free(c->items);
	memset(c, 0, sizeof *c);
}

char *
gupshup_sim_inbox_build(const struct sim_customer *c)
{
	return gupshup_json_take(customer_build(c));
}

int
gupshup_sim_inbox_parse(const char *body, size_t len, struct sim_customer *c, char **cause)
{
	struct json_object *o;
	int rc;

	memset(c, 0, sizeof *c);
	*cause = NULL;
	if (gupshup_json_parse(body, len, "inbox", &o, cause) != 0)
		return -1;
	rc = customer_parse(o, c, cause);
	json_object_put(o);
	return rc;
}

/* ---- Wallet ---- */

static struct json_object *
ledger_build(const struct sim_ledger *l, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		put_int(o, "time_ms", l[i].time_ms);
		put_int(o, "amount_micro", l[i].amount);
		jput(o, "what", l[i].what);
		jput(o, "phone", l[i].phone);
		jput(o, "id", l[i].id);
		json_object_array_add(a, o);
	}
	return a;
}

static void
ledger_parse(struct json_object *a, struct sim_ledger **l, size_t *n)
{
	size_t count = a != NULL ? json_object_array_length(a) : 0;
	*l = xcalloc(count + 1, sizeof **l);
	*n = 0;
	for (size_t i = 0; i < count; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		struct sim_ledger *e = &(*l)[*n];
		if (!json_object_is_type(o, json_type_object))
			continue;
		e->time_ms = jint(o, "time_ms");
		e->amount = jint(o, "amount_micro");
		e->what = jstr(o, "what");
		e->phone = jstr(o, "phone");
		e->id = jstr(o, "id");
		(*n)++;
	}
}

void
gupshup_sim_ledger_free(struct sim_ledger *l, size_t n)
{
	for (size_t i = 0; l != NULL && i < n; i++) {
		free(l[i].what);
		free(l[i].phone);
		free(l[i].id);
	}
	free(l);
}

char *
gupshup_sim_wallet_build(int64_t balance, const struct sim_ledger *l, size_t n)
{
	struct json_object *o = json_object_new_object();
	char dollars[48];
	int64_t a = balance < 0 ? -balance : balance;

	snprintf(dollars, sizeof dollars, "%s%lld.%06lld", balance < 0 ? "-" : "",
	         (long long)(a / 1000000), (long long)(a % 1000000));
	jput(o, "currency", "USD");
	put_int(o, "balance_micro", balance);
	jput(o, "balance", dollars);
	json_object_object_add(o, "ledger", ledger_build(l, n));
	return gupshup_json_take(o);
}

int
gupshup_sim_wallet_parse(const char *body, size_t len, int64_t *balance, struct sim_ledger **l,
                         size_t *n, char **cause)
{
	struct json_object *o;

	*l = NULL;
	*n = 0;
	*cause = NULL;
	if (gupshup_json_parse(body, len, "wallet", &o, cause) != 0)
		return -1;
	if (jget(o, "balance_micro") == NULL) {
		*cause = xstrdup("wallet reply without a balance");
		json_object_put(o);
		return -1;
	}
	*balance = jint(o, "balance_micro");
	ledger_parse(gupshup_json_array(o, "ledger"), l, n);
	json_object_put(o);
	return 0;
}

/* ---- Info, ok, errors ---- */

char *
gupshup_sim_info_build(const struct gupshup_sim_info *info)
{
	struct json_object *o = json_object_new_object();
	jput(o, "app", info->app);
	jput(o, "source", info->source);
	put_bool(o, "sandbox", info->sandbox);
	jput(o, "callback", info->callback);
	jput(o, "base_url", info->base_url);
	return gupshup_json_take(o);
}

int
gupshup_sim_info_parse(const char *body, size_t len, struct gupshup_sim_info *info,
                       char **cause)
{
	struct json_object *o;

	memset(info, 0, sizeof *info);
	*cause = NULL;
	if (gupshup_json_parse(body, len, "info", &o, cause) != 0)
		return -1;
	info->app = jstr(o, "app");
	if (info->app == NULL) {
		*cause = xstrdup("info reply without an app");
		json_object_put(o);
		return -1;
	}
	info->source = jstr(o, "source");
	info->callback = jstr(o, "callback");
	info->base_url = jstr(o, "base_url");
	info->sandbox = get_bool(o, "sandbox");
	json_object_put(o);
	return 0;
}

void
gupshup_sim_info_release(struct gupshup_sim_info *info)
{
	if (info == NULL)
		return;
	free(info->app);
	free(info->source);
	free(info->callback);
	free(info->base_url);
	memset(info, 0, sizeof *info);
}

char *
gupshup_sim_media_reply(const char *id, const char *type, const char *mime, const char *sniffed,
                        const char *url)
{
	struct json_object *o = json_object_new_object();
	jput(o, "status", "ok");
	jput(o, "id", id);
	jput(o, "type", type);
	jput(o, "mime", mime);
	jput(o, "sniffed", sniffed);
	jput(o, "url", url);
	return gupshup_json_take(o);
}

int
gupshup_sim_media_reply_parse(const char *body, size_t len, char **type, char **mime,
                              char **sniffed, char **url, char **cause)
{
	struct json_object *o;

	*type = *mime = *sniffed = *url = NULL;
	*cause = NULL;
	if (gupshup_json_parse(body, len, "media reply", &o, cause) != 0)
		return -1;
	*type = jstr(o, "type");
	*mime = jstr(o, "mime");
	*sniffed = jstr(o, "sniffed");
	*url = jstr(o, "url");
	json_object_put(o);
	return 0;
}

char *
gupshup_sim_ok(const char *key, const char *value)
{
	struct json_object *o = json_object_new_object();
	jput(o, "status", "ok");
	if (key != NULL)
		jput(o, key, value);
	return gupshup_json_take(o);
}

char *
gupshup_sim_reply_get(const char *body, size_t len, const char *key)
{
	struct json_object *o;
	char *cause = NULL, *v;

	if (gupshup_json_parse(body, len, "reply", &o, &cause) != 0) {
		free(cause);
		return NULL;
	}
	v = jstr(o, key);
	json_object_put(o);
	return v;
}

char *
gupshup_sim_error_message(const char *body, size_t len)
{
	return gupshup_sim_reply_get(body, len, "message");
}

/* ---- State ---- */

char *
gupshup_sim_state_build(int64_t balance, const struct sim_ledger *l, size_t nl,
                        const struct sim_customer *c, size_t nc)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	put_int(o, "version", 1);
	put_int(o, "balance_micro", balance);
	json_object_object_add(o, "ledger", ledger_build(l, nl));
	for (size_t i = 0; i < nc; i++)
		json_object_array_add(a, customer_build(&c[i]));
	json_object_object_add(o, "customers", a);
	return gupshup_json_take(o);
}

int
gupshup_sim_state_parse(const char *body, size_t len, int64_t *balance, struct sim_ledger **l,
                        size_t *nl, struct sim_customer **c, size_t *nc, char **cause)
{
	struct json_object *o, *a;
	size_t count;

	*l = NULL;
	*nl = 0;
	*c = NULL;
	*nc = 0;
	*cause = NULL;
	if (gupshup_json_parse(body, len, "state", &o, cause) != 0)
		return -1;
	if (jint(o, "version") != 1) {
		*cause = xstrdup("state is not version 1");
		json_object_put(o);
		return -1;
	}
	*balance = jint(o, "balance_micro");
	ledger_parse(gupshup_json_array(o, "ledger"), l, nl);
	a = gupshup_json_array(o, "customers");
	count = a != NULL ? json_object_array_length(a) : 0;
	*c = xcalloc(count + 1, sizeof **c);
	for (size_t i = 0; i < count; i++) {
		if (customer_parse(json_object_array_get_idx(a, i), &(*c)[*nc], cause) != 0) {
			for (size_t j = 0; j < *nc; j++)
				gupshup_sim_customer_release(&(*c)[j]);
			free(*c);
			*c = NULL;
			*nc = 0;
			gupshup_sim_ledger_free(*l, *nl);
			*l = NULL;
			*nl = 0;
			json_object_put(o);
			return -1;
		}
		(*nc)++;
	}
	json_object_put(o);
	return 0;
}
