/* Unit tests for console_config.c: links, the config file (0600, atomic),
 * XDG directories and the per-address hub hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "console_config.h"
#include "util.h"

static void
test_link_parse(void **state)
{
	(void)state;
	struct link l;
	const char *why;
	assert_int_equal(link_parse("ws://127.0.0.1:8088/v1/desk#abc", &l, &why), 0);
	assert_false(l.tls);
	assert_string_equal(l.host, "127.0.0.1");
	assert_int_equal(l.port, 8088);
	assert_string_equal(l.path, "/v1/desk");
	assert_string_equal(l.token, "abc");
	link_release(&l);
	assert_int_equal(link_parse("wss://desk.example.com/v1/desk#t", &l, &why), 0);
	assert_true(l.tls);
	assert_int_equal(l.port, 443);
	link_release(&l);
	assert_int_equal(link_parse("ws://[::1]:9000/v1/desk#t", &l, &why), 0);
	assert_string_equal(l.host, "::1");
	assert_int_equal(l.port, 9000);
	link_release(&l);
	assert_int_equal(link_parse("ws://h:1#t", &l, &why), 0);
	assert_string_equal(l.path, "/v1/desk");
	link_release(&l);
	assert_int_equal(link_parse("http://h/v1/desk#t", &l, &why), -1);
	assert_int_equal(link_parse("ws://h/v1/desk", &l, &why), -1);
	assert_non_null(strstr(why, "token"));
	assert_int_equal(link_parse("ws://h/v1/desk#", &l, &why), -1);
	assert_int_equal(link_parse("ws://h:99999/v1/desk#t", &l, &why), -1);
	assert_int_equal(link_parse("ws://h:x/v1/desk#t", &l, &why), -1);
	assert_int_equal(link_parse("ws://:80/v1/desk#t", &l, &why), -1);
}

static void
test_config_roundtrip(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/wadesk-cfg-test.XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *cfg = xasprintf("%s/cfg", dir), *data = xasprintf("%s/data", dir);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("XDG_DATA_HOME", data, 1);
	struct console_config c;
	char *cause = NULL;
	assert_int_equal(console_config_load(&c, &cause), 0);   /* absent: empty */
	assert_null(c.link);
	c.link = xstrdup("ws://127.0.0.1:1/v1/desk#secret");
	c.name = xstrdup("asha");
	assert_int_equal(console_config_save(&c, &cause), 0);
	console_config_release(&c);
	char *path = xasprintf("%s/wadesk/config", cfg);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(console_config_load(&c, &cause), 0);
	assert_string_equal(c.link, "ws://127.0.0.1:1/v1/desk#secret");
	assert_string_equal(c.name, "asha");
	console_config_release(&c);
	/* The hub hint is per address, not per token. */
	assert_null(console_hub_hint("ws://127.0.0.1:1/v1/desk#secret"));
	console_set_hub_hint("ws://127.0.0.1:1/v1/desk#secret", "hub42");
	char *h = console_hub_hint("ws://127.0.0.1:1/v1/desk#rotated");
	assert_string_equal(h, "hub42");
	free(h);
	assert_null(console_hub_hint("ws://127.0.0.1:2/v1/desk#secret"));
	char *cp = console_cache_path("a/../b c");
	assert_non_null(strstr(cp, "/wadesk/a____b_c.db"));
	free(cp);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
	free(cfg);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_parse),
		cmocka_unit_test(test_config_roundtrip),
	};
	return cmocka_run_group_tests_name("console_config", tests, NULL, NULL);
}
