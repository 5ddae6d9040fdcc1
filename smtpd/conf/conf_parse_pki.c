/*
 * conf_parse_pki.c -- `pki` and `ca` declarations of smtpd.conf, the
 * lookup of a pki or ca by name for listeners and relay actions, and
 * the loading of every certificate and key once the file is read, as
 * OpenSMTPD 6.8 does at start and for `smtpd -n` (CONF-06, TLS-01).
 *
 * Runs in parent and `smtpd -n`.  The legacy spellings (`certificate`,
 * `pki H ca F`, `dhparams`) are accepted here and mark the file as
 * legacy.  A private key is read only to check it, then wiped; the
 * parent never keeps one (the ca process loads its own).  A missing,
 * unreadable, too open or unparsable file is a FILE:LINE error naming
 * the declaration; nothing here fatals on the configuration's contents.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "conf_int.h"

#define CONF_PKI_FILE_MAX	(1024 * 1024)	/* a certificate chain or key */
#define CONF_CERT_MODE_MAX	0755		/* as 6.8: no write for others */
#define CONF_KEY_MODE_MAX	0740		/* as 6.8: at most rwxr----- */

struct conf_pki *
conf_pki_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_pki	*k;
	size_t		 i;

	for (i = 0; i < p->conf->npkis; i++)
		if (strcmp(p->conf->pkis[i]->name, name) == 0)
			return p->conf->pkis[i];
	if (!create)
		return NULL;
	k = conf_alloc(p->a, sizeof(*k));
	k->name = conf_strdup(p->a, name);
	k->file = p->stmt_file;
	k->line = p->stmt_line;
	conf_push(p->a, &p->conf->pkis, &p->conf->npkis, k);
	return k;
}

struct conf_ca *
conf_ca_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_ca	*c;
	size_t		 i;

	for (i = 0; i < p->conf->ncas; i++)
		if (strcmp(p->conf->cas[i]->name, name) == 0)
			return p->conf->cas[i];
	if (!create)
		return NULL;
	c = conf_alloc(p->a, sizeof(*c));
	c->name = conf_strdup(p->a, name);
	c->file = p->stmt_file;
	c->line = p->stmt_line;
	conf_push(p->a, &p->conf->cas, &p->conf->ncas, c);
	return c;
}

/* conf_parse_pki - pki NAME { cert F | key F | dhe P }, legacy words too */
void
conf_parse_pki(struct conf_parser *p, int line)
{
	struct conf_pki	*k;
	struct conf_ca	*ca;
	char		*name, *v;
	int		 any = 0;

	name = conf_expect_string(p, "a pki name");
	k = conf_pki_get(p, name, 0);
	for (;;) {
		if (conf_accept_kw(p, "cert") ||
		    (conf_peek_kw(p, "certificate") && conf_next(p) &&
		    (conf_mode_mark(p, 1, line, "pki certificate"), 1))) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->cert = conf_expect_string(p, "a certificate path");
			k->cert_line = line;
		} else if (conf_accept_kw(p, "key")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->key = conf_expect_string(p, "a key path");
			k->key_line = line;
		} else if (conf_accept_kw(p, "dhe")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			v = conf_expect_string(p, "none, auto or legacy");
			if (strcmp(v, "none") && strcmp(v, "auto") &&
			    strcmp(v, "legacy"))
				conf_error(p, line, "invalid dhe value: %s", v);
			k->dhe = v;
		} else if (conf_accept_kw(p, "ca")) {
			/* 5.4: pki H ca F -> ca H cert F */
			conf_mode_mark(p, 1, line, "pki ca");
			ca = conf_ca_get(p, name, 1);
			ca->cert = conf_expect_string(p, "a CA file path");
			conf_push(p->a, &p->legacy_cas, &p->nlegacy_cas, ca);
		} else if (conf_accept_kw(p, "dhparams")) {
			conf_mode_mark(p, 1, line, "pki dhparams");
			conf_expect_string(p, "a dhparams path");
			conf_warn(p, line, "pki dhparams ignored, use "
			    "\"pki %s dhe auto\"", name);
		} else
			break;
		any = 1;
	}
	if (!any)
		conf_unexpected(p, conf_next(p), "cert, key or dhe");
	conf_expect_nl(p, "the pki");
}

/* conf_parse_ca - ca NAME cert FILE */
void
conf_parse_ca(struct conf_parser *p, int line)
{
	char	*name;

	name = conf_expect_string(p, "a ca name");
	if (!conf_accept_kw(p, "cert")) {
		conf_expect_kw(p, "certificate");
		conf_mode_mark(p, 1, line, "ca certificate");
	}
	conf_ca_get(p, name, 1)->cert = conf_expect_string(p,
	    "a CA file path");
	conf_expect_nl(p, "the ca");
}

/*
 * conf_pki_read - the bytes of PATH once its owner and mode pass 6.8's
 * checks (owned by root when we run as root; no permission outside
 * MAXMODE); NULL with a reason.  The caller wipes and frees the buffer.
 */
static uint8_t *
conf_pki_read(const char *path, mode_t maxmode, size_t *lenp, char *why,
    size_t whysz)
{
	struct stat	 st;
	uint8_t		*buf = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	/* O_NONBLOCK: a FIFO must not hang the parse; only regular
	 * files pass the fstat() below */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		snprintf(why, whysz, "not a regular file");
	else if (geteuid() == 0 && st.st_uid != 0)
		snprintf(why, whysz, "not owned by root");
	else if ((st.st_mode & 0777 & ~maxmode) != 0)
		snprintf(why, whysz, "insecure permissions %04o, must be at "
		    "most %04o", (unsigned int)(st.st_mode & 0777),
		    (unsigned int)maxmode);
	else if (st.st_size > CONF_PKI_FILE_MAX)
		snprintf(why, whysz, "larger than %d bytes", CONF_PKI_FILE_MAX);
	else if ((buf = calloc(1, (size_t)st.st_size + 1)) == NULL)
		snprintf(why, whysz, "%s", strerror(errno));
	else {
		while (off < (size_t)st.st_size) {
			n = read(fd, buf + off, (size_t)st.st_size - off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		if (off == 0) {
			snprintf(why, whysz, "empty file");
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	*lenp = off;
	return buf;
}

/* conf_pki_wipe - forget a buffer that may hold a private key */
static void
conf_pki_wipe(uint8_t **bufp, size_t len)
{
	if (*bufp == NULL)
		return;
	explicit_bzero(*bufp, len);
	free(*bufp);
	*bufp = NULL;
}

/* conf_pki_check_pair - libtls accepts the chain and the key; 0 or -1 */
static int
conf_pki_check_pair(const uint8_t *cert, size_t certlen, const uint8_t *key,
    size_t keylen, char *why, size_t whysz)
{
	struct tls_config	*cfg;
	struct tls		*ctx = NULL;
	int			 r = -1;

	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL) {
		snprintf(why, whysz, "cannot set up libtls");
		return -1;
	}
	if (tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen) ==
	    -1)
		snprintf(why, whysz, "%s", tls_config_error(cfg));
	else if ((ctx = tls_server()) == NULL)
		snprintf(why, whysz, "cannot set up libtls");
	else if (tls_configure(ctx, cfg) == -1)
		snprintf(why, whysz, "%s", tls_error(ctx));
	else
		r = 0;
	tls_free(ctx);
	tls_config_free(cfg);	/* wipes libtls' copy of the key */
	return r;
}

/* conf_pki_error - an error at LINE of the file that declared it */
static void
conf_pki_error(struct conf_parser *p, const char *file, int line,
    const char *fmt, const char *name, const char *path, const char *why)
{
	const char	*saved = p->stmt_file;

	if (file != NULL)
		p->stmt_file = file;
	conf_error(p, line, fmt, name, path, why);
	p->stmt_file = saved;
}

/* conf_pki_load - cert and key of K must load and belong together */
static void
conf_pki_load(struct conf_parser *p, struct conf_pki *k)
{
	uint8_t	*cert = NULL, *key = NULL;
	size_t	 certlen = 0, keylen = 0;
	char	 why[512];
	int	 cline = k->cert_line ? k->cert_line : k->line;
	int	 kline = k->key_line ? k->key_line : k->line;

	if (k->cert == NULL)
		conf_pki_error(p, k->file, k->line, "pki %s: no certificate "
		    "(pki %s cert FILE)%s", k->name, k->name, "");
	else if ((cert = conf_pki_read(k->cert, CONF_CERT_MODE_MAX, &certlen,
	    why, sizeof(why))) == NULL)
		conf_pki_error(p, k->file, cline, "pki %s: certificate %s: %s",
		    k->name, k->cert, why);
	if (k->key == NULL)
		conf_pki_error(p, k->file, k->line, "pki %s: no key "
		    "(pki %s key FILE)%s", k->name, k->name, "");
	else if ((key = conf_pki_read(k->key, CONF_KEY_MODE_MAX, &keylen, why,
	    sizeof(why))) == NULL)
		conf_pki_error(p, k->file, kline, "pki %s: key %s: %s",
		    k->name, k->key, why);
	if (cert != NULL && key != NULL && conf_pki_check_pair(cert, certlen,
	    key, keylen, why, sizeof(why)) == -1)
		conf_pki_error(p, k->file, cline, "pki %s: certificate %s "
		    "with its key: %s", k->name, k->cert, why);
	conf_pki_wipe(&cert, certlen);
	conf_pki_wipe(&key, keylen);
}

/* conf_ca_load - the CA bundle of C is readable and holds certificates */
static void
conf_ca_load(struct conf_parser *p, struct conf_ca *c)
{
	uint8_t	*buf;
	size_t	 len = 0;
	char	 why[512];

	if (c->cert == NULL)
		return;
	if ((buf = conf_pki_read(c->cert, CONF_CERT_MODE_MAX, &len, why,
	    sizeof(why))) == NULL) {
		conf_pki_error(p, c->file, c->line, "ca %s: %s: %s", c->name,
		    c->cert, why);
		return;
	}
	/* libtls parses CA bundles only when a session verifies a peer;
	 * here, at least one PEM certificate must be there */
	if (strstr((char *)buf, "-----BEGIN CERTIFICATE-----") == NULL ||
	    strstr((char *)buf, "-----END CERTIFICATE-----") == NULL)
		conf_pki_error(p, c->file, c->line, "ca %s: %s: %s", c->name,
		    c->cert, "no PEM certificate in the file");
	conf_pki_wipe(&buf, len);
}

/* conf_pki_load_all - every declared pki and ca, as 6.8 loads them */
void
conf_pki_load_all(struct conf_parser *p)
{
	size_t	i;

	if (p->trusted)
		return;
	for (i = 0; i < p->conf->npkis; i++)
		conf_pki_load(p, p->conf->pkis[i]);
	for (i = 0; i < p->conf->ncas; i++)
		conf_ca_load(p, p->conf->cas[i]);
}

unsigned char *
conf_pki_read_cert(const char *path, size_t *lenp, char *why, size_t whysz)
{
	return conf_pki_read(path, CONF_CERT_MODE_MAX, lenp, why, whysz);
}

unsigned char *
conf_pki_read_key(const char *path, size_t *lenp, char *why, size_t whysz)
{
	return conf_pki_read(path, CONF_KEY_MODE_MAX, lenp, why, whysz);
}
