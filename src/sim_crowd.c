/*
 * sim_crowd.c — simulated customers (see sim_crowd.h).
 *
 * Each language is one row of a table: its country code, names, opening
 * questions, follow-ups and thanks.  A customer is a tiny state machine
 * (idle -> waiting for an answer -> replying -> waiting or idle; gone
 * after STOP) with one pending action and its due time; the crowd keeps
 * no queue, it scans its N customers (N is small) for the earliest due.
 */
#include "sim_crowd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

struct language {
	const char *code;           /* country calling code for the numbers */
	const char *const *names;
	const char *const *questions;
	const char *const *followups;
	const char *const *thanks;
};

#define L(...) (const char *const[]){ __VA_ARGS__, NULL }

static const struct language languages[] = {
	{ "1",
	  L("Emily Carter", "Jamal Brooks", "Olivia 🌸", "Mike O'Neil"),
	  L("Hi, where is my order #4521?", "Hello! Can I change my delivery address?",
	    "My package arrived *damaged*. What can I do?", "Do you ship to Canada?"),
	  L("It was supposed to arrive yesterday.", "Can you check again please?",
	    "The tracking number is 1Z999AA10123456784", "Ok, and how long will that take?"),
	  L("Thanks a lot! 👍", "Great, thank you!", "Perfect 🙏") },
	{ "91",
	  L("आशा शर्मा", "राहुल वर्मा", "Priya Iyer", "अमित"),
	  L("नमस्ते, मेरा ऑर्डर कहाँ है?", "क्या मैं अपना पता बदल सकता हूँ?",
	    "Hi, refund kab tak aayega?", "मुझे बिल की कॉपी चाहिए"),
	  L("ऑर्डर नंबर 7788 है", "कृपया जल्दी बताइए 🙏", "कल तक आ जाएगा?"),
	  L("धन्यवाद!", "Thank you ji 😊", "शुक्रिया 🙏") },
	{ "971",
	  L("محمد العلي", "فاطمة", "Omar Haddad"),
	  L("مرحبا، أين طلبي؟", "هل يمكنني إلغاء الطلب رقم 123؟", "متى يصل الطرد؟"),
	  L("رقم الطلب هو 4521", "شكرا، ولكن متى بالضبط؟", "أرجو الرد بسرعة"),
	  L("شكرا جزيلا!", "ممتاز 👌") },
	{ "86",
	  L("王小明", "李娜", "陈伟"),
	  L("你好，我的订单到哪里了？", "可以开发票吗？", "请问周末发货吗？"),
	  L("订单号是 4521", "大概什么时候到？", "好的，还有别的办法吗？"),
	  L("谢谢！", "好的，非常感谢 🙏") },
	{ "55",
	  L("Ana Souza", "João Pereira", "Beatriz Lima"),
	  L("Olá, onde está meu pedido?", "Posso trocar o tamanho da camiseta?",
	    "Vocês entregam em Recife?"),
	  L("O número do pedido é 4521", "E quanto custa o frete?", "Pode verificar de novo?"),
	  L("Obrigada! 😊", "Valeu, muito obrigado!") },
	{ "62",
	  L("Budi Santoso", "Siti Rahma"),
	  L("Halo, pesanan saya di mana?", "Apakah bisa bayar di tempat?"),
	  L("Nomor pesanannya 4521", "Kapan sampai ya?"),
	  L("Terima kasih banyak!", "Oke, makasih 🙏") },
	{ "234",
	  L("Chinedu Okafor", "Aisha Bello"),
	  L("Good morning, my order has not arrived", "Please how do I get a refund?"),
	  L("I paid since Monday", "Abeg check am for me"),
	  L("Thank you so much", "Okay, thanks!") },
	{ "44",
	  L("Harriet Jones", "Tom Clarke"),
	  L("Hiya, could you tell me when my parcel is due?", "Is there a returns label?"),
	  L("It's order 4521, cheers", "Lovely, and the courier?"),
	  L("Cheers!", "Brilliant, thanks") },
};

/* Hostile lines: what a console must show safely. */
static const char *const hostile[] = {
	"\x1b]0;pwned\x07 hello",
	"\x1b[2J\x1b[H cleared your screen?",
	"bell\a back\b space\b nul?\x01\x02\x03\x7f",
	"\xe2\x80\xae" "gnp.exe" " \xe2\x80\xad" "left-to-right again",
	"\x1b[31mred\x1b[0m and \x1b[5mblink\x1b[0m",
	"invalid utf-8: \xff\xfe\xc3\x28 end",
	NULL,   /* the long line, built */
};

enum state { IDLE, WAITING, GONE };
enum act { ACT_NONE, ACT_PROXY, ACT_QUESTION, ACT_FOLLOWUP, ACT_THANKS, ACT_STOP, ACT_MEDIA };

struct person {
	char        phone[16];
	const char *name;
	unsigned    lang;
	enum state  state;
	enum act    act;            /* pending action */
	int64_t     due;
	unsigned    turns;
	int         proxied;
};

struct sim_crowd {
	uint64_t       rng;
	struct person *p;
	unsigned       n;
	double         mean_gap_ms;
	int64_t        next_arrival;
	int            sandbox;
	char          *app;
};

static uint64_t
rnd(struct sim_crowd *c, uint64_t n)
{
	return n == 0 ? 0 : sim_random(&c->rng) % n;
}

static double
unit(struct sim_crowd *c)
{
	return (double)(sim_random(&c->rng) >> 11) / 9007199254740992.0;
}

static size_t
count(const char *const *list)
{
	size_t n = 0;
	while (list[n] != NULL)
		n++;
	return n;
}

static const char *
pick(struct sim_crowd *c, const char *const *list)
{
	return list[rnd(c, count(list))];
}

struct sim_crowd *
sim_crowd_new(uint64_t seed, unsigned n, double rate_per_min, int sandbox, const char *app,
              int64_t now_ms)
{
	struct sim_crowd *c = xcalloc(1, sizeof *c);

	c->rng = seed ^ 0x5eedc0ffee123457ULL;
	c->n = n;
	c->p = xcalloc(n + 1, sizeof *c->p);
	c->mean_gap_ms = rate_per_min > 0 ? 60000.0 / rate_per_min : 60000.0;
	c->next_arrival = now_ms + 1000;
	c->sandbox = sandbox;
	c->app = xstrdup(app);
	for (unsigned i = 0; i < n; i++) {
		struct person *p = &c->p[i];
		const struct language *l;
		size_t len;

		p->lang = (unsigned)rnd(c, ARRAY_LEN(languages));
		l = &languages[p->lang];
		p->name = pick(c, l->names);
		/* country code, then digits up to 12 in all, never starting with 0;
		 * the index keeps numbers distinct. */
		len = strlen(l->code);
		memcpy(p->phone, l->code, len);
		p->phone[len++] = (char)('6' + rnd(c, 4));
		while (len < 9)
			p->phone[len++] = (char)('0' + rnd(c, 10));
		p->phone[len++] = (char)('0' + i / 100 % 10);
		p->phone[len++] = (char)('0' + i / 10 % 10);
		p->phone[len++] = (char)('0' + i % 10);
		p->phone[len] = '\0';
		p->state = IDLE;
		p->act = ACT_NONE;
	}
	return c;
}

void
sim_crowd_free(struct sim_crowd *c)
{
	if (c == NULL)
		return;
	free(c->p);
	free(c->app);
	free(c);
}

/* Starts a conversation with a random idle customer. */
static void
arrive(struct sim_crowd *c, int64_t now_ms)
{
	unsigned idle = 0, k;

	for (unsigned i = 0; i < c->n; i++)
		if (c->p[i].state == IDLE && c->p[i].act == ACT_NONE)
			idle++;
	if (idle == 0)
		return;
	k = (unsigned)rnd(c, idle);
	for (unsigned i = 0; i < c->n; i++) {
		struct person *p = &c->p[i];
		if (p->state != IDLE || p->act != ACT_NONE)
			continue;
		if (k-- == 0) {
			p->act = c->sandbox && !p->proxied ? ACT_PROXY : ACT_QUESTION;
			p->due = now_ms;
			p->turns = 0;
			return;
		}
	}
}

int64_t
sim_crowd_due(const struct sim_crowd *c)
{
	int64_t due = c->n > 0 ? c->next_arrival : -1;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->p[i].act != ACT_NONE && (due < 0 || c->p[i].due < due))
			due = c->p[i].due;
	}
	return due;
}

/* Now and then, a line a terminal must not interpret. */
static char *
maybe_hostile(struct sim_crowd *c, const char *text)
{
	uint64_t r = rnd(c, 100);
	size_t k;

	if (r >= 6)
		return xstrdup(text);
	k = (size_t)rnd(c, ARRAY_LEN(hostile));
	if (hostile[k] == NULL) {
		struct buf b = { 0 };
		buf_puts(&b, text);
		buf_putc(&b, ' ');
		while (b.len < 5000)
			buf_puts(&b, "long line ");
		return buf_steal(&b);
	}
	return xasprintf("%s %s", hostile[k], text);
}

int
sim_crowd_next(struct sim_crowd *c, int64_t now_ms, struct sim_crowd_action *a)
{
	struct person *p = NULL;
	const struct language *l;

	while (c->n > 0 && c->next_arrival <= now_ms) {
		arrive(c, c->next_arrival);
		c->next_arrival += 500 + (int64_t)(-log(1.0 - unit(c)) * c->mean_gap_ms);
	}
	for (unsigned i = 0; i < c->n; i++) {
		if (c->p[i].act != ACT_NONE && c->p[i].due <= now_ms && (p == NULL || c->p[i].due < p->due))
			p = &c->p[i];
	}
	if (p == NULL)
		return 0;
	l = &languages[p->lang];
	memcpy(a->phone, p->phone, sizeof a->phone);
	a->name = p->name;
	a->kind = CROWD_TEXT;
	switch (p->act) {
	case ACT_PROXY:
		a->text = xasprintf("PROXY %s", c->app);
		p->proxied = 1;
		p->act = ACT_QUESTION;
		p->due = now_ms + 800;
		return 1;
	case ACT_QUESTION:
		a->text = maybe_hostile(c, pick(c, l->questions));
		p->state = WAITING;
		break;
	case ACT_FOLLOWUP:
		a->text = maybe_hostile(c, pick(c, l->followups));
		p->state = WAITING;
		break;
	case ACT_THANKS:
		a->text = xstrdup(pick(c, l->thanks));
		p->state = IDLE;
		break;
	case ACT_STOP:
		a->text = xstrdup("STOP");
		p->state = GONE;
		break;
	case ACT_MEDIA:
		a->kind = rnd(c, 2) == 0 ? CROWD_IMAGE : CROWD_FILE;
		a->text = xstrdup(a->kind == CROWD_IMAGE ? "📷" : "invoice");
		p->state = WAITING;
		break;
	case ACT_NONE:
		return 0;
	}
	p->act = ACT_NONE;
	p->turns++;
	return 1;
}

void
sim_crowd_received(struct sim_crowd *c, const char *phone, int64_t now_ms)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct person *p = &c->p[i];
		uint64_t r;
		if (strcmp(p->phone, phone) != 0)
			continue;
		if (p->state != WAITING || p->act != ACT_NONE)
			return;
		r = rnd(c, 100);
		if (p->turns >= 4 || r < 40)
			p->act = ACT_THANKS;
		else if (r < 48)
			p->act = ACT_STOP;
		else if (r < 56 && !c->sandbox)
			p->act = ACT_MEDIA;
		else
			p->act = ACT_FOLLOWUP;
		p->due = now_ms + 1500 + (int64_t)rnd(c, 4000);
		return;
	}
}

int
sim_crowd_owns(const struct sim_crowd *c, const char *phone)
{
	for (unsigned i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->p[i].phone, phone) == 0)
			return 1;
	return 0;
}

const char *
sim_crowd_phone(const struct sim_crowd *c, unsigned i, const char **name)
{
	if (i >= c->n)
		return NULL;
	if (name != NULL)
		*name = c->p[i].name;
	return c->p[i].phone;
}
