/*
 * table_file_fuzz.c -- libFuzzer target for the table file parser and
 * the table value parsers (smtpd/table/table_file.c, table_value.c,
 * table_match.c).  The input is parsed as a table file; then every
 * entry is looked up and matched against every service, and each line
 * of the input is fed to every value parser.  Nothing may crash, leak
 * past a buffer or take exponential time; bad input is -1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtpd.h"
#include "table.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const enum table_service table_fuzz_services[] = {
	K_ALIAS, K_DOMAIN, K_CREDENTIALS, K_NETADDR, K_USERINFO, K_SOURCE,
	K_MAILADDR, K_ADDRNAME, K_MAILADDRMAP, K_RELAYHOST, K_STRING, K_REGEX,
};

/* table_fuzz_count - list callback */
static int
table_fuzz_count(const char *element, void *arg)
{
	(*(size_t *)arg) += strlen(element);
	return 0;
}

/* table_fuzz_values - every value parser on one NUL-terminated string */
static void
table_fuzz_values(const char *s)
{
	struct table_credentials	c;
	struct table_userinfo		u;
	struct table_netaddr		n, a;
	struct mailaddr		m;
	struct table_alias		al;
	struct table_relayhost		r;
	char				err[256];
	size_t				i, count = 0;

	(void)table_parse_credentials("key", s, &c, err, sizeof err);
	(void)table_parse_userinfo(s, &u, err, sizeof err);
	if (table_parse_netaddr(s, &n, err, sizeof err) == 0 &&
	    table_parse_address("192.0.2.1", &a, err, sizeof err) == 0)
		(void)table_netaddr_contains(&n, &a);
	(void)table_parse_source(s, &n, err, sizeof err);
	(void)table_parse_mailaddr(s, &m, err, sizeof err);
	(void)table_parse_alias(s, &al, err, sizeof err);
	(void)table_parse_relayhost(s, &r, err, sizeof err);
	(void)table_split_list(s, table_fuzz_count, &count, err, sizeof err);
	for (i = 0; i < sizeof table_fuzz_services /
	    sizeof table_fuzz_services[0]; i++)
		(void)table_parse_value(table_fuzz_services[i], "key", s, err,
		    sizeof err);
	(void)table_match_domain(s, "mx.example.com");
	(void)table_match_mailaddr(s, "bob+tag@example.com");
	(void)table_match_netaddr(s, "2001:db8::1");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_entries	 e;
	char			 err[512], buf[256], *text, *line, *nl;
	size_t			 i, j;
	static int		 once;

	if (!once) {
		log_init(1, 0);
		log_setverbose(0);
		once = 1;
	}
	if (size > 65536)
		return 0;
	memset(&e, 0, sizeof e);
	if (table_file_parse("fuzz", "/fuzz", (const char *)data, size, &e,
	    err, sizeof err) == 0) {
		for (i = 0; i < e.n && i < 64; i++)
			for (j = 0; j < sizeof table_fuzz_services /
			    sizeof table_fuzz_services[0]; j++)
				/* regexec's speed is libc's, not ours */
				if (table_fuzz_services[j] != K_REGEX)
					(void)table_entries_lookup(&e, "fuzz",
					    table_fuzz_services[j],
					    e.v[i].key, buf, sizeof buf);
		(void)table_entries_fetch(&e, "fuzz", buf, sizeof buf);
	}
	table_entries_clear(&e);

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		table_fuzz_values(line);
	}
	free(text);
	return 0;
}
